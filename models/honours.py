"""相关荣誉 as the 申报书 asks for it: 高新技术企业, 企业技术中心 and 重点实验室, each 国家级 or
省市级 with the year it was granted, and other honours (其他市级以上荣誉) in free text.

Stored as JSON in `Application.honours` (a TEXT column, the same on SQLite and PostgreSQL):
`HonoursJSON` validates every value through `Honours` on the way in and returns the plain
mapping (`{"high_tech": {"level": "国家级", "year": 2020}, "other": "…"}`) on the way out.
"""

import json
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import Text, TypeDecorator

TITLES = {"high_tech": "高新技术企业", "tech_centre": "企业技术中心", "key_lab": "重点实验室"}
LEVELS = ("国家级", "省市级")
OTHER_LABEL = "其他市级以上荣誉"
FIRST_YEAR, LAST_YEAR = 1949, 2100
OTHER_MAX_LENGTH = 2000
# the intake sheet's columns for the parts, by dotted key (one column per part and attribute)
COLUMNS = {
    **{f"honours.{k}.{attr}": f"相关荣誉·{name}（{label}）"
       for k, name in TITLES.items() for attr, label in (("level", "级别"), ("year", "授予年份"))},
    "honours.other": f"相关荣誉·{OTHER_LABEL}",
}


class Honour(BaseModel):
    """One title held: its level and the year it was granted (授予年份)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    level: Literal["国家级", "省市级"]
    year: int = Field(ge=FIRST_YEAR, le=LAST_YEAR)


class Honours(BaseModel):
    """The 相关荣誉 of an applicant; a title not held is absent."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    high_tech: Honour | None = None
    tech_centre: Honour | None = None
    key_lab: Honour | None = None
    other: str | None = Field(None, max_length=OTHER_MAX_LENGTH)

    def plain(self) -> dict | None:
        """Return the JSON-ready mapping without the parts left empty; None when all are."""
        return self.model_dump(mode="json", exclude_none=True) or None


class HonoursJSON(TypeDecorator):
    """A `Honours` mapping kept as JSON text; refuses anything `Honours` does not accept."""

    impl = Text
    cache_ok = True

    def process_bind_param(self, value, dialect):
        if value is None:
            return None
        plain = (value if isinstance(value, Honours) else Honours.model_validate(value)).plain()
        return json.dumps(plain, ensure_ascii=False, sort_keys=True) if plain else None

    def process_result_value(self, value, dialect):
        return None if value is None else json.loads(value)

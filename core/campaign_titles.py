"""`[title_rules]` of a campaign file: 名单动态调整 ([MIIT] 四(四)).

The kinds of major change a title holder reports in writing (`changes`) and the grounds on
which a title is revoked and announced (`revoke_grounds`), each keyed by a short identifier
that commands and the list's history use, with the notice's wording in Chinese and English.
"""

from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, model_validator

# The key is stored as TitleEvent.detail (at most 32 characters).
RuleKey = Annotated[str, StringConstraints(pattern=r"^[a-z][a-z0-9_]*$", max_length=32)]


class TitleRule(BaseModel):
    """One kind of change or ground for revocation, as the notice words it."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    zh: str = Field(min_length=1)
    en: str = Field(min_length=1)


class TitleRules(BaseModel):
    """What may happen to a title after the final list; empty: the campaign file names none."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    changes: dict[RuleKey, TitleRule] = {}
    revoke_grounds: dict[RuleKey, TitleRule] = {}

    @model_validator(mode="after")
    def _keys_distinct(self):
        both = sorted(set(self.changes) & set(self.revoke_grounds))
        if both:
            raise ValueError(f"changes 与 revoke_grounds 的键不能相同：{', '.join(both)} / a key may not be both "
                             f"a change and a revocation ground: {', '.join(both)}")
        return self

    def name(self, key: str | None) -> tuple[str, str]:
        """(zh, en) of a change or ground; the key itself for one no longer in the file."""
        if not key:
            return "", ""
        rule = self.changes.get(key) or self.revoke_grounds.get(key)
        return (rule.zh, rule.en) if rule else (key, key)

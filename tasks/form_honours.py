"""Read the 相关荣誉 of an intake record into `models.honours.Honours`, with an error per part.

Accepted: a mapping by part (`high_tech` / `高新技术企业`, `tech_centre` / `企业技术中心`,
`key_lab` / `重点实验室`, each `{level / 级别: 国家级|省市级, year / 授予年份: 2020}`, and
`other` / `其他市级以上荣誉`: text), or plain text, read as the other honours (files written
before the parts were typed). Pure: no I/O.
"""

import math
import unicodedata
from decimal import Decimal

from models.forms import FormField
from models.honours import (
    FIRST_YEAR,
    LAST_YEAR,
    LEVELS,
    OTHER_LABEL,
    OTHER_MAX_LENGTH,
    TITLES,
    Honours,
)
from tasks.form_values import BadValue, describe, kind_of, printable, to_text

PARTS = {**{k: k for k in TITLES}, **{v: k for k, v in TITLES.items()},
         "other": "other", "其他": "other", OTHER_LABEL: "other"}
LEVEL_NAMES = ("level", "级别")
YEAR_NAMES = ("year", "授予年份", "年份")


class BadValues(BadValue):
    """Several problems in one structured value: (field key, zh, en) each."""

    def __init__(self, problems: list[tuple[str, str, str]]) -> None:
        self.problems = problems
        super().__init__(problems[0][1], problems[0][2])


def _fold(name: object) -> str | None:
    if not isinstance(name, str) or len(name) > 100:
        return None
    return "".join(unicodedata.normalize("NFKC", name).split()).casefold()


FOLDED_PARTS = {_fold(k): v for k, v in PARTS.items()}


def to_honours(field: FormField, raw: object) -> dict | None:
    """Return the honours as a plain mapping (None if none are given); raise BadValues per part."""
    if isinstance(raw, Honours):
        return raw.plain()
    if isinstance(raw, str):
        raw = {"other": raw}
    if not isinstance(raw, dict):
        raise BadValues([(field.key, f"「{field.label}」应按部分填写（高新技术企业、企业技术中心、重点实验室、其他）",
                          f"{field.key}: expected its parts, got {kind_of(raw)}")])
    values: dict[str, object] = {}
    problems: list[tuple[str, str, str]] = []
    for name, value in raw.items():
        part = FOLDED_PARTS.get(_fold(name))
        if part is None:
            problems.append((f"{field.key}.{printable(name, 20)}", f"「{field.label}」没有“{printable(name, 20)}”这一项",
                             f"{field.key}: no part {printable(name, 20)}"))
        elif part in values:
            problems.append((f"{field.key}.{part}", f"「{field.label}」的 {part} 重复填写", f"{field.key}.{part}: given twice"))
        elif part == "other":
            values[part] = _other(field, value, problems)
        else:
            values[part] = _title(field, part, value, problems)
    if problems:
        raise BadValues(problems)
    return Honours.model_validate({k: v for k, v in values.items() if v is not None}).plain()


def _other(field: FormField, value: object, problems: list) -> str | None:
    if value is None or isinstance(value, str) and not value.strip():
        return None
    other = FormField(f"{field.key}.other", f"{field.label}·{OTHER_LABEL}", "text", max_length=OTHER_MAX_LENGTH)
    try:
        return to_text(other, value)
    except BadValue as bad:
        problems.append((other.key, bad.zh, bad.en))
        return None


def _title(field: FormField, part: str, value: object, problems: list) -> dict | None:
    """One title: level and year, both given or both empty."""
    key, label = f"{field.key}.{part}", f"{field.label}·{TITLES[part]}"
    if value is None or isinstance(value, str) and not value.strip():
        return None  # the title is not held
    if not isinstance(value, dict):
        problems.append((key, f"「{label}」应填写级别与授予年份，实为{describe(value)}",
                         f"{key}: expected {{level, year}}, got {kind_of(value)}"))
        return None
    named = {_fold(k): v for k, v in value.items()}
    unknown = set(named) - {_fold(n) for n in LEVEL_NAMES + YEAR_NAMES}
    if unknown:
        problems.append((key, f"「{label}」只有“级别”与“授予年份”两项", f"{key}: only level and year"))
        return None
    level = next((named[_fold(n)] for n in LEVEL_NAMES if _fold(n) in named), None)
    year = next((named[_fold(n)] for n in YEAR_NAMES if _fold(n) in named), None)
    level = level.strip() if isinstance(level, str) else level
    empty = [v is None or v == "" for v in (level, year)]
    if all(empty):
        return None
    before = len(problems)
    if empty[0] or empty[1]:
        missing, en = ("级别", "level") if empty[0] else ("授予年份", "year")
        problems.append((f"{key}.{en}", f"「{label}」未填写{missing}（级别与授予年份须同时填写）",
                         f"{key}.{en}: missing (give both level and year)"))
        return None
    if level not in LEVELS:
        problems.append((f"{key}.level", f"「{label}」级别须为“国家级”或“省市级”，实为{describe(level)}",
                         f"{key}.level: must be 国家级 (national) or 省市级 (provincial/municipal)"))
    parsed = _year(year)
    if parsed is None:
        problems.append((f"{key}.year", f"「{label}」授予年份应为 {FIRST_YEAR}–{LAST_YEAR} 之间的年份，实为{describe(year)}",
                         f"{key}.year: expected a year between {FIRST_YEAR} and {LAST_YEAR}"))
    return {"level": level, "year": parsed} if len(problems) == before else None


def _year(raw: object) -> int | None:
    """A year as a whole number (2020, 2020.0, "2020", "2020年"), else None."""
    if isinstance(raw, bool):
        return None
    if isinstance(raw, str):
        text = raw.strip().removesuffix("年").strip()
        raw = int(text) if text.isascii() and text.isdigit() and len(text) == 4 else None
    elif isinstance(raw, float) and math.isfinite(raw) or isinstance(raw, Decimal) and raw.is_finite():
        raw = int(raw) if raw == int(raw) else None
    return raw if isinstance(raw, int) and FIRST_YEAR <= raw <= LAST_YEAR else None

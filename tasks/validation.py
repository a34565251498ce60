"""The form and hard rules of an application (申报书), as pure functions.

`validate_application(values, config=, direction=)` checks one application's fields against
the field catalogue (`models.forms`) and the campaign's direction: required fields
(including the conditional ones), types, formats, text limits and the hard eligibility
rules (e.g. MAU ≥ 1亿, area ≥ 300 m²). Intake runs it before filing; the formal review
re-runs it on stored applications through `application_values(app)`.
Rules that need the database or the receiving unit (deadline, region, duplicates,
attachments) live in `tasks.intake_checks`.
"""

import hashlib
import unicodedata
from collections.abc import Mapping

from core.campaign import CampaignConfig, Direction
from core.errors import FieldError
from models import Application
from models.forms import BY_KEY, FIELDS, FormField, form_fields
from tasks.form_values import BadValue, coerce, describe, printable

__all__ = [
    "application_values", "dedup_key", "normalise_project_name", "parse_application",
    "registered_in", "text_length", "validate_application",
]


def validate_application(values: Mapping, *, config: CampaignConfig, direction: str) -> list[FieldError]:
    """Return every problem with one application's fields (empty when it may be filed)."""
    return parse_application(values, config=config, direction=direction)[1]


def parse_application(values: Mapping, *, config: CampaignConfig,
                      direction: object) -> tuple[dict[str, object], list[FieldError]]:
    """Return the typed values of an application and every problem found in them."""
    spec = config.directions.get(direction) if isinstance(direction, str) else None
    fields = form_fields(spec.form) if spec else BY_KEY
    clean, errors = _coerce_all(values, fields)
    if spec is None:
        return clean, [_unknown_direction(config, direction), *errors]
    failed = {e.field for e in errors}
    errors += missing_fields(clean, fields, skip=failed)
    errors += text_limit_problems(clean, fields, spec)
    errors += rule_problems(clean, spec)
    errors += consistency_problems(clean)
    return clean, errors


def _unknown_direction(config: CampaignConfig, direction: object) -> FieldError:
    known = "、".join(f"{key}（{d.name}）" for key, d in config.directions.items())
    if direction is None or direction == "":
        return FieldError("direction", f"未填写申报方向，可选：{known}",
                          f"no direction given; choose one of {', '.join(config.directions)}")
    return FieldError("direction", f"未知的申报方向 {describe(direction)}，可选：{known}",
                      f"unknown direction; choose one of {', '.join(config.directions)}")


def _coerce_all(values: Mapping, fields: Mapping[str, FormField]) -> tuple[dict, list[FieldError]]:
    clean: dict[str, object] = {}
    errors: list[FieldError] = []
    for key, raw in values.items():
        field = fields.get(key)
        if field is None:
            errors.extend(_foreign_field(key, raw))
            continue
        try:
            value = coerce(field, raw)
        except BadValue as bad:  # a structured field (相关荣誉) may name several of its parts
            errors += [FieldError(*p) for p in getattr(bad, "problems", [(key, bad.zh, bad.en)])]
            continue
        if value is not None:
            clean[key] = value
    return clean, errors


def _foreign_field(key: object, raw: object) -> list[FieldError]:
    """A key outside this form: unknown, or belonging to the other direction's form."""
    if key not in BY_KEY:
        return [FieldError(printable(key), f"申报书中没有栏目 “{printable(key, 20)}”", "the form has no such field")]
    if raw is None or (isinstance(raw, str) and not raw.strip()):
        return []
    label = BY_KEY[key].label
    return [FieldError(key, f"「{label}」不属于本方向的申报书（是否选错了方向？）",
                       f"{key} is not part of this direction's form (wrong direction?)")]


def is_required(field: FormField, clean: Mapping[str, object]) -> bool:
    """Whether a field must be filled, given the other answers (e.g. 上市时间 only if listed)."""
    rule = field.required
    if isinstance(rule, bool):
        return rule
    condition = rule.removeprefix("if:")
    if "=" in condition:
        other, wanted = condition.split("=", 1)
        return clean.get(other) == wanted
    return clean.get(condition) is True


def missing_fields(clean: Mapping, fields: Mapping[str, FormField], *, skip: set[str]) -> list[FieldError]:
    """Return an error for each required field left empty ("栏目不得空缺")."""
    return [FieldError(f.key, f"「{f.label}」未填写（必填）", f"{f.key}: required but empty")
            for f in fields.values()
            if f.key not in clean and f.key not in skip and is_required(f, clean)]


def text_length(text: str) -> int:
    """Count the characters of a text the way a 字数 limit does: whitespace not counted."""
    return sum(1 for ch in text if not ch.isspace())


def text_limit_problems(clean: Mapping, fields: Mapping[str, FormField], spec: Direction) -> list[FieldError]:
    """Return an error for each text over the campaign's limit (e.g. 简介 ≤ 500 字)."""
    out = []
    for key, limit in spec.text_limits.items():
        value = clean.get(key)
        if isinstance(value, str) and (n := text_length(value)) > limit:
            label = fields[key].label if key in fields else key
            out.append(FieldError(key, f"「{label}」超过 {limit} 字（现为 {n} 字）",
                                  f"{key}: over the limit of {limit} characters ({n})"))
    return out


def rule_problems(clean: Mapping, spec: Direction) -> list[FieldError]:
    """Return an error for each hard eligibility rule the numbers break (min/max)."""
    out = []
    for rule in spec.rules:
        value = clean.get(rule.field)
        if value is None:
            continue
        low = rule.min is not None and value < rule.min
        high = rule.max is not None and value > rule.max
        if low or high:
            shown = f"{value.normalize():f}" if hasattr(value, "normalize") else str(value)
            out.append(FieldError(rule.field, f"{rule.zh}（填报值 {shown}）", f"{rule.en} (given {shown})"))
    return out


def consistency_problems(clean: Mapping) -> list[FieldError]:
    """Return errors for answers that contradict each other."""
    start, end = clean.get("construction_start"), clean.get("construction_end")
    if start is not None and end is not None and end < start:
        return [FieldError("construction_end", "「建设结束日期」早于建设开始日期",
                           "construction_end: before construction_start")]
    return []


def application_values(app: Application) -> dict[str, object]:
    """Return a stored application's form values, keyed like the catalogue (for re-validation)."""
    return {f.key: getattr(app, f.key) for f in FIELDS if getattr(app, f.key) is not None}


def normalise_project_name(name: str) -> str:
    """Reduce a project name to letters and digits (NFKC, case-folded) for duplicate detection."""
    folded = unicodedata.normalize("NFKC", name).casefold()
    return "".join(ch for ch in folded if ch.isalnum())


def dedup_key(uscc: str, project_name: str) -> str:
    """Return the campaign-wide duplicate key: sha256 of USCC and normalised project name."""
    body = f"{uscc.strip().upper()}\n{normalise_project_name(project_name)}"
    return hashlib.sha256(body.encode()).hexdigest()


def registered_in(uscc: str, region: str) -> bool:
    """Whether a USCC's registration division code (characters 3–8) lies in `region`."""
    return uscc[2:8].startswith(region)

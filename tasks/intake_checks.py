"""The intake rules that need more than the form: the receiving unit, its deadline and
region, duplicates in the campaign, and the attachments on disk.

Each check returns FieldErrors located at the record's file and row; none writes anything.
"""

import unicodedata
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from core.campaign import CampaignConfig
from core.clock import fmt, to_utc
from core.errors import FieldError
from models import Campaign, Stage, Unit
from models.forms import ATTACHMENT_KINDS, ATTACHMENT_NAMES_EN
from tasks.attachments import sha256_file
from tasks.form_values import describe
from tasks.intake_records import AttachmentRef, IntakeRecord, normalise_header
from tasks.validation import registered_in

OPEN_STATES = ("open", "collecting")
REFILE_STATES = ("open", "collecting", "reviewing", "scoring", "awaiting_approval")
MAX_ATTACHMENT_BYTES = 64 << 20
MAX_ATTACHMENTS = 50


@dataclass(frozen=True)
class CheckedAttachment:
    """An attachment found on disk, with its hash."""

    kind: str
    path: Path
    file_name: str
    sha256: str
    size: int


@dataclass
class IntakeContext:
    """What the checks need to know about the campaign, loaded once per file."""

    campaign: Campaign
    config: CampaignConfig
    units: dict[str, Unit]
    stages: dict[str, Stage]
    now: datetime
    # applications returned to the applicant (退回修改) by the unit they were filed with:
    # dedup key → (application id, unit code); see tasks/intake_refile.py
    returned: dict[str, tuple[int, str]] = field(default_factory=dict)


@dataclass
class Plan:
    """A checked application: ready to be written when `errors` is empty."""

    record: IntakeRecord
    values: dict[str, object]
    direction: str
    unit_code: str
    dedup_key: str | None
    attachments: list[CheckedAttachment] = field(default_factory=list)
    errors: list[FieldError] = field(default_factory=list)
    refile: int | None = None  # the returned application this record revises


def resolve_direction(config: CampaignConfig, raw: object) -> object:
    """Return the direction key for a key or a direction's Chinese name; other values unchanged."""
    if not isinstance(raw, str):
        return raw
    folded = normalise_header(raw)
    for key, spec in config.directions.items():
        if folded in (normalise_header(key), normalise_header(spec.name)):
            return key
    return raw


def unit_code_of(raw: object) -> str | None:
    """Return a unit code as text (a spreadsheet may hold 440100 as a number)."""
    if isinstance(raw, bool):
        return None
    if isinstance(raw, int) or isinstance(raw, float) and raw.is_integer():
        return str(int(raw))
    return raw.strip() if isinstance(raw, str) and len(raw) <= 64 else None


def effective_deadline(unit_deadline: datetime, extended_until: datetime | None) -> datetime:
    """Return max(Unit.deadline, Stage.extended_until), aware UTC."""
    deadline = to_utc(unit_deadline)
    return max(deadline, to_utc(extended_until)) if extended_until is not None else deadline


def check_unit(record: IntakeRecord, ctx: IntakeContext, *, refile: bool = False) -> tuple[str | None, list[FieldError]]:
    """Check the receiving unit: known, accepting applications, its stage open, before its deadline.

    A revision the unit asked for (`refile`) is taken until the unit has approved its list."""
    code = unit_code_of(record.unit)
    if code is None or code == "":
        return None, [record.error("unit", "未填写推荐单位代码（受理单位）", "no receiving unit code given")]
    unit = ctx.units.get(code)
    if unit is None:
        return None, [record.error("unit", f"未知的推荐单位代码 {describe(code)}", "unknown receiving unit code")]
    if not unit.accepts_applications:
        return None, [record.error("unit", f"{unit.name}（{code}）不直接受理企业申报",
                                   f"unit {code} does not accept applications")]
    errors = []
    stage = ctx.stages.get(code)
    if refile and stage is not None and stage.state in REFILE_STATES:
        return code, []
    if stage is None or stage.state not in OPEN_STATES:
        state = stage.state if stage else "missing"
        errors.append(record.error("unit", f"{unit.name}已停止受理申报（阶段状态 {state}）",
                                   f"unit {code} no longer takes applications (stage {state})"))
    deadline = effective_deadline(unit.deadline, stage.extended_until if stage else None)
    if ctx.now > deadline:
        errors.append(record.error("unit", f"已过{unit.name}的受理截止时间 {fmt(deadline)}（当前 {fmt(ctx.now)}）",
                                   f"past unit {code}'s deadline {fmt(deadline)} (now {fmt(ctx.now)}, Asia/Shanghai)"))
    return code, errors


def check_region(record: IntakeRecord, config: CampaignConfig, code: str, uscc: object) -> list[FieldError]:
    """Check that the applicant is registered within the receiving unit's region, if it has one."""
    region = config.unit(code).region if code in {u.code for u in config.units} else None
    if not region or not isinstance(uscc, str) or registered_in(uscc, region):
        return []
    name = config.unit(code).name
    return [record.error("uscc", f"申报单位注册地（统一社会信用代码第 3–8 位 {uscc[2:8]}）不在{name}辖区（{region}）",
                         f"the applicant is registered in {uscc[2:8]}, outside region {region} of unit {code}")]


def required_attachments(config: CampaignConfig, direction: object) -> tuple[str, ...]:
    """Return the attachment kinds a direction requires (campaign `required_attachments`).

    For an unknown direction: the kinds every direction requires.
    """
    spec = config.directions.get(direction) if isinstance(direction, str) else None
    if spec is not None:
        return tuple(spec.required_attachments)
    every = [set(d.required_attachments) for d in config.directions.values()]
    return tuple(sorted(set.intersection(*every))) if every else ()


def missing_attachment(kind: str, *, file: str | None = None, row: int | None = None) -> FieldError:
    """Return the error for a required attachment that is missing."""
    return FieldError(kind, f"缺少{kind}：{ATTACHMENT_KINDS[kind]}",
                      f"{kind} ({ATTACHMENT_NAMES_EN[kind]}) is missing", file=file, row=row)


def check_attachments(record: IntakeRecord,
                      required: tuple[str, ...] = ()) -> tuple[list[CheckedAttachment], list[FieldError]]:
    """Check every named attachment exists (inside the file's folder) and matches its sha256,
    and that every `required` kind is there."""
    found, errors = [], []
    if len(record.attachments) > MAX_ATTACHMENTS:
        return [], [record.error("attachments", f"附件过多（上限 {MAX_ATTACHMENTS} 个）",
                                 f"too many attachments (at most {MAX_ATTACHMENTS})")]
    for ref in record.attachments:
        item, problem = _check_one(record, ref)
        if problem:
            errors.append(problem)
        elif (item.kind, item.file_name) in {(a.kind, a.file_name) for a in found}:
            errors.append(record.error(ref.kind, f"{ref.kind} 文件名重复：{describe(item.file_name)}",
                                       f"{ref.kind}: the same file name twice"))
        else:
            found.append(item)
    for kind in required:
        if not any(ref.kind == kind for ref in record.attachments):
            errors.append(missing_attachment(kind, file=record.file, row=record.row))
    return found, errors


def _check_one(record: IntakeRecord, ref: AttachmentRef) -> tuple[CheckedAttachment | None, FieldError | None]:
    path = _inside(record.base_dir, ref.path)
    if path is None:
        return None, record.error(ref.kind, f"{ref.kind} 路径无效或不在申报文件所在文件夹内：{describe(ref.path)}",
                                  f"{ref.kind}: invalid path, or outside the intake file's folder")
    if not path.is_file():
        return None, record.error(ref.kind, f"{ref.kind} 文件不存在：{describe(ref.path)}",
                                  f"{ref.kind}: file not found")
    if path.stat().st_size > MAX_ATTACHMENT_BYTES:
        return None, record.error(ref.kind, f"{ref.kind} 文件过大（上限 {MAX_ATTACHMENT_BYTES >> 20} MB）",
                                  f"{ref.kind}: file too large (at most {MAX_ATTACHMENT_BYTES >> 20} MB)")
    sha, size = sha256_file(path)
    if ref.sha256 is not None and ref.sha256 != sha:
        return None, record.error(ref.kind, f"{ref.kind} 文件的 sha256 与申报文件所填不符：{describe(ref.path)}",
                                  f"{ref.kind}: sha256 does not match the file")
    return CheckedAttachment(ref.kind, path, path.name, sha, size), None


def _inside(base: Path, relative: str) -> Path | None:
    """Resolve a path relative to `base`; None if it is malformed or leaves `base`."""
    if len(relative) > 1000 or any(unicodedata.category(ch) in ("Cc", "Cs") for ch in relative):
        return None
    try:
        root = base.resolve()
        path = (root / relative).resolve()
    except (OSError, ValueError, RuntimeError):
        return None
    if not path.is_relative_to(root) or len(path.name) > 255:
        return None
    return path


def duplicate_problems(plans: list[Plan], filed: dict[str, str]) -> list[FieldError]:
    """Flag applications already filed in the campaign (`filed`: dedup key → reference) or repeated."""
    errors, first_row = [], {}
    for plan in plans:
        rec = plan.record
        if plan.dedup_key is None:
            continue
        if plan.dedup_key in filed and plan.refile is None:
            errors.append(rec.error("project_name", f"该企业的同名项目已申报（申报编号 {filed[plan.dedup_key]}）",
                                    f"this enterprise already filed this project ({filed[plan.dedup_key]})"))
        elif plan.dedup_key in first_row:
            errors.append(rec.error("project_name", f"与本文件第 {first_row[plan.dedup_key]} 条重复（同一企业、同一项目）",
                                    f"duplicate of record {first_row[plan.dedup_key]} in this file (same enterprise and project)"))
        else:
            first_row[plan.dedup_key] = rec.row
    return errors

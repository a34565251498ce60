"""Approval by a unit's official through a flow run input, checked before it counts.

Open-source Prefect does not know who resumed a run, so identity is ours: the input names
an official of this unit (from the campaign file) and carries a one-time code issued to
them for this stage and round. Codes are stored only as salted hashes, expire, and are
burnt by any use. After `[approval] max_failed` wrong attempts (campaign file) the stage
locks and the parent unit is told. Every attempt, accepted or refused, is audited — whatever
it holds: an input that does not fit the form is refused and counted like a wrong code, and
what the audit keeps of it is cut to size. Timeouts escalate, never approve.
"""

import hashlib
import hmac
import math
import re
import secrets
from dataclasses import dataclass
from datetime import timedelta
from typing import Annotated, Literal

from prefect.input import RunInput
from pydantic import Field, ValidationError, field_validator
from sqlmodel import Session, select

from core.clock import to_utc
from models import Application, ApprovalCode, Entry
from tasks.audit import record
from tasks.double_track import check_double_track
from tasks.selection import apply_decision, check_proposal, passes_through
from tasks.stages import StageContext, stage_entries

CODE_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"
ACTOR_MAX = 100  # AuditLog.actor
# NUL and other controls but tab and newlines (PostgreSQL text refuses NUL), lone surrogates (not UTF-8)
_UNPRINTABLE = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\ud800-\udfff]")


def clean_text(text: str) -> str:
    """Text without the characters no database column or hash can take."""
    return _UNPRINTABLE.sub("", text)

Reference = Annotated[str, Field(max_length=100)]


class ApprovalInput(RunInput):
    """The form an official fills in to approve, reject or edit a stage's list."""

    official: str = Field(title="审批人编号 / official id", max_length=64)
    code: str = Field(title="一次性审批码 / one-time approval code", max_length=64)
    decision: Literal["approve", "reject", "edit"] = Field("approve", title="决定 / decision (approve 同意 · reject 驳回 · edit 修改名单)")
    reason: str = Field("", title="理由（驳回或修改时填写）/ reason", max_length=2000)
    selection: list[Reference] = Field(default_factory=list, max_length=2000, title="修改后的名单：申报编号，可加 :extra 或 :direct / edited list of references")
    override_double_track: bool = Field(False, title="纸质材料或网上登记未齐仍同意（须填写理由）/ approve although paper copies or online registration are missing (reason required)")

    @field_validator("official", "code", "reason")
    @classmethod
    def _printable(cls, value: str) -> str:
        return clean_text(value)

    @field_validator("selection")
    @classmethod
    def _printable_items(cls, value: list[str]) -> list[str]:
        return [clean_text(v) for v in value]


@dataclass(frozen=True)
class Outcome:
    kind: Literal["approved", "rejected", "refused", "locked"]
    zh: str
    en: str


def pause_key(ctx: StageContext) -> str:
    """A key unique to each wait, so every input is processed exactly once."""
    return f"approval-r{ctx.stage.round}-i{ctx.stage.inputs_seen}"


def code_hash(salt: str, code: str) -> str:
    return salt + "$" + hashlib.sha256(f"{salt}:{code.strip().upper()}".encode()).hexdigest()


def _matches(stored: str, code: str) -> bool:
    salt = stored.split("$", 1)[0]
    return hmac.compare_digest(stored, code_hash(salt, code))


def issue_codes(session: Session, ctx: StageContext) -> dict[str, str]:
    """Issue one code per official for the current round; {} when this round already has them."""
    existing = session.exec(select(ApprovalCode).where(ApprovalCode.stage_id == ctx.stage.id,
                                                       ApprovalCode.round == ctx.stage.round)).first()
    if existing is not None:
        return {}
    rules = ctx.config.approval
    hours = max(ctx.spec.approval_timeout_hours, rules.code_valid_min_hours) * rules.code_valid_factor
    codes, now = {}, ctx.now
    for official in ctx.spec.officials:
        code = "".join(secrets.choice(CODE_ALPHABET) for _ in range(rules.code_length))
        session.add(ApprovalCode(stage_id=ctx.stage.id, official_key=official.id, round=ctx.stage.round,
                                 code_hash=code_hash(secrets.token_hex(8), code), issued_at=now,
                                 expires_at=now + timedelta(hours=hours)))
        codes[official.id] = code
    record(session, actor="system", action="approval.codes_issued", obj=ctx.stage, at=ctx.now,
           after={"round": ctx.stage.round, "officials": sorted(codes)}, campaign_id=ctx.campaign.id)
    return codes


def apply_approval(session: Session, ctx: StageContext, value: dict) -> Outcome:
    """Check an approval input and, if it holds, record the decision; refusals are audited."""
    stage = ctx.stage
    stage.inputs_seen += 1
    attempt = recordable(value)
    if stage.locked:
        return _refuse(session, ctx, attempt, "locked", "环节已锁定，请联系上级单位解锁", "the stage is locked; ask the parent unit to unlock it", count=False)
    try:
        value = ApprovalInput.model_validate(value).model_dump(mode="json")
    except ValidationError:  # only a caller that bypassed the form (and Prefect's check of it)
        return _refuse(session, ctx, attempt, "invalid_input", "输入不符合审批表格式", "the input does not fit the approval form")
    if value["official"] not in {o.id for o in ctx.spec.officials}:
        return _refuse(session, ctx, attempt, "wrong_official", "审批人不是本单位的审批人员", "the approver is not an official of this unit")
    code = _valid_code(session, ctx, value["official"], value.get("code") or "")
    if code is None:
        return _refuse(session, ctx, attempt, "bad_code", "审批码错误、已过期或已使用", "the approval code is wrong, expired or already used")
    code.used_at = ctx.now
    session.add(code)
    return _decide(session, ctx, value, attempt)


def _valid_code(session: Session, ctx: StageContext, official: str, code: str) -> ApprovalCode | None:
    rows = session.exec(select(ApprovalCode).where(ApprovalCode.stage_id == ctx.stage.id,
                                                   ApprovalCode.official_key == official,
                                                   ApprovalCode.round == ctx.stage.round))
    for row in rows:
        if row.used_at is None and to_utc(row.expires_at) > ctx.now and _matches(row.code_hash, code):
            return row
    return None


def _decide(session: Session, ctx: StageContext, value: dict, attempt: dict) -> Outcome:
    decision, reason = value.get("decision", "approve"), (value.get("reason") or "").strip()
    if decision == "reject":
        if not reason:
            return _refuse(session, ctx, attempt, "no_reason", "驳回须填写理由", "a rejection needs a reason", burnt=True)
        ctx.stage.state, ctx.stage.proposal = "reviewing", None
        ctx.stage.round += 1
        session.add(ctx.stage)
        record(session, actor=value["official"], action="approval.reject", obj=ctx.stage, at=ctx.now,
               after={"reason": reason}, campaign_id=ctx.campaign.id)
        return Outcome("rejected", f"已驳回：{reason}", f"rejected: {reason}")
    proposal = ctx.stage.proposal or []
    if decision == "edit":
        proposal, problems = _edited(session, ctx, value.get("selection") or [])
        if problems:
            zh, en = "；".join(p[0] for p in problems), "; ".join(p[1] for p in problems)
            return _refuse(session, ctx, attempt, "over_quota", zh, en, burnt=True)
    blocked = check_double_track(session, ctx, proposal, override=bool(value.get("override_double_track")),
                                 reason=reason, actor=value["official"])
    if blocked is not None:
        return _refuse(session, ctx, attempt, *blocked, burnt=True)
    apply_decision(session, ctx, proposal, actor=value["official"])
    ctx.stage.state, ctx.stage.proposal = "approved", proposal
    ctx.stage.approved_by, ctx.stage.approved_at = value["official"], ctx.now
    session.add(ctx.stage)
    record(session, actor=value["official"], action="approval.approve", obj=ctx.stage, at=ctx.now,
           after={"decision": decision, "reason": reason, "entries": len(proposal)},
           campaign_id=ctx.campaign.id)
    return Outcome("approved", f"已审批同意，共 {len(proposal)} 项", f"approved: {len(proposal)} entries")


def _edited(session: Session, ctx: StageContext, selection: list[str]) -> tuple[list[dict], list]:
    by_ref = {}
    for e in stage_entries(session, ctx, "eligible", "selected", "not_selected"):
        by_ref[session.get(Application, e.application_id).reference] = e
    proposal, problems = [], []
    for item in selection:
        ref, _, kind = item.strip().partition(":")
        entry: Entry | None = by_ref.get(ref)
        if entry is None:
            problems.append((f"申报编号 {ref} 不在本环节的合格名单中", f"reference {ref} is not an eligible entry here"))
            continue
        through = entry.passthrough if passes_through(entry, ctx.unit) else None
        proposal.append({"entry": entry.id, "kind": kind or through or "base"})
    return proposal, problems + check_proposal(session, ctx, proposal)


def _refuse(session: Session, ctx: StageContext, attempt: dict, why: str, zh: str, en: str,
            *, count: bool = True, burnt: bool = False) -> Outcome:
    """Record a refused input; wrong identities/codes count towards the lock, burnt codes start a new round."""
    stage = ctx.stage
    if burnt:
        stage.round += 1
    elif count:
        stage.failed_attempts += 1
    kind = "refused"
    if count and not burnt and stage.failed_attempts >= ctx.config.approval.max_failed and not stage.locked:
        stage.locked, kind = True, "locked"
        from tasks.messages import queue_lockout

        queue_lockout(session, stage)
    session.add(stage)
    official = attempt.get("official")
    actor = official[:ACTOR_MAX] if isinstance(official, str) and official else "unknown"
    record(session, actor=actor, action=f"approval.refused.{why}",
           obj=stage, at=ctx.now, after={"input": attempt, "zh": zh, "en": en, "locked": stage.locked},
           campaign_id=ctx.campaign.id)
    return Outcome(kind, zh, en)


def recordable(value: object, *, text_max: int = 2000, items_max: int = 200) -> dict:
    """What an input tried, fit for the audit log: never the code, strings cut short and
    without control characters, lists and mappings bounded, numbers finite."""
    if not isinstance(value, dict):
        return {"input": _fit(value, text_max, items_max)}
    kept = [(k, v) for k, v in value.items() if k != "code"][:items_max]
    return {_fit(str(k), 64, 0): _fit(v, text_max, items_max) for k, v in kept}


def _fit(value: object, text_max: int, items_max: int):
    if value is None or isinstance(value, bool | int):
        return value if not isinstance(value, int) or abs(value) < 2**53 else str(value)[:40]
    if isinstance(value, float):
        return value if math.isfinite(value) else str(value)
    if isinstance(value, str):
        return clean_text(value)[:text_max]
    if isinstance(value, list | tuple):
        return [_fit(v, 200, 0) for v in value[:items_max]]
    return _fit(repr(value), 200, 0)


def unlock(session: Session, ctx: StageContext, *, actor: str, reason: str) -> None:
    """Unlock a locked stage (a coordinator's act): new round, fresh codes."""
    ctx.stage.locked, ctx.stage.failed_attempts = False, 0
    ctx.stage.round += 1
    session.add(ctx.stage)
    record(session, actor=actor, action="approval.unlock", obj=ctx.stage, at=ctx.now,
           after={"reason": reason}, campaign_id=ctx.campaign.id)

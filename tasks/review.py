"""形式审查: re-check the hard rules on everything a stage collected, and 退回修改 (returns).

A return queues its notices (applicant; the lower unit's contacts when it goes back to the
sender) in the same transaction.
"""

from sqlmodel import Session, select

from core.errors import Conflict, NotFound
from models import Application, Attachment, Entry, Stage
from tasks.audit import AuditEvent, record, record_many
from tasks.messages import queue_return_notices
from tasks.stages import StageContext, load_stage_by_id, stage_entries


def review_entries(session: Session, ctx: StageContext, *, actor: str = "system") -> dict[str, int]:
    """Judge every newly arrived entry eligible or ineligible, with the reasons; return counts."""
    from tasks.validation import application_values, validate_application

    counts = {"eligible": 0, "ineligible": 0}
    entries = stage_entries(session, ctx, "received")
    apps = _applications(session, [e.application_id for e in entries])
    declared = _declared(session, list(apps))
    events = []
    for entry in entries:
        app = apps[entry.application_id]
        problems = validate_application(application_values(app), config=ctx.config, direction=app.direction)
        if app.id not in declared:
            problems.append(_missing_declaration())
        entry.status = "ineligible" if problems else "eligible"
        entry.review_note = "；".join(f"{p.field}: {p.zh}" for p in problems) or None
        counts[entry.status] += 1
        session.add(entry)
        events.append(AuditEvent(actor, "entry.review", entry, ctx.now,
                                 after={"status": entry.status, "note": entry.review_note},
                                 campaign_id=ctx.campaign.id))
    record_many(session, events)
    return counts


def _applications(session: Session, ids: list[int]) -> dict[int, Application]:
    """The applications behind entries, in one query."""
    if not ids:
        return {}
    return {a.id: a for a in session.exec(select(Application).where(Application.id.in_(ids)))}


def _declared(session: Session, application_ids: list[int]) -> set[int]:
    """The applications among these that carry the signed declaration (附3)."""
    if not application_ids:
        return set()
    query = select(Attachment.application_id).where(Attachment.application_id.in_(application_ids),
                                                    Attachment.kind == "附3")
    return set(session.exec(query))


def _missing_declaration():
    from core.errors import FieldError

    return FieldError("附3", "缺少申报主体责任声明（附3）", "the signed declaration (附3) is missing")


def list_changed(session: Session, ctx: StageContext) -> tuple[str, str] | None:
    """Why the proposed list no longer stands (new arrivals, a proposed entry returned), or None."""
    from tasks.selection import OPEN_STATUSES

    arrived = stage_entries(session, ctx, "received")
    if arrived:
        refs = "、".join(sorted(_applications(session, [e.application_id for e in arrived])[e.application_id].reference
                               for e in arrived))
        return (f"名单提出后又收到 {refs}（替补报送或重新申报），须先审查评分，名单重新提交审批",
                f"{refs} arrived after the list was proposed (a substitute or a refiling): "
                "it is reviewed first and a new list comes up for approval")
    still = {e.id for e in stage_entries(session, ctx, *OPEN_STATUSES)}
    if any(p["entry"] not in still for p in ctx.stage.proposal or []):
        return ("名单中有项目已被退回，名单重新生成后再提交审批",
                "an entry of the proposed list was returned: a new list comes up for approval")
    return None


def return_entry(session: Session, entry_id: int, *, to: str, reason: str, actor: str) -> Entry:
    """退回修改: send an entry back to the applicant or to the unit that sent it, freeing its slot there."""
    entry = session.get(Entry, entry_id)
    if entry is None:
        raise NotFound(f"没有条目 {entry_id}", f"no entry {entry_id}")
    stage = session.exec(select(Stage).where(Stage.campaign_id == entry.campaign_id,
                                             Stage.unit_code == entry.unit_code)).one()
    ctx = load_stage_by_id(session, stage.id)
    if stage.state in ("approved", "forwarded", "closed"):
        raise Conflict("本环节已审批，不能再退回", "this stage is already approved; nothing can be returned")
    if to == "sender" and entry.source_entry_id is None:
        raise Conflict("该申报由申报单位直接报送，只能退回申报单位",
                       "this entry was filed directly; it can only go back to the applicant")
    before = {"status": entry.status}
    entry.status, entry.review_note = "returned", reason
    session.add(entry)
    sender = _reopen_sender(session, entry, reason=reason, actor=actor, ctx=ctx) if to == "sender" else None
    row = record(session, actor=actor, action="entry.return", obj=entry, at=ctx.now, before=before,
                 after={"status": "returned", "to": to, "reason": reason}, campaign_id=ctx.campaign.id)
    queue_return_notices(session, stage, entry, reason_text=reason, return_id=row.id, sender=sender)
    return entry


def _reopen_sender(session: Session, entry: Entry, *, reason: str, actor: str, ctx: StageContext) -> Stage:
    """Free the lower unit's slot: its entry is returned and its stage goes back to review; return that stage."""
    source = session.get(Entry, entry.source_entry_id)
    source.status, source.decision_note, source.quota_kind = "returned", f"上级退回：{reason}", None
    session.add(source)
    lower = session.exec(select(Stage).where(Stage.campaign_id == source.campaign_id,
                                             Stage.unit_code == source.unit_code)).one()
    before = lower.state
    lower.state, lower.round = "reviewing", lower.round + 1
    lower.proposal = None
    session.add(lower)
    record(session, actor=actor, action="stage.reopen", obj=lower, at=ctx.now,
           before={"state": before}, after={"state": "reviewing", "reason": reason},
           campaign_id=ctx.campaign.id)
    return lower

"""公示: the top unit's list is made public for a period; objections are lodged and resolved.

Opened once the top unit's stage is closed, for `publicity.days` from `publicity.starts_at`
(or from the opening). Objections are taken while it runs; an upheld one removes the entry
from the list, a dismissed one keeps it, both with a reason. It closes at its end on the
campaign clock once no objection is pending; every entry still listed is then awarded.
"""

from datetime import datetime, timedelta

from sqlmodel import Session, func, select

from core.campaign import PublicitySpec
from core.clock import campaign_now, fmt, to_utc
from core.errors import Conflict, FieldError, NotFound, ValidationFailed
from models import Campaign, Entry, Objection, Publicity, Stage
from tasks.audit import record
from tasks.campaigns import campaign_config, get_campaign
from tasks.entry_refs import top_entry
from tasks.title_events import add_event, entry_standing, root_code, selected_at_root
from tasks.title_messages import queue_title_event


def publicity_window(opened_at: datetime, spec: PublicitySpec) -> tuple[datetime, datetime]:
    """The 公示's start (configured, else the opening) and its end `days` later."""
    start = to_utc(spec.starts_at) if spec.starts_at is not None else to_utc(opened_at)
    return start, start + timedelta(days=spec.days)


def seconds_left(now: datetime, ends_at: datetime, pending: int) -> float:
    """Seconds until the 公示 may close: 0 when over with nothing pending, inf while objections wait."""
    if now < to_utc(ends_at):
        return (to_utc(ends_at) - now).total_seconds()
    return float("inf") if pending else 0.0


def get_publicity(session: Session, campaign: Campaign) -> Publicity | None:
    """The campaign's 公示, if opened."""
    return session.exec(select(Publicity).where(Publicity.campaign_id == campaign.id)).first()


def require_publicity(session: Session, campaign: Campaign) -> Publicity:
    """The campaign's 公示, or NotFound."""
    row = get_publicity(session, campaign)
    if row is None:
        raise NotFound("公示尚未开始", f"no 公示 has been opened for {campaign.slug}")
    return row


def open_publicity(session: Session, slug: str, *, actor: str) -> Publicity:
    """Open the 公示 of the top unit's list (once; the top stage must be closed)."""
    campaign = get_campaign(session, slug)
    existing = get_publicity(session, campaign)
    if existing is not None:
        return existing
    stage = session.exec(select(Stage).where(Stage.campaign_id == campaign.id,
                                             Stage.unit_code == root_code(campaign))).one()
    if stage.state != "closed":
        raise Conflict(f"部级环节尚未完成（{stage.state}），不能公示",
                       f"the top unit's stage is not closed yet ({stage.state}); nothing to publicise")
    now = campaign_now(campaign.clock)
    starts, ends = publicity_window(now, campaign_config(campaign).publicity)
    row = Publicity(campaign_id=campaign.id, stage_id=stage.id, starts_at=starts, ends_at=ends,
                    opened_by=actor)
    session.add(row)
    session.flush()
    record(session, actor=actor, action="publicity.open", obj=row, at=now, campaign_id=campaign.id,
           after={"starts_at": starts, "ends_at": ends, "entries": len(selected_at_root(session, campaign))})
    return row


def pending_objections(session: Session, publicity: Publicity) -> int:
    """How many objections still wait for a decision."""
    return session.exec(select(func.count()).select_from(Objection).where(
        Objection.publicity_id == publicity.id, Objection.state == "pending")).one()


def lodge_objection(session: Session, slug: str, reference: str, *, by: str, text: str) -> Objection:
    """Record an objection against a listed entry while the 公示 runs."""
    if not by.strip() or not text.strip():
        raise ValidationFailed([FieldError("text" if by.strip() else "by", "异议人和异议内容均不能为空",
                                           "both who objects and the objection's text are required")])
    campaign = get_campaign(session, slug)
    publicity, now = require_publicity(session, campaign), campaign_now(campaign.clock)
    if publicity.state != "open" or not to_utc(publicity.starts_at) <= now < to_utc(publicity.ends_at):
        raise Conflict(f"不在公示期内（{fmt(publicity.starts_at)} 至 {fmt(publicity.ends_at)}），不受理异议",
                       f"outside the 公示 ({fmt(publicity.starts_at)} to {fmt(publicity.ends_at)}): no objection taken")
    entry = _listed_entry(session, campaign, reference)
    row = Objection(campaign_id=campaign.id, publicity_id=publicity.id, entry_id=entry.id,
                    lodged_by=by.strip(), text=text.strip(), lodged_at=now)
    session.add(row)
    session.flush()
    record(session, actor=by.strip(), action="objection.lodge", obj=row, at=now, campaign_id=campaign.id,
           after={"entry": entry.id, "reference": reference, "text": row.text})
    return row


def _listed_entry(session: Session, campaign: Campaign, reference: str) -> Entry:
    entry = top_entry(session, campaign, root_code(campaign), reference)
    if entry.status != "selected" or entry_standing(session, entry) != "listed":
        raise Conflict(f"申报 {reference} 不在公示名单中", f"application {reference} is not on the list under 公示")
    return entry


def resolve_objection(session: Session, slug: str, objection_id: int, *, uphold: bool, reason: str,
                      actor: str) -> Objection:
    """Uphold (the entry leaves the list, people are told) or dismiss an objection, with a reason."""
    campaign = get_campaign(session, slug)
    row = session.get(Objection, objection_id)
    if row is None or row.campaign_id != campaign.id:
        raise NotFound(f"没有异议 {objection_id}", f"no objection {objection_id}")
    if row.state != "pending":
        raise Conflict(f"异议 {objection_id} 已处理（{row.state}）", f"objection {objection_id} is already {row.state}")
    if not reason.strip():
        raise ValidationFailed([FieldError("reason", "处理异议须写明理由", "resolving an objection needs a reason")])
    now, entry = campaign_now(campaign.clock), session.get(Entry, row.entry_id)
    row.state = "upheld" if uphold else "dismissed"
    row.resolution, row.resolved_by, row.resolved_at = reason.strip(), actor, now
    session.add(row)
    kind = "removed_after_objection" if uphold else "objection_dismissed"
    event = add_event(session, key=f"objection:{row.id}", entry=entry, kind=kind, reason=reason.strip(),
                      actor=actor, at=now)
    if uphold and event is not None:
        queue_title_event(session, event)
    record(session, actor=actor, action=f"objection.{'uphold' if uphold else 'dismiss'}", obj=row, at=now,
           after={"entry": entry.id, "reason": reason.strip()}, campaign_id=campaign.id)
    return row


def close_publicity(session: Session, slug: str, *, actor: str = "system") -> Publicity:
    """Close a 公示 that is over with no objection pending, and award every entry still listed."""
    campaign = get_campaign(session, slug)
    publicity, now = require_publicity(session, campaign), campaign_now(campaign.clock)
    if publicity.state == "closed":
        return publicity
    pending = pending_objections(session, publicity)
    if seconds_left(now, publicity.ends_at, pending) > 0:
        raise Conflict(f"公示至 {fmt(publicity.ends_at)} 结束，尚有 {pending} 件异议未处理时不能结束",
                       f"the 公示 runs until {fmt(publicity.ends_at)} and cannot close with {pending} objection(s) pending")
    awarded = []
    for entry, _app in selected_at_root(session, campaign):
        if entry_standing(session, entry) == "listed":
            add_event(session, key=f"awarded:{entry.id}", entry=entry, kind="awarded", actor=actor, at=now,
                      reason="公示期满无异议或异议不成立 / the 公示 ended without an upheld objection")
            awarded.append(entry.id)
    publicity.state, publicity.closed_at = "closed", now
    session.add(publicity)
    record(session, actor=actor, action="publicity.close", obj=publicity, at=now, campaign_id=campaign.id,
           after={"awarded": awarded})
    return publicity

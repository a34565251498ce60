"""名单动态调整 ([MIIT] 四(四)): after the final list, a holder reports a major change in writing;
a project that fails inspection, holds false material or harms consumers loses its title (通报).

Each is an action with a reason: audited, appended to the list's history (the final list is
rewritten), and mailed to the recommending unit's contacts and the applicant.
"""

from typing import Literal

from sqlmodel import Session, func, select

from core.clock import campaign_now
from core.errors import Conflict, FieldError, ValidationFailed
from models import Campaign, Entry, TitleEvent
from tasks.audit import record
from tasks.campaigns import get_campaign
from tasks.entry_refs import top_entry
from tasks.title_events import DETAIL_NAMES, add_event, entry_standing, root_code
from tasks.title_messages import queue_title_event

ChangeKind = Literal["merger", "reorganisation", "bankruptcy"]
RevokeReason = Literal["inspection_failed", "false_material", "harms_consumers"]
CHANGE_KINDS = ("merger", "reorganisation", "bankruptcy")
REVOKE_REASONS = ("inspection_failed", "false_material", "harms_consumers")


def _title_holder(session: Session, campaign: Campaign, reference: str) -> Entry:
    """The top unit's entry for a reference, which must hold the title now."""
    entry = top_entry(session, campaign, root_code(campaign), reference)
    now = entry_standing(session, entry)
    if entry.status != "selected" or now != "titled":
        raise Conflict(f"申报 {reference} 当前不是示范项目（{now}）",
                       f"application {reference} does not hold the title now ({now})")
    return entry


def _check(detail: str, allowed: tuple[str, ...], text: str, field: str) -> str:
    if detail not in allowed:
        raise ValidationFailed([FieldError(field, f"类别须为 {'、'.join(allowed)} 之一", f"must be one of {', '.join(allowed)}")])
    if not text.strip():
        raise ValidationFailed([FieldError("reason", "须写明理由或说明", "a reason or note is required")])
    return text.strip()


def _apply(session: Session, campaign: Campaign, entry: Entry, *, key: str, kind: str, detail: str,
           reason: str, actor: str) -> TitleEvent:
    """Append the event, audit it, tell people, and rewrite the final list with its history."""
    from tasks.final_list import write_final_list

    now = campaign_now(campaign.clock)
    event = add_event(session, key=key, entry=entry, kind=kind, detail=detail, reason=reason, actor=actor, at=now)
    if event is None:
        raise Conflict("该事项已记录", "this event is already recorded")
    record(session, actor=actor, action=f"title.{kind}", obj=entry, at=now, campaign_id=campaign.id,
           after={"detail": detail, "reason": reason, "event": event.id})
    queue_title_event(session, event)
    write_final_list(session, campaign.slug)
    return event


def report_change(session: Session, slug: str, reference: str, *, kind: str, reason: str,
                  actor: str) -> TitleEvent:
    """Record a holder's written report of a major change (兼并、重组、破产清算); the title stays."""
    reason = _check(kind, CHANGE_KINDS, reason, "kind")
    campaign = get_campaign(session, slug)
    entry = _title_holder(session, campaign, reference)
    n = session.exec(select(func.count()).select_from(TitleEvent).where(
        TitleEvent.entry_id == entry.id, TitleEvent.kind == "change_reported")).one()
    return _apply(session, campaign, entry, key=f"change:{entry.id}:{n + 1}", kind="change_reported",
                  detail=kind, reason=reason, actor=actor)


def revoke_title(session: Session, slug: str, reference: str, *, reason: str, note: str,
                 actor: str) -> TitleEvent:
    """取消示范项目资格并予以通报: take the title away for one of the notice's reasons."""
    note = _check(reason, REVOKE_REASONS, note, "reason")
    campaign = get_campaign(session, slug)
    entry = _title_holder(session, campaign, reference)
    return _apply(session, campaign, entry, key=f"revoked:{entry.id}", kind="revoked",
                  detail=reason, reason=f"{DETAIL_NAMES[reason][0]}：{note}", actor=actor)

"""名单动态调整 ([MIIT] 四(四)): after the final list, a holder reports a major change in writing;
a project found to fall under one of the grounds loses its title (通报). The kinds of change and
the grounds are the campaign file's `[title_rules]`.

Each is an action with a reason: audited, appended to the list's history (the final list is
rewritten), and mailed to the recommending unit's contacts and the applicant.
"""

from sqlmodel import Session, func, select

from core.clock import campaign_now
from core.errors import Conflict, FieldError, ValidationFailed
from models import Campaign, Entry, TitleEvent
from tasks.audit import record
from tasks.campaigns import campaign_config, get_campaign
from tasks.entry_refs import top_entry
from tasks.title_events import add_event, entry_standing, root_code
from tasks.title_messages import queue_title_event


def _title_holder(session: Session, campaign: Campaign, reference: str) -> Entry:
    """The top unit's entry for a reference, which must hold the title now."""
    entry = top_entry(session, campaign, root_code(campaign), reference)
    now = entry_standing(session, entry)
    if entry.status != "selected" or now != "titled":
        raise Conflict(f"申报 {reference} 当前不是示范项目（{now}）",
                       f"application {reference} does not hold the title now ({now})")
    return entry


def _check(detail: str, allowed: dict, text: str, field: str, section: str) -> str:
    if not allowed:
        raise ValidationFailed([FieldError(field, f"活动配置文件未定义 [title_rules.{section}]",
                                           f"the campaign file defines no [title_rules.{section}]")])
    if detail not in allowed:
        names = ", ".join(f"{k} ({r.zh})" for k, r in allowed.items())
        raise ValidationFailed([FieldError(field, f"类别须为以下之一：{names}", f"must be one of: {', '.join(allowed)}")])
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
    campaign = get_campaign(session, slug)
    reason = _check(kind, campaign_config(campaign).title_rules.changes, reason, "kind", "changes")
    entry = _title_holder(session, campaign, reference)
    n = session.exec(select(func.count()).select_from(TitleEvent).where(
        TitleEvent.entry_id == entry.id, TitleEvent.kind == "change_reported")).one()
    return _apply(session, campaign, entry, key=f"change:{entry.id}:{n + 1}", kind="change_reported",
                  detail=kind, reason=reason, actor=actor)


def revoke_title(session: Session, slug: str, reference: str, *, reason: str, note: str,
                 actor: str) -> TitleEvent:
    """取消示范项目资格并予以通报: take the title away on one of the campaign's grounds."""
    campaign = get_campaign(session, slug)
    grounds = campaign_config(campaign).title_rules.revoke_grounds
    note = _check(reason, grounds, note, "reason", "revoke_grounds")
    entry = _title_holder(session, campaign, reference)
    return _apply(session, campaign, entry, key=f"revoked:{entry.id}", kind="revoked",
                  detail=reason, reason=f"{grounds[reason].zh}：{note}", actor=actor)

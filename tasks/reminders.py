"""Deadline reminders and approval escalation, queued into the outbox.

For every open stage (open/collecting, deadline ahead on the campaign clock) the units
below it that have sent nothing yet are reminded before its deadline, and the applicants
whose application it returned for revision are reminded to resubmit. Each reminder is
keyed by stage, recipient and offset, so nobody is reminded twice for the same offset.
Overdue approvals are escalated once (never approved).
"""

from datetime import datetime

from prefect import task
from pydantic import BaseModel
from sqlalchemy import func
from sqlmodel import Session, select

from core.clock import campaign_now, local, parse_local
from core.db import session_scope
from models import Application, Campaign, Entry, Message, Stage, Unit
from tasks.audit import record
from tasks.campaigns import campaign_config, get_campaign
from tasks.instant import as_utc
from tasks.mail_context import effective_deadline
from tasks.messages import queue_escalation, queue_resubmit_reminder, queue_unit_reminder
from tasks.reminder_rules import approval_overdue, days_left, has_submitted, reminder_due

OPEN_STATES = ("open", "collecting")


class ReminderReport(BaseModel):
    """What one reminders run queued for one campaign."""

    campaign: str
    at: datetime
    reminders: list[str] = []
    escalations: list[str] = []


def moment(campaign: Campaign, at: str | None) -> datetime:
    """Return the time to act at: `at` (Asia/Shanghai) if given, else the campaign clock."""
    return as_utc(parse_local(at) if at else campaign_now(campaign.clock))


def open_stages(session: Session, campaign: Campaign, now: datetime) -> list[tuple[Stage, Unit, datetime]]:
    """Return the stages still collecting whose deadline is ahead, with unit and deadline."""
    rows = session.exec(select(Stage, Unit).join(Unit, (Unit.campaign_id == Stage.campaign_id)
                                                & (Unit.code == Stage.unit_code))
                        .where(Stage.campaign_id == campaign.id, Stage.state.in_(OPEN_STATES))
                        .order_by(Unit.code))
    found = [(stage, unit, effective_deadline(unit, stage)) for stage, unit in rows]
    return [(s, u, d) for s, u, d in found if d > as_utc(now)]


def late_children(session: Session, stage: Stage) -> list[Stage]:
    """Return the stages of the units below `stage` that have sent nothing up yet."""
    children = session.exec(select(Stage).join(Unit, (Unit.campaign_id == Stage.campaign_id)
                                               & (Unit.code == Stage.unit_code))
                            .where(Stage.campaign_id == stage.campaign_id,
                                   Unit.parent_code == stage.unit_code).order_by(Stage.unit_code))
    sent = dict(session.exec(
        select(Entry.from_unit_code, func.count()).where(
            Entry.campaign_id == stage.campaign_id, Entry.unit_code == stage.unit_code,
            Entry.from_unit_code.is_not(None)).group_by(Entry.from_unit_code)).all())
    return [c for c in children if not has_submitted(c.state, sent.get(c.unit_code, 0))]


def returned_entries(session: Session, stage: Stage) -> list[tuple[Entry, Application]]:
    """Return the entries this stage returned for revision, with their applications."""
    return list(session.exec(
        select(Entry, Application).join(Application, Application.id == Entry.application_id)
        .where(Entry.campaign_id == stage.campaign_id, Entry.unit_code == stage.unit_code,
               Entry.status == "returned").order_by(Entry.id)))


def queue_deadline_reminders(session: Session, campaign: Campaign, now: datetime) -> list[Message]:
    """Queue the reminders due now for every open stage of a campaign."""
    rules = campaign_config(campaign).reminders
    queued: list[Message] = []
    for stage, _unit, deadline in open_stages(session, campaign, now):
        offset = reminder_due(now, deadline, rules.offsets, rules.working_days, rules.hour)
        if offset is None:
            continue
        left = days_left(local(now).date(), local(deadline).date(), rules.working_days)
        for child in late_children(session, stage):
            queued += queue_unit_reminder(session, child, offset, left, rules.working_days)
        for entry, application in returned_entries(session, stage):
            queued += queue_resubmit_reminder(session, stage, entry, application, offset, left,
                                              rules.working_days)
    return queued


def escalate_overdue(session: Session, campaign: Campaign, now: datetime) -> list[Stage]:
    """Escalate each approval waiting past its unit's timeout, once; never approve it."""
    config = campaign_config(campaign)
    stages = session.exec(select(Stage).where(
        Stage.campaign_id == campaign.id, Stage.state == "awaiting_approval",
        Stage.escalated_at.is_(None)).order_by(Stage.unit_code))
    escalated = []
    for stage in stages:
        timeout = config.unit(stage.unit_code).approval_timeout_hours
        if not approval_overdue(stage.awaiting_since, timeout, now):
            continue
        stage.escalated_at = as_utc(now)
        session.add(stage)
        queue_escalation(session, stage)
        record(session, actor="reminders", action="approval.escalate", obj=stage, at=now,
               after={"awaiting_since": stage.awaiting_since, "timeout_hours": timeout},
               campaign_id=campaign.id)
        escalated.append(stage)
    return escalated


@task
def find_campaigns(slug: str | None = None) -> list[str]:
    """Return the slug asked for, or every campaign's slug."""
    with session_scope() as session:
        if slug is not None:
            return [get_campaign(session, slug).slug]
        return list(session.exec(select(Campaign.slug).order_by(Campaign.slug)))


@task
def remind_campaign(slug: str, at: str | None = None) -> ReminderReport:
    """Queue the due deadline reminders and escalate overdue approvals of one campaign."""
    with session_scope() as session:
        campaign = get_campaign(session, slug)
        now = moment(campaign, at)
        reminders = queue_deadline_reminders(session, campaign, now)
        escalated = escalate_overdue(session, campaign, now)
        return ReminderReport(
            campaign=slug, at=now,
            reminders=[f"{m.recipient} · {m.subject}" for m in reminders],
            escalations=[s.unit_code for s in escalated])

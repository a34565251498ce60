"""Stage bookkeeping: find a stage, move its state, deadlines and extensions, returns.

Plain functions taking a session (the caller's task owns the transaction).
"""

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.orm import defer
from sqlmodel import Session, select

from core.campaign import LEVEL_NAMES, CampaignConfig
from core.clock import campaign_now, fmt, to_utc
from core.errors import Conflict, NotFound
from models import Campaign, Entry, Stage, Unit
from models.stage import STAGE_STATES
from tasks.audit import record
from tasks.campaigns import campaign_config, get_campaign


@dataclass
class StageContext:
    """Everything a step needs to know about one stage, loaded once per transaction."""

    campaign: Campaign
    config: CampaignConfig
    stage: Stage
    unit: Unit

    @property
    def now(self) -> datetime:
        return campaign_now(self.campaign.clock)

    @property
    def spec(self):
        return self.config.unit(self.unit.code)


def load_stage(session: Session, campaign_slug: str, unit_code: str, *, lock: bool = False) -> StageContext:
    """Load a stage by campaign and unit code, optionally locking its row for update."""
    campaign = get_campaign(session, campaign_slug)
    query = select(Stage).where(Stage.campaign_id == campaign.id, Stage.unit_code == unit_code)
    stage = session.exec(query.with_for_update() if lock else query).first()
    unit = session.exec(select(Unit).where(Unit.campaign_id == campaign.id, Unit.code == unit_code)).first()
    if stage is None or unit is None:
        raise NotFound(f"活动 {campaign_slug} 中没有单位 {unit_code}", f"no unit {unit_code} in {campaign_slug}")
    return StageContext(campaign, campaign_config(campaign), stage, unit)


def load_stage_by_id(session: Session, stage_id: int, *, lock: bool = False) -> StageContext:
    """Load a stage by id."""
    query = select(Stage).where(Stage.id == stage_id)
    stage = session.exec(query.with_for_update() if lock else query).first()
    if stage is None:
        raise NotFound(f"没有环节 {stage_id}", f"no stage {stage_id}")
    campaign = session.get(Campaign, stage.campaign_id, options=[defer(Campaign.config)])
    unit = session.exec(select(Unit).where(Unit.campaign_id == campaign.id,
                                           Unit.code == stage.unit_code)).one()
    return StageContext(campaign, campaign_config(campaign), stage, unit)


def stage_title(unit: Unit) -> str:
    """The name people see for a stage run: `<unit name> · <level>`."""
    return f"{unit.name} · {LEVEL_NAMES.get(unit.level, unit.level)}"


def effective_deadline(stage: Stage, unit: Unit) -> datetime:
    """The unit's deadline, or a later extension granted by a coordinator."""
    deadline = to_utc(unit.deadline)
    if stage.extended_until is not None and to_utc(stage.extended_until) > deadline:
        return to_utc(stage.extended_until)
    return deadline


def accepts_arrivals(stage: Stage) -> bool:
    """True while the stage still collects what is sent to it."""
    return stage.state in ("open", "collecting")


def move(session: Session, ctx: StageContext, state: str, *, actor: str, note: str | None = None) -> None:
    """Change a stage's state and audit it."""
    assert state in STAGE_STATES, state
    before = ctx.stage.state
    if before == state:
        return
    ctx.stage.state = state
    if state == "collecting" and ctx.stage.started_at is None:
        ctx.stage.started_at = ctx.now
    if state == "closed":
        ctx.stage.closed_at = ctx.now
    session.add(ctx.stage)
    record(session, actor=actor, action="stage.state", obj=ctx.stage, at=ctx.now,
           before={"state": before}, after={"state": state, "note": note},
           campaign_id=ctx.campaign.id)


def stage_entries(session: Session, ctx: StageContext, *statuses: str) -> list[Entry]:
    """Entries standing at this stage's unit, optionally only those with given statuses."""
    query = select(Entry).where(Entry.campaign_id == ctx.campaign.id, Entry.unit_code == ctx.unit.code)
    if statuses:
        query = query.where(Entry.status.in_(statuses))
    return list(session.exec(query.order_by(Entry.id)))


def grant_extension(session: Session, ctx: StageContext, until: datetime, *, reason: str, actor: str) -> None:
    """Give one unit a later deadline (logged); refuse one that is not later."""
    until = to_utc(until)
    if until <= effective_deadline(ctx.stage, ctx.unit):
        raise Conflict(f"延期时间 {fmt(until)} 不晚于现有截止时间", f"extension {fmt(until)} is not later than the current deadline")
    if ctx.stage.state not in ("open", "collecting", "reviewing", "scoring"):
        raise Conflict(f"环节已进入“{ctx.stage.state}”，不能再延期收件",
                       f"the stage is already {ctx.stage.state}; it can no longer take arrivals")
    before = ctx.stage.extended_until
    ctx.stage.extended_until = until
    ctx.stage.state = "collecting" if ctx.stage.state != "open" else "open"
    session.add(ctx.stage)
    record(session, actor=actor, action="stage.extend", obj=ctx.stage, at=ctx.now,
           before={"extended_until": before}, after={"extended_until": until, "reason": reason},
           campaign_id=ctx.campaign.id)

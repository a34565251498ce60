"""报送: approved entries become entries of the parent unit's stage, exactly once.

UNIQUE(application_id, unit_code) makes a second forward of the same application to the
same unit impossible; re-running after a crash finds the rows already there and adds none.

The parent takes arrivals until its deadline while it collects. After that only substitutes
come in: when the parent returned entries to this unit (退回修改), as many new entries as it
returned are accepted while the parent has not yet approved its own list; its review picks
them up (`tasks.stage_tasks._propose` / `_record_approval` send it back to review).
"""

from sqlmodel import Session, select

from core.clock import fmt
from core.errors import DeadlinePassed
from models import Entry, Stage, Unit
from tasks.audit import record
from tasks.stages import StageContext, accepts_arrivals, effective_deadline, stage_entries

SUBSTITUTE_STATES = ("open", "collecting", "reviewing", "scoring", "awaiting_approval")


def forward_entries(session: Session, ctx: StageContext) -> int:
    """Create the parent's entries for this stage's selected entries; return how many were new."""
    parent_code = ctx.unit.parent_code
    if parent_code is None:
        return 0
    parent_stage, parent_unit = _parent(session, ctx, parent_code)
    selected = stage_entries(session, ctx, "selected")
    existing = set(session.exec(select(Entry.application_id).where(
        Entry.campaign_id == ctx.campaign.id, Entry.unit_code == parent_code,
        Entry.application_id.in_([e.application_id for e in selected]))))
    new = [e for e in selected if e.application_id not in existing]
    substitute = bool(new) and _check_parent_open(session, ctx, parent_stage, parent_unit, len(new))
    for e in new:
        session.add(_upward(e, ctx, parent_code))
    if new:
        record(session, actor="system", action="stage.forward", obj=ctx.stage, at=ctx.now,
               after={"to": parent_code, "applications": sorted(e.application_id for e in new),
                      "substitute": substitute}, campaign_id=ctx.campaign.id)
    return len(new)


def _upward(entry: Entry, ctx: StageContext, parent_code: str) -> Entry:
    """The parent's entry for one selected entry; extras and direct ones keep their marks."""
    passthrough = entry.passthrough or (entry.quota_kind if entry.quota_kind in ("extra", "direct") else None)
    origin = entry.origin_unit_code or (ctx.unit.code if passthrough else None)
    return Entry(campaign_id=ctx.campaign.id, application_id=entry.application_id, unit_code=parent_code,
                 direction=entry.direction, from_unit_code=ctx.unit.code, source_entry_id=entry.id,
                 passthrough=passthrough, origin_unit_code=origin, arrived_at=ctx.now, status="received")


def returned_to_sender(session: Session, ctx: StageContext, parent_code: str) -> int:
    """How many entries the parent returned to this unit (退回修改 to the sender)."""
    rows = session.exec(select(Entry.source_entry_id).where(
        Entry.campaign_id == ctx.campaign.id, Entry.unit_code == parent_code,
        Entry.from_unit_code == ctx.unit.code, Entry.status == "returned")).all()
    if not rows:
        return 0
    back = session.exec(select(Entry.id).where(Entry.id.in_([r for r in rows if r is not None]),
                                               Entry.status == "returned")).all()
    return len(back)


def _parent(session: Session, ctx: StageContext, parent_code: str) -> tuple[Stage, Unit]:
    stage = session.exec(select(Stage).where(Stage.campaign_id == ctx.campaign.id,
                                             Stage.unit_code == parent_code)).one()
    unit = session.exec(select(Unit).where(Unit.campaign_id == ctx.campaign.id,
                                           Unit.code == parent_code)).one()
    return stage, unit


def _check_parent_open(session: Session, ctx: StageContext, parent_stage: Stage, parent_unit: Unit,
                       count: int) -> bool:
    """Accept `count` arrivals at the parent or raise DeadlinePassed; True when they come in as
    substitutes for entries the parent returned (after its deadline, before its approval)."""
    deadline = effective_deadline(parent_stage, parent_unit)
    if ctx.now <= deadline and accepts_arrivals(parent_stage):
        return False
    if parent_stage.state in SUBSTITUTE_STATES and count <= returned_to_sender(session, ctx, parent_unit.code):
        return True
    raise DeadlinePassed(
        f"{parent_unit.name}的收件截止时间 {fmt(deadline)} 已过（或已开始审查），报送被拒；可请其协调人延期",
        f"{parent_unit.name} stopped taking arrivals at {fmt(deadline)}; ask its coordinator for an extension",
        unit=parent_unit.code)

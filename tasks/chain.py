"""The chain as a whole: which stages are due, the campaign clock, what is still missing."""

from datetime import datetime

from sqlalchemy import Row
from sqlmodel import Session, select

from core.clock import campaign_now, to_utc
from models import Stage, Unit
from tasks.campaigns import get_campaign
from tasks.stages import effective_deadline

FINISHED = ("closed",)
WAITING = ("scoring", "awaiting_approval")  # a person's turn: the stage holds no worker slot


def chain_rows(session: Session, slug: str) -> tuple[datetime, list[tuple[Row, Row]]]:
    """The campaign's now and every (stage, unit), deepest units first.

    Plain result rows, not models: the campaign loop reads every stage of the campaign
    several times a second (3,400 of them at national size). Each row serves as both the
    stage (`unit_code`, `state`, `extended_until`, `flow_run_id`) and the unit (`code`,
    `parent_code`, `depth`, `accepts_applications`, `deadline`) of its pair.
    """
    campaign = get_campaign(session, slug)
    rows = session.exec(select(Stage.unit_code, Unit.code, Stage.state, Stage.extended_until, Stage.flow_run_id,
                               Unit.parent_code, Unit.depth, Unit.accepts_applications, Unit.deadline)
                        .where(Stage.campaign_id == campaign.id, Unit.campaign_id == campaign.id,
                               Unit.code == Stage.unit_code)).all()
    return campaign_now(campaign.clock), [(row, row) for row in sorted(rows, key=lambda r: (-r.depth, r.code))]


def due_stages(rows: list[tuple[Row, Row]], now: datetime) -> list[str]:
    """Units whose stage should start: deadline reached, or (taking no filings) all inputs in."""
    children: dict[str, list[Row]] = {}
    for stage, unit in rows:
        if unit.parent_code:
            children.setdefault(unit.parent_code, []).append(stage)
    due = []
    for stage, unit in rows:
        if stage.state != "open":
            continue
        kids = children.get(unit.code, [])
        inputs_in = bool(kids) and not unit.accepts_applications and all(k.state in FINISHED for k in kids)
        if now >= effective_deadline(stage, unit) or inputs_in:
            due.append(unit.code)
    return due


def next_deadline(rows: list[tuple[Row, Row]], now: datetime) -> datetime | None:
    """The earliest deadline still ahead among stages not yet started."""
    ahead = [effective_deadline(s, u) for s, u in rows if s.state == "open" and effective_deadline(s, u) > now]
    return min(ahead) if ahead else None


def missing_children(rows: list[tuple[Row, Row]]) -> dict[str, list[str]]:
    """For each unit, its children that have not reported (stage not closed)."""
    out: dict[str, list[str]] = {}
    for stage, unit in rows:
        if unit.parent_code and stage.state not in FINISHED:
            out.setdefault(unit.parent_code, []).append(unit.code)
    return out


def late_stages(rows: list[tuple[Row, Row]]) -> set[str]:
    """Stages not closed whose parent has closed: the chain went on without them."""
    state = {stage.unit_code: stage.state for stage, _ in rows}
    return {stage.unit_code for stage, unit in rows
            if stage.state not in FINISHED and state.get(unit.parent_code) in FINISHED}


def started_elsewhere(rows: list[tuple[Row, Row]], ours: set[str]) -> list[Row]:
    """Stages under way that this campaign run did not start (a coordinator's, or an earlier run's)."""
    return [stage for stage, _ in rows if stage.unit_code not in ours and stage.state not in ("open",) + FINISHED]


def working_count(rows: list[tuple[Row, Row]], live: set[str]) -> int:
    """How many of the live stage runs are working (not waiting for a person)."""
    return sum(1 for stage, _ in rows if stage.unit_code in live and stage.state not in WAITING)


def set_clock(session: Session, slug: str, when: datetime | None, *, actor: str = "system") -> None:
    """Move a campaign's simulated clock (None: back to real time); the move is audited."""
    from tasks.audit import record

    campaign = get_campaign(session, slug)
    before = None if campaign.clock is None else to_utc(campaign.clock)
    campaign.clock = None if when is None else to_utc(when)
    session.add(campaign)
    record(session, actor=actor, action="campaign.clock", obj=campaign, at=campaign_now(campaign.clock),
           before={"clock": before and before.isoformat()},
           after={"clock": campaign.clock and campaign.clock.isoformat()}, campaign_id=campaign.id)


def level_rows(slug: str) -> list[tuple]:
    """Per level: name, units, received, eligible, recommended, and the use of each base quota."""
    from collections import defaultdict

    from core.campaign import LEVEL_NAMES
    from core.db import session_scope
    from models import Entry
    from tasks.campaigns import campaign_config

    with session_scope() as session:
        campaign = get_campaign(session, slug)
        config = campaign_config(campaign)
        units = {u.code: u for u in session.exec(select(Unit).where(Unit.campaign_id == campaign.id))}
        entries = session.exec(select(Entry.unit_code, Entry.status, Entry.quota_kind, Entry.direction)
                               .where(Entry.campaign_id == campaign.id)).all()
    stats = defaultdict(lambda: {"units": set(), "received": 0, "eligible": 0, "selected": 0})
    used: dict[tuple[str, str], int] = defaultdict(int)  # (unit, direction) -> base places taken
    for e in entries:
        s = stats[units[e.unit_code].level]
        s["units"].add(e.unit_code)
        s["received"] += 1
        s["eligible"] += e.status in ("eligible", "selected", "not_selected")
        s["selected"] += e.status == "selected"
        used[e.unit_code, e.direction] += e.status == "selected" and e.quota_kind == "base"

    def deepest_first(item):  # ties broken by level name, so the table never depends on row order
        level, s = item
        return -min(units[c].depth for c in s["units"]), level

    return [(LEVEL_NAMES.get(level, level), len(s["units"]), s["received"], s["eligible"], s["selected"],
             quota_use(config, s["units"], used)) for level, s in sorted(stats.items(), key=deepest_first)]


def quota_use(config, codes: set[str], used: dict[tuple[str, str], int]) -> str:
    """`<direction> used/cap` for every direction with a base quota at these units (可报尽报 otherwise)."""
    from tasks.quotas import quota_for

    parts = []
    for key, direction in config.directions.items():
        caps = {c: quota_for(config, c, key).base for c in codes}
        capped = sorted(c for c, cap in caps.items() if cap is not None)
        if not capped:
            continue
        text = f"{direction.name} {sum(used[c, key] for c in capped)}/{sum(caps[c] for c in capped)}"
        free = [c for c, cap in caps.items() if cap is None]
        if free:
            text += f" · 不限额单位 {sum(used[c, key] for c in free)}"
        parts.append(text)
    return "；".join(parts) or "可报尽报"

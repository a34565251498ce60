"""The status model and its pure rules: counts, deadlines, time left, the tree and its filters.

No database here: `tasks.status` fills these dataclasses from grouped queries, and the CLI
and the dashboard read them.
"""

from dataclasses import dataclass, field, replace
from datetime import datetime

from core.campaign import LEVEL_NAMES
from core.clock import to_utc
from models.stage import STATE_NAMES

DONE_STATES = ("forwarded", "closed")
ELIGIBLE_STATES = ("eligible", "selected", "not_selected")
FORM_SHORT = {"platform": "平台", "experience_centre": "体验中心"}
COUNTED = ("received", "eligible", "ineligible", "returned", "recommended", "base_used",
           "extra_used", "direct_used", "passthrough")


@dataclass(slots=True)
class Tally:
    """One unit's entries in one direction, and what it may recommend there."""

    direction: str
    received: int = 0
    eligible: int = 0
    ineligible: int = 0
    returned: int = 0
    recommended: int = 0
    base_used: int = 0
    extra_used: int = 0
    direct_used: int = 0
    passthrough: int = 0
    quota: int | None = None  # None: 可报尽报 (no limit)
    extra_quota: int = 0
    direct_quota: int = 0

    @property
    def over_quota(self) -> bool:
        return self.quota is not None and self.base_used > self.quota

    @property
    def quota_percent(self) -> int:
        """How full the base quota is, 0–100 (0 when unlimited or zero)."""
        if not self.quota:
            return 0
        return min(100, round(100 * self.base_used / self.quota))


@dataclass(slots=True)
class UnitStatus:
    """One unit, its stage and its counts; `children` make the chain a tree."""

    code: str
    name: str
    level: str
    parent_code: str | None
    path: str
    depth: int
    demo_city: str | None
    stage_id: int | None
    state: str
    round: int
    deadline: datetime
    extended: bool
    awaiting_since: datetime | None
    escalated_at: datetime | None
    flow_run_id: str | None
    locked: bool
    seconds_left: int
    overdue: bool
    tallies: list[Tally] = field(default_factory=list)
    children: list["UnitStatus"] = field(default_factory=list)

    @property
    def state_name(self) -> str:
        return STATE_NAMES.get(self.state, self.state)

    @property
    def level_name(self) -> str:
        return LEVEL_NAMES.get(self.level, self.level)

    @property
    def done(self) -> bool:
        return self.state in DONE_STATES

    @property
    def pending_approval(self) -> bool:
        return self.state == "awaiting_approval"


@dataclass(slots=True)
class CampaignStatus:
    """A campaign at its clock's now: the tree of units, with lookups by code."""

    slug: str
    name: str
    year: int
    now: datetime
    directions: dict[str, str]
    forms: dict[str, str]
    roots: list[UnitStatus]
    units: dict[str, UnitStatus]

    @property
    def late(self) -> list[UnitStatus]:
        """Units past their deadline that have not forwarded, the most overdue first."""
        return sorted((u for u in self.units.values() if u.overdue),
                      key=lambda u: (u.seconds_left, u.code))

    @property
    def awaiting(self) -> list[UnitStatus]:
        """Units whose recommendation waits for an official's approval, longest first."""
        waiting = [u for u in self.units.values() if u.pending_approval]
        return sorted(waiting, key=lambda u: (u.awaiting_since or self.now, u.code))

    def short(self, direction: str) -> str:
        """A short label for a direction (平台 / 体验中心), its full name otherwise."""
        return FORM_SHORT.get(self.forms.get(direction, ""), self.directions.get(direction, direction))


def effective_deadline(deadline: datetime, extended_until: datetime | None) -> datetime:
    """Return max(Unit.deadline, Stage.extended_until) as aware UTC."""
    deadline = to_utc(deadline)
    if extended_until is None:
        return deadline
    return max(deadline, to_utc(extended_until))


def add_entry_counts(tally: Tally, status: str, kind: str | None, passthrough: str | None,
                     n: int) -> None:
    """Add n entries of one status / quota kind / passthrough to a direction's tally."""
    if passthrough is not None:
        tally.passthrough += n
        return
    tally.received += n
    if status in ELIGIBLE_STATES:
        tally.eligible += n
    elif status == "ineligible":
        tally.ineligible += n
    elif status == "returned":
        tally.returned += n
    if status != "selected":
        return
    tally.recommended += n
    if kind == "extra":
        tally.extra_used += n
    elif kind == "direct":
        tally.direct_used += n
    else:
        tally.base_used += n


def remaining(seconds: int) -> tuple[str, str]:
    """Say how long until (or since) a deadline: (zh, en), e.g. ("剩 2天3小时", "2d 3h left")."""
    span = abs(seconds)
    days, rest = divmod(span, 86400)
    hours, rest = divmod(rest, 3600)
    minutes = rest // 60
    if days:
        zh, en = f"{days}天{hours}小时", f"{days}d {hours}h"
    elif hours:
        zh, en = f"{hours}小时{minutes}分", f"{hours}h {minutes}m"
    else:
        zh, en = f"{minutes}分钟", f"{minutes}m"
    return (f"逾期 {zh}", f"{en} overdue") if seconds < 0 else (f"剩 {zh}", f"{en} left")


def build_tree(units: list[UnitStatus]) -> list[UnitStatus]:
    """Hang units under their parents (children by code); return the roots."""
    by_code = {u.code: u for u in units}
    roots = []
    for unit in sorted(units, key=lambda u: (u.depth, u.code)):
        unit.children = []
        parent = by_code.get(unit.parent_code) if unit.parent_code else None
        (parent.children if parent is not None else roots).append(unit)
    return roots


def matches(unit: UnitStatus, status: CampaignStatus, *, level: str | None = None,
            region: str | None = None, state: str | None = None, late: bool = False) -> bool:
    """Whether a unit passes the filters; a region is a code prefix or a name of it or an ancestor."""
    if level and level not in (unit.level, unit.level_name):
        return False
    if state and state not in (unit.state, unit.state_name):
        return False
    if late and not unit.overdue:
        return False
    return not region or any(_in_region(status.units.get(code), code, region)
                             for code in unit.path.split("/"))


def _in_region(unit: UnitStatus | None, code: str, region: str) -> bool:
    return code.startswith(region) or (unit is not None and region in unit.name)


def filter_tree(status: CampaignStatus, **filters) -> tuple[list[UnitStatus], set[str]]:
    """Prune the tree to matching units and their ancestors; return (roots, matched codes)."""
    if not any(filters.values()):
        return status.roots, set(status.units)
    matched = {u.code for u in status.units.values() if matches(u, status, **filters)}
    keep = {code for m in matched for code in status.units[m].path.split("/")}
    return _prune(status.roots, keep), matched


def _prune(nodes: list[UnitStatus], keep: set[str]) -> list[UnitStatus]:
    return [replace(n, children=_prune(n.children, keep)) for n in nodes if n.code in keep]


def walk(nodes: list[UnitStatus]):
    """Yield units depth-first, parents before children."""
    for node in nodes:
        yield node
        yield from walk(node.children)


def unit_record(unit: UnitStatus, status: CampaignStatus) -> dict:
    """A unit as plain JSON-ready data, for `tuijian status --json` and scripts."""
    zh, en = remaining(unit.seconds_left)
    return {
        "code": unit.code, "name": unit.name, "level": unit.level, "level_name": unit.level_name,
        "parent": unit.parent_code, "path": unit.path, "state": unit.state,
        "state_name": unit.state_name, "round": unit.round, "deadline": unit.deadline.isoformat(),
        "extended": unit.extended, "seconds_left": unit.seconds_left, "overdue": unit.overdue,
        "time_left": None if unit.done else {"zh": zh, "en": en},
        "pending_approval": unit.pending_approval,
        "awaiting_since": unit.awaiting_since.isoformat() if unit.awaiting_since else None,
        "flow_run_id": unit.flow_run_id,
        "directions": {t.direction: {
            "name": status.directions.get(t.direction, t.direction), "received": t.received,
            "eligible": t.eligible, "ineligible": t.ineligible, "returned": t.returned,
            "recommended": t.recommended, "base_used": t.base_used, "quota": t.quota,
            "extra_used": t.extra_used, "extra_quota": t.extra_quota,
            "direct_used": t.direct_used, "direct_quota": t.direct_quota,
            "passthrough": t.passthrough, "over_quota": t.over_quota,
        } for t in unit.tallies},
    }

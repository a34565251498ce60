"""Rendering for the web dashboard: the Jinja2 environment and the pure view helpers.

One Environment, autoescaped (every applicant-supplied string is escaped) and strict
(a missing variable fails the render instead of printing blank).
"""

from collections import Counter
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from functools import lru_cache
from zoneinfo import ZoneInfo

from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape
from markupsafe import Markup, escape

from core.campaign import LEVEL_NAMES
from core.clock import TZ, to_utc
from core.settings import PROJECT_ROOT, get_settings
from models.stage import STAGE_STATES, STATE_NAMES
from tasks.status_rules import CampaignStatus, Tally, UnitStatus, remaining
from tasks.unit_detail import DOCUMENT_KIND_NAMES, PREVIEW_KINDS

TEMPLATES = PROJECT_ROOT / "templates" / "dashboard"
STATIC = TEMPLATES / "static"
REFRESH_SECONDS = 30
LIST_LIMIT = 100  # rows of the late / awaiting lists; the tree shows every unit
_ZONE = ZoneInfo(TZ)


@lru_cache(maxsize=1)
def environment() -> Environment:
    """The dashboard's Jinja2 environment (autoescape on, StrictUndefined)."""
    env = Environment(loader=FileSystemLoader(TEMPLATES), autoescape=select_autoescape(),
                      undefined=StrictUndefined, trim_blocks=True, lstrip_blocks=True)
    env.filters.update(when=when, num=num, left_zh=lambda s: remaining(s)[0], left_en=lambda s: remaining(s)[1])
    env.globals.update(STATE_NAMES=STATE_NAMES, LEVEL_NAMES=LEVEL_NAMES,
                       DOCUMENT_KIND_NAMES=DOCUMENT_KIND_NAMES, PREVIEW_KINDS=PREVIEW_KINDS,
                       REFRESH=REFRESH_SECONDS,
                       LIST_LIMIT=LIST_LIMIT,
                       flow_run_url=flow_run_url, quota_cell=quota_cell)
    env.policies["json.dumps_kwargs"] = {"sort_keys": True, "ensure_ascii": False}
    return env


def render(template: str, **context) -> str:
    """Render one dashboard page."""
    return environment().get_template(template).render(**context)


def when(value: datetime | None, pattern: str = "%Y-%m-%d %H:%M") -> str:
    """Show an instant in Asia/Shanghai (memoised: thousands of units share a few deadlines)."""
    return "" if value is None else _local_text(to_utc(value), pattern)


@lru_cache(maxsize=4096)
def _local_text(value: datetime, pattern: str) -> str:
    return value.astimezone(_ZONE).strftime(pattern)


def num(value: Decimal | float | int | None) -> str:
    """Show a score without trailing zeros (80.0000 → 80, 91.5000 → 91.5)."""
    if value is None:
        return ""
    if isinstance(value, Decimal):
        return f"{value.normalize():f}"
    return str(value)


def flow_run_url(flow_run_id: str | None) -> str | None:
    """Link to a stage's flow run in the Prefect UI."""
    if not flow_run_id:
        return None
    return f"{get_settings().prefect_ui_url.rstrip('/')}/runs/flow-run/{flow_run_id}"


_BADGES = (("overdue", '<b class="badge late">逾期 overdue</b>'),
           ("pending_approval", '<b class="badge wait">待审批 awaiting</b>'),
           ("extended", '<b class="badge ext">已延期 extended</b>'))


@dataclass(frozen=True, slots=True)
class NodeView:
    """One unit's line in the tree, escaped and formatted once in Python (there are thousands)."""

    code: str
    depth: int
    line: Markup
    children: list["NodeView"]


def tree_view(status: CampaignStatus, nodes: list[UnitStatus], base: str, *,
              deep: bool = True) -> list[NodeView]:
    """Turn status nodes into tree lines, with their children unless `deep` is False."""
    labels = {key: escape(status.short(key)) for key in status.directions}
    return [_node(u, labels, escape(base), deep) for u in nodes]


def _node(u: UnitStatus, labels: dict[str, str], base: str, deep: bool) -> NodeView:
    """Every value is passed through `escape` before it joins the markup."""
    code = escape(u.code)
    left = "" if u.done else " · " + remaining(u.seconds_left)[0]
    parts = [f'<span class="st st-{escape(u.state)}">{escape(u.state_name)}</span> '
             f'<a href="{base}/u/{code}">{escape(u.name)}</a> <small>{code} · {escape(u.level_name)}</small> '
             f'<span class="dl{" late" if u.overdue else ""}">截止 {when(u.deadline, "%m-%d %H:%M")}{left}</span>']
    parts.extend(badge for attr, badge in _BADGES if getattr(u, attr))
    parts.extend(quota_html(labels.get(t.direction) or escape(t.direction), t) for t in u.tallies)
    return NodeView(code=u.code, depth=u.depth, line=Markup(" ".join(parts)),
                    children=[_node(c, labels, base, deep) for c in u.children] if deep else [])


def quota_cell(label: str, t: Tally) -> Markup:
    """A direction's quota use with its bar, for templates."""
    return Markup(quota_html(escape(label), t))


def quota_html(label: str, t: Tally) -> str:
    """'recommended/quota' for one direction with a bar, plus extras, direct and pass-through."""
    more = [f"额外 {t.extra_used}/{t.extra_quota}" if t.extra_used or t.extra_quota else "",
            f"直报 {t.direct_used}/{t.direct_quota}" if t.direct_used or t.direct_quota else "",
            f"转报 {t.passthrough}" if t.passthrough else ""]
    extra = " ".join(m for m in more if m)
    limit = "不限" if t.quota is None else t.quota
    bar = "" if t.quota is None else f'<i class="bar"><i style="width:{t.quota_percent}%"></i></i>'
    return (f'<span class="q{" over" if t.over_quota else ""}">{label} {t.base_used}/{limit}{bar}'
            f'{f" <em>{extra}</em>" if extra else ""}</span>')


@dataclass(frozen=True, slots=True)
class Mark:
    """One deadline on the timeline and how the units due then stand."""

    at: datetime
    position: float
    total: int
    done: int
    overdue: int
    levels: str
    past: bool


def timeline(status: CampaignStatus) -> tuple[list[Mark], float]:
    """Group units by effective deadline; return the marks and the 'now' position (0–100 %)."""
    groups: dict[datetime, list[UnitStatus]] = {}
    for unit in status.units.values():
        groups.setdefault(unit.deadline, []).append(unit)
    if not groups:
        return [], 0.0
    start = min(min(groups), status.now) - timedelta(days=1)
    end = max(max(groups), status.now) + timedelta(days=1)
    span = (end - start).total_seconds()

    def place(at: datetime) -> float:
        return round(100 * (at - start).total_seconds() / span, 2)

    marks = []
    for at in sorted(groups):
        units = groups[at]
        levels = Counter(u.level for u in units)
        label = "、".join(f"{LEVEL_NAMES.get(k, k)}×{n}" for k, n in levels.most_common())
        marks.append(Mark(at=at, position=place(at), total=len(units),
                          done=sum(u.done for u in units), overdue=sum(u.overdue for u in units),
                          levels=label, past=at < status.now))
    return marks, place(status.now)


def state_counts(status: CampaignStatus) -> list[tuple[str, str, int]]:
    """How many units stand in each state, in the order of the process."""
    counts = Counter(u.state for u in status.units.values())
    return [(s, STATE_NAMES[s], counts.get(s, 0)) for s in STAGE_STATES]


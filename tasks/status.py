"""Where the chain stands: every unit's stage, deadline and counts, as one tree.

`load_status(session, slug)` builds a `CampaignStatus` from three queries whatever the
campaign's size (units joined with stages; entries counted with GROUP BY; the campaign),
so the CLI (`tuijian status`) and the web dashboard show the same numbers. The tree's
shape, filters and time arithmetic are plain functions in `tasks.status_rules`.
"""

from collections import defaultdict
from datetime import datetime

from sqlalchemy import and_, func, or_
from sqlalchemy.orm import defer
from sqlmodel import Session, select

from core.clock import campaign_now, to_utc
from core.errors import NotFound
from models import Campaign, Entry, Stage, Unit
from tasks.campaigns import campaign_config
from tasks.quotas import Allowance, quota_for
from tasks.status_rules import (
    DONE_STATES,
    ELIGIBLE_STATES,
    CampaignStatus,
    Tally,
    UnitStatus,
    build_tree,
    effective_deadline,
)

__all__ = ["build_status", "campaign_head", "load_status", "pick_campaign"]


def pick_campaign(session: Session, slug: str | None) -> str:
    """Return the slug to show: the one given, else the only campaign stored."""
    if slug:
        return slug
    slugs = session.exec(select(Campaign.slug).order_by(Campaign.slug)).all()
    if len(slugs) != 1:
        raise NotFound(f"请指定活动（现有：{'、'.join(slugs) or '无'}）",
                       f"name a campaign (stored: {', '.join(slugs) or 'none'})")
    return slugs[0]


def load_status(session: Session, slug: str, *, subtree: str | None = None) -> CampaignStatus:
    """Return the status of a campaign by slug (only `subtree`'s units when given)."""
    return build_status(session, campaign_head(session, slug), subtree=subtree)


def campaign_head(session: Session, slug: str) -> Campaign:
    """Return a campaign without loading its (large) configuration until it is needed."""
    query = select(Campaign).options(defer(Campaign.config)).where(Campaign.slug == slug)
    campaign = session.exec(query).first()
    if campaign is None:
        raise NotFound(f"未找到活动 {slug}", f"no campaign {slug}")
    return campaign


def build_status(session: Session, campaign: Campaign, *, subtree: str | None = None) -> CampaignStatus:
    """Return the status tree of a campaign, counted in grouped queries, not per unit."""
    directions, forms, allowances = _rules_of(campaign)
    now = campaign_now(campaign.clock)
    prefix = _subtree_path(session, campaign.id, subtree)
    units = [_unit_status(row, now) for row in _unit_rows(session, campaign.id, prefix)]
    tallies = _tallies(session, campaign.id, prefix)
    for unit in units:
        unit.tallies = [_with_quota(tallies[unit.code].get(key) or Tally(key),
                                    allowances.get((unit.code, key)))
                        for key in directions]
    return CampaignStatus(slug=campaign.slug, name=campaign.name, year=campaign.year, now=now,
                          directions=directions, forms=forms, roots=build_tree(units),
                          units={u.code: u for u in units})


def _subtree_path(session: Session, campaign_id: int, code: str | None) -> str | None:
    if code is None:
        return None
    path = session.exec(select(Unit.path).where(Unit.campaign_id == campaign_id,
                                                Unit.code == code)).first()
    if path is None:
        raise NotFound(f"未找到单位 {code}", f"no unit {code}")
    return path


def _unit_rows(session: Session, campaign_id: int, prefix: str | None):
    """One query: every unit with its stage's columns (outer join: a unit may have none yet)."""
    columns = (Unit.code, Unit.name, Unit.level, Unit.parent_code, Unit.path, Unit.depth,
               Unit.demo_city, Unit.deadline, Stage.id, Stage.state, Stage.round,
               Stage.extended_until, Stage.awaiting_since, Stage.escalated_at,
               Stage.flow_run_id, Stage.locked)
    query = (select(*columns)
             .join(Stage, and_(Stage.campaign_id == Unit.campaign_id, Stage.unit_code == Unit.code),
                   isouter=True)
             .where(Unit.campaign_id == campaign_id)
             .order_by(Unit.depth, Unit.code))
    if prefix is not None:
        query = query.where(or_(Unit.path == prefix, Unit.path.startswith(prefix + "/")))
    return session.connection().execute(query).all()


def _unit_status(row, now: datetime) -> UnitStatus:
    (code, name, level, parent, path, depth, demo, deadline, stage_id, state, round_,
     extended, awaiting, escalated, flow_run_id, locked) = row
    state = state or "open"
    deadline_at = effective_deadline(deadline, extended)
    seconds_left = int((deadline_at - now).total_seconds())
    return UnitStatus(
        code=code, name=name, level=level, parent_code=parent, path=path, depth=depth,
        demo_city=demo, stage_id=stage_id, state=state, round=round_ or 0,
        deadline=deadline_at, extended=extended is not None and to_utc(extended) > to_utc(deadline),
        awaiting_since=to_utc(awaiting) if awaiting else None,
        escalated_at=to_utc(escalated) if escalated else None,
        flow_run_id=flow_run_id, locked=bool(locked), seconds_left=seconds_left,
        overdue=seconds_left < 0 and state not in DONE_STATES,
    )


def _tallies(session: Session, campaign_id: int, prefix: str | None) -> dict[str, dict[str, Tally]]:
    """One query: per unit and direction, entries counted as `status_rules.add_entry_counts` says."""
    own = Entry.passthrough.is_(None)
    selected = and_(own, Entry.status == "selected")
    counts = {
        "received": own,
        "eligible": and_(own, Entry.status.in_(ELIGIBLE_STATES)),
        "ineligible": and_(own, Entry.status == "ineligible"),
        "returned": and_(own, Entry.status == "returned"),
        "recommended": selected,
        "base_used": and_(selected, or_(Entry.quota_kind.is_(None), Entry.quota_kind == "base")),
        "extra_used": and_(selected, Entry.quota_kind == "extra"),
        "direct_used": and_(selected, Entry.quota_kind == "direct"),
        "passthrough": Entry.passthrough.is_not(None),
    }
    columns = [func.count().filter(condition) for condition in counts.values()]
    query = (select(Entry.unit_code, Entry.direction, *columns)
             .where(Entry.campaign_id == campaign_id)
             .group_by(Entry.unit_code, Entry.direction))
    if prefix is not None:
        inside = select(Unit.code).where(Unit.campaign_id == campaign_id, or_(
            Unit.path == prefix, Unit.path.startswith(prefix + "/")))
        query = query.where(Entry.unit_code.in_(inside))
    out: dict[str, dict[str, Tally]] = defaultdict(dict)
    for unit_code, direction, *numbers in session.connection().execute(query):
        out[unit_code][direction] = Tally(direction, **dict(zip(counts, numbers, strict=True)))
    return out


def _with_quota(tally: Tally, allowance: Allowance | None) -> Tally:
    if allowance is not None:  # None: a unit the stored configuration no longer has
        tally.quota, tally.extra_quota, tally.direct_quota = (allowance.base, allowance.extra,
                                                              allowance.direct)
    return tally


_RULES: dict[str, tuple[dict[str, str], dict[str, str], dict[tuple[str, str], Allowance]]] = {}


def _rules_of(campaign: Campaign):
    """Direction names, forms and every unit's allowance, worked out once per configuration."""
    rules = _RULES.get(campaign.config_sha256)
    if rules is None:
        config = campaign_config(campaign)
        allowances = {(u.code, key): quota_for(config, u.code, key)
                      for u in config.units for key in config.directions}
        rules = ({key: d.name for key, d in config.directions.items()},
                 {key: d.form for key, d in config.directions.items()}, allowances)
        if len(_RULES) >= 8:
            _RULES.clear()
        _RULES[campaign.config_sha256] = rules
    return rules

"""The final list's history: title events per entry of the top unit, and where each entry stands.

An entry selected by the top unit is *listed* (under 公示) until the 公示 closes; then it is
*titled* (a demonstration project) unless an upheld objection *removed* it; afterwards the
title can be *revoked*. `standing` is the pure rule; the rest read and write in the caller's
session (`TitleEvent.key` makes each once-only event happen once).
"""

from collections import defaultdict
from datetime import datetime

from sqlmodel import Session, col, select

from models import Application, Campaign, Entry, TitleEvent
from tasks.campaigns import campaign_config

EVENT_NAMES: dict[str, tuple[str, str]] = {
    "awarded": ("列入示范项目名单", "placed on the list of demonstration projects"),
    "removed_after_objection": ("公示异议成立，移出名单", "objection upheld: removed from the list"),
    "objection_dismissed": ("公示异议不成立，保留在名单中", "objection dismissed: stays on the list"),
    "change_reported": ("书面报备重大变化", "major change reported in writing"),
    "revoked": ("取消示范项目资格并予以通报", "title revoked and announced (通报)"),
}
STANDING_NAMES = {"listed": "公示中", "titled": "示范项目", "removed": "已移出名单", "revoked": "已取消资格"}


def standing(kinds: list[str]) -> str:
    """Where an entry on the top unit's list stands, given its event kinds (any order)."""
    if "removed_after_objection" in kinds:
        return "removed"
    if "revoked" in kinds:
        return "revoked"
    return "titled" if "awarded" in kinds else "listed"


def root_code(campaign: Campaign) -> str:
    """The code of the campaign's top unit (the ministry)."""
    return campaign_config(campaign).root().code


def selected_at_root(session: Session, campaign: Campaign) -> list[tuple[Entry, Application]]:
    """The top unit's selected entries with their applications, in rank order."""
    query = (select(Entry, Application).join(Application, Application.id == Entry.application_id)
             .where(Entry.campaign_id == campaign.id, Entry.unit_code == root_code(campaign),
                    Entry.status == "selected"))
    rows = list(session.exec(query).all())
    return sorted(rows, key=lambda r: (r[0].direction, r[0].rank is None, r[0].rank or 0, r[1].reference))


def events_by_entry(session: Session, campaign_id: int) -> dict[int, list[TitleEvent]]:
    """Every title event of a campaign, grouped by entry, oldest first."""
    grouped: dict[int, list[TitleEvent]] = defaultdict(list)
    for ev in session.exec(select(TitleEvent).where(TitleEvent.campaign_id == campaign_id)
                           .order_by(col(TitleEvent.at), col(TitleEvent.id))):
        grouped[ev.entry_id].append(ev)
    return grouped


def entry_standing(session: Session, entry: Entry) -> str:
    """Where one entry of the top unit stands now."""
    kinds = session.exec(select(TitleEvent.kind).where(TitleEvent.entry_id == entry.id)).all()
    return standing(list(kinds))


def add_event(session: Session, *, key: str, entry: Entry, kind: str, reason: str, actor: str,
              at: datetime, detail: str | None = None) -> TitleEvent | None:
    """Append one event; None when an event with this key already exists."""
    if session.exec(select(TitleEvent.id).where(TitleEvent.key == key)).first() is not None:
        return None
    event = TitleEvent(key=key, campaign_id=entry.campaign_id, entry_id=entry.id, kind=kind,
                       detail=detail, reason=reason, actor=actor, at=at)
    session.add(event)
    session.flush()
    return event

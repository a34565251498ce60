"""Where the 公示 stands: its period, how many projects are listed or titled, every objection."""

from dataclasses import dataclass, field
from datetime import datetime

from sqlmodel import Session, select

from models import Application, Entry, Objection
from tasks.campaigns import get_campaign
from tasks.publicity import get_publicity
from tasks.title_events import events_by_entry, selected_at_root, standing


@dataclass(frozen=True)
class ObjectionView:
    id: int
    reference: str
    lodged_by: str
    text: str
    state: str
    resolution: str


@dataclass
class PublicityStatus:
    """The 公示 at a glance (state "not_opened" before it starts)."""

    state: str
    starts_at: datetime | None = None
    ends_at: datetime | None = None
    standing: dict[str, int] = field(default_factory=dict)
    objections: list[ObjectionView] = field(default_factory=list)


def publicity_status(session: Session, slug: str) -> PublicityStatus:
    """Count the top unit's list by standing and list the objections, oldest first."""
    campaign = get_campaign(session, slug)
    row = get_publicity(session, campaign)
    if row is None:
        return PublicityStatus("not_opened")
    events = events_by_entry(session, campaign.id)
    counts: dict[str, int] = {}
    for entry, _ in selected_at_root(session, campaign):
        key = standing([e.kind for e in events.get(entry.id, [])])
        counts[key] = counts.get(key, 0) + 1
    query = (select(Objection, Application.reference).join(Entry, Entry.id == Objection.entry_id)
             .join(Application, Application.id == Entry.application_id)
             .where(Objection.publicity_id == row.id).order_by(Objection.id))
    objections = [ObjectionView(o.id, ref, o.lodged_by, o.text, o.state, o.resolution or "")
                  for o, ref in session.exec(query)]
    return PublicityStatus(row.state, row.starts_at, row.ends_at, counts, objections)

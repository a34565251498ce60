"""Entries standing at a unit as if forwarded from below (for tests of the stage rules)."""

from sqlmodel import Session, select

from core.clock import campaign_now
from models import Application, Campaign, Entry


def arrive(session: Session, app: Application, unit: str, *, status: str = "eligible",
           passthrough: str | None = None, origin: str | None = None) -> Entry:
    """Put an application's entry at `unit`, forwarded from the unit it stands at now."""
    campaign = session.exec(select(Campaign).where(Campaign.id == app.campaign_id)).one()
    below = session.exec(select(Entry).where(Entry.application_id == app.id)
                         .order_by(Entry.id.desc())).first()
    entry = Entry(campaign_id=app.campaign_id, application_id=app.id, unit_code=unit, direction=app.direction,
                  from_unit_code=below.unit_code, source_entry_id=below.id, passthrough=passthrough,
                  origin_unit_code=origin or (below.unit_code if passthrough else None),
                  arrived_at=campaign_now(campaign.clock), status=status)
    below.status, below.quota_kind = "selected", passthrough or "base"
    session.add_all([entry, below])
    session.flush()
    return entry

"""Find an entry the way people name it: an entry id, `REFERENCE@UNIT`, or a 申报编号 alone."""

from sqlmodel import Session, select

from core.errors import NotFound
from models import Application, Campaign, Entry


def application_by_reference(session: Session, campaign: Campaign, reference: str) -> Application:
    """Return the campaign's application with this 申报编号, or raise NotFound."""
    app = session.exec(select(Application).where(Application.campaign_id == campaign.id,
                                                 Application.reference == reference.strip())).first()
    if app is None:
        raise NotFound(f"活动 {campaign.slug} 中没有申报编号 {reference}", f"no application {reference} in {campaign.slug}")
    return app


def find_entry(session: Session, campaign: Campaign, text: str) -> Entry:
    """Entry id, `REF@UNIT`, or `REF` (its newest entry: the unit it has reached)."""
    text = text.strip()
    if text.isdigit():
        entry = session.get(Entry, int(text))
        if entry is None or entry.campaign_id != campaign.id:
            raise NotFound(f"没有条目 {text}", f"no entry {text}")
        return entry
    reference, _, unit = text.partition("@")
    app = application_by_reference(session, campaign, reference)
    query = select(Entry).where(Entry.application_id == app.id)
    query = query.where(Entry.unit_code == unit) if unit else query.order_by(Entry.id.desc())
    entry = session.exec(query).first()
    if entry is None:
        raise NotFound(f"申报 {reference} 不在单位 {unit}", f"application {reference} is not at unit {unit}")
    return entry


def top_entry(session: Session, campaign: Campaign, root_code: str, reference: str) -> Entry:
    """The entry of an application at the top unit (the ministry), or raise NotFound."""
    app = application_by_reference(session, campaign, reference)
    entry = session.exec(select(Entry).where(Entry.application_id == app.id,
                                             Entry.unit_code == root_code)).first()
    if entry is None:
        raise NotFound(f"申报 {reference} 未报送至{root_code}", f"application {reference} never reached {root_code}")
    return entry

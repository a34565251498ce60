"""Factories for the ministry end: applications that climbed the mini chain to 测试部 (M) and were
selected there, with M's stage closed — the state the 公示 starts from."""

from decimal import Decimal

from sqlmodel import Session, select

from core.clock import parse_local
from core.db import session_scope
from models import Application, Campaign, Entry, Stage
from tasks.chain import set_clock
from tests.support.factories import file_application

SLUG = "mini-test"
CLOSED_AT = "2031-07-10 10:00"


def _climb(session: Session, app: Application, path: list[str], *, rank: int, status: str) -> Entry:
    """Create the application's entries up the chain; the last one (at the top) gets `status`."""
    entry = session.exec(select(Entry).where(Entry.application_id == app.id)).one()
    entry.status, entry.quota_kind = "selected", "base"
    session.add(entry)
    for code in path[1:]:
        entry = Entry(campaign_id=app.campaign_id, application_id=app.id, unit_code=code,
                      direction=app.direction, from_unit_code=entry.unit_code, source_entry_id=entry.id,
                      arrived_at=entry.arrived_at, status="selected", quota_kind="base")
        session.add(entry)
        session.flush()
    entry.status, entry.rank, entry.score = status, rank, Decimal(90 - rank)
    entry.quota_kind = "base" if status == "selected" else None
    session.add(entry)
    session.flush()
    return entry


def ministry_list(slug: str = SLUG, *, centres: int = 2, platforms: int = 1, not_selected: int = 0,
                  names: dict[int, str] | None = None) -> list[str]:
    """File applications at 乙市, carry them to M, close M's stage; return their references."""
    refs = []
    with session_scope() as s:
        set_clock(s, slug, parse_local("2031-06-01 09:00"))
        directions = ["experience_centre"] * centres + ["platform"] * platforms + ["platform"] * not_selected
        for i, direction in enumerate(directions):
            over = {"enterprise_name": names[i]} if names and i in names else {}
            app = file_application(s, slug, "110200", direction, **over)
            status = "selected" if i < centres + platforms else "not_selected"
            _climb(s, app, ["110200", "110000", "M"], rank=i + 1, status=status)
            refs.append(app.reference)
        campaign = s.exec(select(Campaign).where(Campaign.slug == slug)).one()
        stage = s.exec(select(Stage).where(Stage.campaign_id == campaign.id, Stage.unit_code == "M")).one()
        stage.state, stage.approved_by = "closed", "m-off"
        stage.approved_at = stage.closed_at = parse_local(CLOSED_AT)
        s.add(stage)
        set_clock(s, slug, parse_local(CLOSED_AT))
    return refs


def move_clock(when: str, slug: str = SLUG) -> None:
    """Set the campaign's simulated clock (Asia/Shanghai wall time)."""
    with session_scope() as s:
        set_clock(s, slug, parse_local(when))

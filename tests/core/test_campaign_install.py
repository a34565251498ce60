from sqlmodel import select

from core.db import session_scope
from models import Campaign, Person, Stage, Unit
from tasks.audit import verify_chain
from tasks.campaigns import campaign_config, get_campaign, load_and_install
from tests.conftest import MINI_CAMPAIGN


def test_install_creates_units_people_and_stages(db):
    with session_scope() as s:
        campaign = load_and_install(s, MINI_CAMPAIGN)
    with session_scope() as s:
        units = {u.code: u for u in s.exec(select(Unit))}
        assert set(units) == {"M", "110000", "110100", "110200", "CE01"}
        assert units["110100"].path == "M/110000/110100"
        assert units["110100"].demo_city == "featured"
        assert len(s.exec(select(Stage)).all()) == 5
        assert s.exec(select(Person).where(Person.key == "p-e2")).one().role == "expert"
        config = campaign_config(get_campaign(s, campaign.slug))
        assert config.unit("110100").region == "1101"
        assert verify_chain(s) == []


def test_reinstalling_unchanged_campaign_changes_nothing(db):
    with session_scope() as s:
        load_and_install(s, MINI_CAMPAIGN)
    with session_scope() as s:
        load_and_install(s, MINI_CAMPAIGN)
        assert len(s.exec(select(Campaign)).all()) == 1
        assert len(s.exec(select(Unit)).all()) == 5

"""The 2023 campaign file says what the two notices say, and installs into both databases."""

import csv
import re
from datetime import datetime, timedelta
from decimal import Decimal

import pendulum
import pytest
from sqlmodel import func, select

from core.campaign import CampaignConfig, load_campaign
from core.clock import to_utc
from core.db import session_scope
from models import AuditLog, Campaign, Person, Stage, Unit
from tasks.audit import verify_chain
from tasks.campaigns import campaign_config, get_campaign, load_and_install
from tasks.quotas import quota_for
from tests.conftest import CAMPAIGN_2023, ROOT

DIVISIONS = ROOT / "tests" / "data" / "divisions"
SHANGHAI = pendulum.timezone("Asia/Shanghai")
GD_CITIES_WITH_4 = {"440100", "440600"}  # 广州, 佛山


def _rows(name: str) -> list[dict[str, str]]:
    with (DIVISIONS / name).open(encoding="utf-8") as f:
        return list(csv.DictReader(f))


def _at(year: int, month: int, day: int, hour: int = 17, minute: int = 30) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=SHANGHAI)


@pytest.fixture(scope="module")
def config() -> CampaignConfig:
    return load_campaign(CAMPAIGN_2023)


def test_campaign_identity(config):
    assert config.slug == "2023-xinxi-xiaofei"
    assert config.year == 2023
    assert config.notice_no == "工信厅信发函〔2023〕210号"
    assert "关于组织开展2023年新型信息消费示范项目申报工作的通知" in config.notice_title
    assert config.summary_title == "2023年新型信息消费示范项目推荐项目汇总表"
    assert any("广州、佛山" in note and "备注" in note for note in config.unit("440000").child_summary_notes)
    assert [u.code for u in config.units if u.child_summary_notes] == ["440000"]  # MIIT gives none
    assert (config.remarks.extra, config.remarks.direct, config.remarks.title) == (
        "示范城市额外推荐", "特色项目，经省直报工信部", "省级示范项目")
    assert config.root().code == "MIIT"


def test_directions_carry_the_hard_rules(config):
    platform, centre = config.directions["platform"], config.directions["experience_centre"]
    assert [(r.field, r.min) for r in platform.rules] == [("mau", Decimal(1))]
    assert [(r.field, r.min) for r in centre.rules] == [("area", Decimal(300))]
    assert platform.text_limits == centre.text_limits == {"profile": 500, "overview": 500}
    assert (platform.demo_city_extra, centre.demo_city_extra) == (0, 2)


def test_rubric_is_marked_as_an_example_and_reminders_are_calendar_days(config):
    assert config.rubric.example is True
    assert config.rubric.aggregation == "trimmed_mean"
    assert {c.name for c in config.rubric.criteria} == {"示范性", "创新性", "可推广性"}
    assert config.reminders.offsets == [7, 3, 1]
    assert config.reminders.working_days is False


def test_forty_demonstration_cities_with_real_codes(config):
    cities = config.demonstration_cities
    assert [c.type for c in cities].count("comprehensive") == 15
    assert [c.type for c in cities].count("featured") == 25
    names = {r["code"] + "00": r["name"] for r in _rows("cities.csv")}
    names |= {r["code"] + "0000": r["name"] for r in _rows("provinces.csv")}
    assert {c.code: c.name for c in cities} == {c.code: names[c.code] for c in cities}
    assert {"110000", "120000", "310000"} <= {c.code for c in cities}  # municipalities by province code
    assert config.demo_city("440600").type == "featured"
    assert config.demo_city("420100").type == "comprehensive"


def test_every_recommending_unit_the_ministry_addresses_reports_to_it(config):
    under_miit = {u.code: u for u in config.children("MIIT")}
    provinces = {r["code"] + "0000": r["name"] for r in _rows("provinces.csv")}
    assert {code: under_miit[code].name for code in provinces} == provinces
    assert {c for c in provinces if under_miit[c].level == "municipality"} == {
        "110000", "120000", "310000", "500000"}
    direct = {c for c, u in under_miit.items() if u.direct_to_ministry}
    planned = {"210200", "370200", "330200", "350200", "440300"}
    assert {c for c, u in under_miit.items() if u.level == "separately_planned_city"} == planned
    assert planned | {"110000", "120000", "310000", "500000", "660000"} <= direct
    assert under_miit["660000"].level == "corps"
    enterprises = [u for u in under_miit.values() if u.level == "central_enterprise"]
    assert 5 <= len(enterprises) <= 8 and all(u.direct_to_ministry for u in enterprises)


def test_ministry_quota_five_centres_plus_demo_city_extra_and_platforms_unlimited(config):
    hubei = quota_for(config, "420000", "experience_centre")
    assert (hubei.base, hubei.extra, hubei.direct) == (5, 0, 0)
    shenzhen = quota_for(config, "440300", "experience_centre")
    assert (shenzhen.base, shenzhen.extra) == (5, 2)
    assert config.unit("440300").parent == "MIIT" and config.unit("440300").direct_to_ministry
    assert all(quota_for(config, u.code, "platform").base is None for u in config.units)


def test_guangdong_cities_two_centres_guangzhou_and_foshan_four(config):
    cities = config.children("440000")
    expected = {r["code"] + "00" for r in _rows("cities.csv") if r["provinceCode"] == "44"} - {"440300"}
    assert {u.code for u in cities} == expected and len(cities) == 20
    for u in cities:
        allowance = quota_for(config, u.code, "experience_centre")
        if u.code in GD_CITIES_WITH_4:
            assert (allowance.base, allowance.extra) == (4, 2), u.code
        else:
            assert (allowance.base, allowance.extra) == (2, 0), u.code
        assert u.deadline < config.unit("440000").deadline


def test_guangdong_province(config):
    gd = config.unit("440000")
    assert gd.organ == "广东省工业和信息化厅" and gd.letter.abbr == "粤工信函"
    assert gd.paper_copies == 3 and gd.accepts_applications is False
    assert {(p.name, p.phone) for p in gd.contacts} == {("邓健", "020-83134279"), ("乔静炜", "020-83134729")}
    assert gd.deadline == _at(2023, 8, 31)


def test_hubei_and_wuhan(config):
    hubei, wuhan = config.unit("420000"), config.unit("420100")
    assert hubei.provincial_titles == 20 and hubei.review == "experts" and len(hubei.experts) >= 5
    assert wuhan.parent == "420000" and wuhan.child_per_direction_tables and not wuhan.accepts_applications
    assert [u.code for u in config.units if u.child_per_direction_tables] == ["420100"]
    allowance = quota_for(config, "420100", "experience_centre")
    assert (allowance.base, allowance.extra, allowance.direct) == (None, 0, 2)
    assert wuhan.deadline == _at(2023, 8, 29)
    assert [(p.name, p.phone) for p in wuhan.contacts] == [("彭源", "027-85316963")]
    assert wuhan.deadline < hubei.deadline < config.unit("MIIT").deadline


def test_all_wuhan_districts_with_real_codes(config):
    expected = {r["code"]: r["name"] for r in _rows("areas.csv") if r["cityCode"] == "4201"}
    districts = config.children("420100")
    assert {u.code: u.name for u in districts} == expected
    for u in districts:
        assert (u.level, u.region, u.review, u.paper_copies) == ("district", "4201", "formal", 2)
        assert u.deadline == _at(2023, 8, 25)


def test_deadlines_are_shanghai_wall_time(config):
    miit = config.unit("MIIT").deadline
    assert miit == _at(2023, 9, 8)
    assert miit.utcoffset() == timedelta(hours=8)
    assert to_utc(miit) == datetime(2023, 9, 8, 9, 30, tzinfo=pendulum.UTC)


def test_people_are_complete_and_fictional_where_they_must_be(config):
    for u in config.units:
        assert u.officials and u.contacts, u.code
        for person in (*u.contacts, *u.officials):
            assert person.email and re.fullmatch(r"0\d{2,3}-\d{7,8}", person.phone or ""), (u.code, person.id)
        assert bool(u.experts) == (u.review == "experts"), u.code
    emails = [p.email for u in config.units for p in (*u.officials, *u.contacts, *u.experts)]
    assert all(e.endswith(("@example.org", "@example.com")) for e in emails)
    assert len(config.unit("MIIT").experts) >= 5
    assert {p.name for p in config.unit("MIIT").contacts} == {"李盈锦", "张毅夫"}
    real = {p.phone for p in (*config.unit("MIIT").contacts, *config.unit("440000").contacts,
                              *config.unit("420100").contacts)}
    invented = [p.phone for u in config.units for p in (*u.contacts, *u.officials) if p.phone not in real]
    assert all(re.fullmatch(r"0\d{2}-5550[01]\d{3}|0\d{3}-550[01]\d{3}", p) for p in invented), invented
    assert len(set(invented)) == len(invented), "every fictional number is different"


def test_file_cites_the_notices_and_marks_assumptions():
    text = (CAMPAIGN_2023 / "campaign.toml").read_text(encoding="utf-8")
    assert "example.gov.cn" not in text
    for citation in ("[MIIT] 四(二)", "[GD] 一", "[WH] 三(三)", "[WH] 三(四)", "ASSUMPTION"):
        assert citation in text


def test_installs_into_the_database(db):
    with session_scope() as s:
        load_and_install(s, CAMPAIGN_2023)
    expected = load_campaign(CAMPAIGN_2023)
    with session_scope() as s:
        units = {u.code: u for u in s.exec(select(Unit))}
        assert len(units) == len(expected.units) == s.exec(select(func.count()).select_from(Stage)).one()
        assert units["420102"].path == "MIIT/420000/420100/420102" and units["420102"].depth == 3
        assert (units["440100"].demo_city, units["440600"].demo_city) == ("comprehensive", "featured")
        assert units["440200"].demo_city is None
        assert to_utc(units["MIIT"].deadline) == datetime(2023, 9, 8, 9, 30, tzinfo=pendulum.UTC)
        people = sum(len(u.officials) + len(u.contacts) + len(u.experts) for u in expected.units)
        assert s.exec(select(func.count()).select_from(Person)).one() == people
        stored = campaign_config(get_campaign(s, "2023-xinxi-xiaofei"))
        assert stored.model_dump(exclude={"source"}) == expected.model_dump(exclude={"source"})
        assert s.exec(select(Campaign)).one().year == 2023
        assert verify_chain(s) == []


def test_reinstalling_the_unchanged_file_writes_nothing(campaign_2023):
    with session_scope() as s:
        before = s.exec(select(Campaign)).one().config_sha256, len(s.exec(select(AuditLog)).all())
        load_and_install(s, CAMPAIGN_2023)
    with session_scope() as s:
        after = s.exec(select(Campaign)).one().config_sha256, len(s.exec(select(AuditLog)).all())
    assert campaign_2023 == "2023-xinxi-xiaofei" and after == before and before[1] == 1

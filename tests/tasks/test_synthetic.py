"""Synthetic applications: fictional, valid where meant to be, wrong in the usual ways, and
taken by the real intake (files written, filed or refused per flaw)."""

from collections import Counter

import pytest
from sqlmodel import select
from stdnum.cn import uscc as uscc_number

from core.campaign import load_campaign
from core.clock import parse_local
from core.db import session_scope
from models import Campaign
from tasks.intake import intake_file
from tasks.synthetic import FLAWS, generate_applications, region_prefix, write_intake_files
from tasks.validation import dedup_key, registered_in, validate_application
from tests.conftest import CAMPAIGN_2023, MINI_CAMPAIGN
from tests.tasks.intake_factories import counts

CONFIG = load_campaign(CAMPAIGN_2023)
FLAW_FIELD = {"missing_declaration": "附3", "uscc_typo": "uscc", "mau_in_wan": "mau", "small_area": "area",
              "long_profile": "profile", "outside_region": "uscc", "duplicate_project": "project_name"}
META = ("campaign", "unit", "direction", "attachments", "_flaw")


def form(record: dict) -> dict:
    return {k: v for k, v in record.items() if k not in META}


@pytest.fixture(scope="module")
def records() -> list[dict]:
    return generate_applications(CONFIG, count=200, seed=7)


def test_generation_is_deterministic_and_a_tenth_is_flawed(records):
    assert generate_applications(CONFIG, count=200, seed=7) == records
    assert generate_applications(CONFIG, count=200, seed=8) != records
    flaws = Counter(r["_flaw"] for r in records if "_flaw" in r)
    assert sum(flaws.values()) == 20 and set(flaws) == set(FLAWS)


def test_valid_records_pass_every_form_rule_and_are_clearly_fictional(records):
    valid = [r for r in records if "_flaw" not in r]
    for r in valid:
        assert validate_application(form(r), config=CONFIG, direction=r["direction"]) == [], r["enterprise_name"]
        assert uscc_number.is_valid(r["uscc"])
        assert registered_in(r["uscc"], region_prefix(CONFIG, CONFIG.unit(r["unit"])))
        assert r["enterprise_name"].endswith("（虚构）") and r["project_name"].endswith("（虚构）")
        assert r["contact_email"].endswith(("@example.com", "@example.org"))
        assert {a["kind"] for a in r["attachments"]} == {"附1", "附2", "附3"}
    assert len({dedup_key(r["uscc"], r["project_name"]) for r in valid}) == len(valid)
    assert {r["direction"] for r in valid} == {"platform", "experience_centre"}
    levels = Counter(CONFIG.unit(r["unit"]).level for r in records)
    assert {"city", "district", "province", "central_enterprise", "municipality"} <= set(levels)
    wuhan = [r for r in valid if CONFIG.unit(r["unit"]).region == "4201"]
    assert wuhan and all(r["uscc"][2:6] == "4201" for r in wuhan)


def test_each_flaw_breaks_exactly_the_rule_it_stands_for(records):
    valid_keys = {dedup_key(r["uscc"], r["project_name"]) for r in records if "_flaw" not in r}
    for r in (r for r in records if "_flaw" in r):
        fields = [e.field for e in validate_application(form(r), config=CONFIG, direction=r["direction"])]
        flaw = r["_flaw"]
        if flaw in ("uscc_typo", "mau_in_wan", "small_area", "long_profile"):
            assert fields == [FLAW_FIELD[flaw]], (flaw, fields)
            continue
        assert fields == [], (flaw, fields)
        if flaw == "outside_region":
            assert not registered_in(r["uscc"], CONFIG.unit(r["unit"]).region)
        elif flaw == "missing_declaration":
            assert "附3" not in {a["kind"] for a in r["attachments"]}
        else:
            assert dedup_key(r["uscc"], r["project_name"]) in valid_keys


def test_skew_steers_the_receiving_units():
    only_districts = dict.fromkeys(("city", "province", "municipality", "separately_planned_city", "corps", "central_enterprise"), 0.0) | {"district": 1.0}
    recs = generate_applications(CONFIG, count=30, seed=1, skew=only_districts, invalid_ratio=0)
    assert {CONFIG.unit(r["unit"]).level for r in recs} == {"district"}
    assert not any("_flaw" in r for r in recs)


def test_written_files_are_filed_or_refused_per_flaw(campaign_2023, tmp_path):
    with session_scope() as s:
        campaign = s.exec(select(Campaign)).one()
        campaign.clock = parse_local("2023-08-20 09:00")
        s.add(campaign)
    recs = generate_applications(CONFIG, count=80, seed=3)
    paths = write_intake_files(recs, tmp_path / "in", config=CONFIG)
    assert {p.suffix for p in paths} == {".json", ".xlsx"}
    pdf = next((tmp_path / "in").rglob("附3-*.pdf"))
    assert pdf.read_bytes().startswith(b"%PDF-1.4") and pdf.read_bytes().rstrip().endswith(b"%%EOF")
    results = [intake_file(p) for p in paths]
    flawed = [r for r in recs if "_flaw" in r]
    refused = [res for res in results if not res.ok]
    assert [[e.field for e in res.errors] for res in refused] == [[FLAW_FIELD[r["_flaw"]]] for r in flawed]
    assert counts()["Application"] == sum(len(res.filed) for res in results) == len(recs) - len(flawed)


def test_the_mini_campaign_gets_its_own_numbers():
    mini = load_campaign(MINI_CAMPAIGN)
    recs = generate_applications(mini, count=40, seed=2, invalid_ratio=0)
    for r in recs:
        assert validate_application(form(r), config=mini, direction=r["direction"]) == []
        if r["direction"] == "platform":
            assert r["mau"] >= 0.5
        assert len(r["profile"]) <= 300

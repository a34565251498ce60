"""`tuijian status` and the status model: pure rules, grouped queries on both databases, the CLI."""

import json
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import event
from sqlmodel import delete, select
from typer.testing import CliRunner

from core.db import get_engine, session_scope
from core.errors import NotFound
from models import Application, Campaign, Entry
from models.entry import ENTRY_STATES
from tasks.status import load_status, pick_campaign
from tasks.status_rules import (
    COUNTED,
    Tally,
    add_entry_counts,
    effective_deadline,
    filter_tree,
    remaining,
)
from tests.conftest import MINI_CAMPAIGN
from tests.support import databases
from tests.tasks.status_factories import application, entry, populate

# ---- pure rules -------------------------------------------------------------------------


def test_remaining_says_time_left_and_overdue_in_both_languages():
    assert remaining(2 * 86400 + 3 * 3600 + 59) == ("剩 2天3小时", "2d 3h left")
    assert remaining(-(3600 + 120)) == ("逾期 1小时2分", "1h 2m overdue")
    assert remaining(59 * 60) == ("剩 59分钟", "59m left")


def test_effective_deadline_is_the_later_of_deadline_and_extension():
    deadline = datetime(2031, 6, 10, 9, 0, tzinfo=UTC)
    assert effective_deadline(deadline, None) == deadline
    assert effective_deadline(deadline, deadline - timedelta(days=1)) == deadline
    later = deadline + timedelta(days=3)
    assert effective_deadline(deadline.replace(tzinfo=None), later) == later  # SQLite: naive UTC


def test_entry_counts_follow_status_kind_and_passthrough():
    tally = Tally("experience_centre", quota=1)
    add_entry_counts(tally, "selected", "base", None, 2)
    add_entry_counts(tally, "selected", "extra", None, 1)
    add_entry_counts(tally, "not_selected", None, None, 3)
    add_entry_counts(tally, "returned", None, None, 1)
    add_entry_counts(tally, "received", None, "extra", 4)
    assert (tally.received, tally.eligible, tally.returned) == (7, 6, 1)
    assert (tally.recommended, tally.base_used, tally.extra_used) == (3, 2, 1)
    assert tally.passthrough == 4
    assert tally.over_quota and tally.quota_percent == 100


# ---- the status tree from the database --------------------------------------------------


@pytest.fixture
def scene(db, tmp_path):
    slug = databases.install(MINI_CAMPAIGN)
    return slug, populate(slug, tmp_path / "out")


def test_status_tree_states_deadlines_and_counts(scene):
    slug, _ = scene
    with session_scope() as s:
        status = load_status(s, slug)
    assert [u.code for u in status.roots] == ["M"]
    assert [c.code for c in status.roots[0].children] == ["110000", "CE01"]
    city_a, city_b = status.units["110100"], status.units["110200"]
    assert city_a.state_name == "已报送" and not city_a.overdue
    assert city_b.state_name == "专家评审" and city_b.overdue
    assert remaining(city_b.seconds_left)[0] == "逾期 1天16小时"
    ec = {t.direction: t for t in city_a.tallies}["experience_centre"]
    assert (ec.received, ec.eligible, ec.returned, ec.base_used, ec.quota) == (3, 2, 1, 1, 1)
    assert (ec.extra_used, ec.extra_quota) == (1, 1)  # 甲市 is a demonstration city
    province = {t.direction: t for t in status.units["110000"].tallies}
    assert province["experience_centre"].passthrough == 1
    assert province["experience_centre"].quota == 2  # the ministry's child quota
    assert province["platform"].quota is None  # 可报尽报
    assert [u.code for u in status.late] == ["110200"]
    assert [u.code for u in status.awaiting] == ["110000"]
    central = status.units["CE01"]
    assert central.extended and not central.overdue


def test_subtree_holds_only_the_unit_and_below(scene):
    slug, _ = scene
    with session_scope() as s:
        status = load_status(s, slug, subtree="110000")
        with pytest.raises(NotFound):
            load_status(s, slug, subtree="nope")
    assert set(status.units) == {"110000", "110100", "110200"}
    assert [u.code for u in status.roots] == ["110000"]


def test_filters_keep_ancestors_for_context(scene):
    slug, _ = scene
    with session_scope() as s:
        status = load_status(s, slug)
    roots, matched = filter_tree(status, level="city")
    assert matched == {"110100", "110200"}
    assert [c.code for c in roots[0].children] == ["110000"]  # CE01 pruned, province kept
    assert filter_tree(status, region="甲省")[1] == {"110000", "110100", "110200"}
    assert filter_tree(status, region="1101")[1] == {"110100"}
    assert filter_tree(status, state="待审批")[1] == {"110000"}
    assert filter_tree(status, late=True)[1] == {"110200"}
    assert filter_tree(status, level="地市级", state="scoring")[1] == {"110200"}


def test_counting_takes_a_fixed_number_of_queries(scene):
    """Counting happens in grouped SQL, not per unit: more units, same number of queries."""
    slug, _ = scene
    statements = []

    def count(*_args):
        statements.append(1)

    event.listen(get_engine(), "before_cursor_execute", count)
    try:
        with session_scope() as s:
            load_status(s, slug)
    finally:
        event.remove(get_engine(), "before_cursor_execute", count)
    assert len(statements) <= 4


def test_pick_campaign_needs_a_name_when_several(scene):
    slug, _ = scene
    with session_scope() as s:
        assert pick_campaign(s, None) == slug
        assert pick_campaign(s, "other") == "other"


# ---- the SQL counts agree with the pure rule ---------------------------------------------

rows = st.lists(st.tuples(st.sampled_from(["110100", "110200"]),
                          st.sampled_from(["platform", "experience_centre"]),
                          st.sampled_from(ENTRY_STATES),
                          st.sampled_from([None, "base", "extra", "direct"]),
                          st.sampled_from([None, None, "extra", "direct"])), max_size=25)


@settings(max_examples=15, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(rows=rows)
def test_grouped_sql_counts_match_the_rule(mini_campaign, rows):
    """Whatever the entries, the GROUP BY query counts exactly as add_entry_counts says."""
    expected: dict[tuple[str, str], Tally] = {}
    with session_scope() as s:
        s.exec(delete(Entry))
        s.exec(delete(Application))
        cid = s.exec(select(Campaign.id)).one()
        for unit, direction, status, kind, passthrough in rows:
            app = application(s, cid, unit_code=unit, direction=direction, enterprise="企业",
                              project="项目")
            entry(s, app, unit, status, quota_kind=kind, passthrough=passthrough)
            tally = expected.setdefault((unit, direction), Tally(direction))
            add_entry_counts(tally, status, kind, passthrough, 1)
    with session_scope() as s:
        status = load_status(s, mini_campaign)
    for unit in ("110100", "110200"):
        for t in status.units[unit].tallies:
            want = expected.get((unit, t.direction), Tally(t.direction))
            assert [getattr(t, k) for k in COUNTED] == [getattr(want, k) for k in COUNTED]


# ---- the command ----------------------------------------------------------------------------


def run_cli(*args: str):
    from cli.main import app

    return CliRunner().invoke(app, ["status", *args], catch_exceptions=False)


def test_cli_tree_shows_states_deadlines_overdue_and_approvals(scene):
    result = run_cli("--level", "city")
    assert result.exit_code == 0, result.output
    out = result.output
    assert "乙市" in out and "专家评审" in out and "逾期 1天16小时" in out
    assert "甲市" in out and "已报送" in out and "体验中心 收3 合格2 荐1/1 额外1/1" in out
    assert "逾期 / overdue: 1 (乙市)" in out


def test_cli_json_for_scripts(scene):
    result = run_cli("--json", "--region", "110000")
    assert result.exit_code == 0, result.output
    doc = json.loads(result.output)
    assert [u["code"] for u in doc["units"]] == ["110000", "110100", "110200"]
    province = doc["units"][0]
    assert province["pending_approval"] and province["state_name"] == "待审批"
    assert province["directions"]["experience_centre"]["quota"] == 2
    assert doc["late"] == ["110200"] and doc["awaiting_approval"] == ["110000"]
    assert doc["units"][2]["overdue"] and doc["units"][2]["time_left"]["en"] == "1d 16h overdue"


def test_cli_unknown_campaign_is_a_friendly_error(scene):
    result = run_cli("no-such-campaign")
    assert result.exit_code == 1

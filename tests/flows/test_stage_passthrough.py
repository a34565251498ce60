"""Extras and direct recommendations pass the province unranked; the ministry scores, ranks and
selects them (its min_score applies). The province's official cannot drop them, and every form
after a refusal says why the last input did not count. Real Prefect test server and SQLite."""

import pytest
from sqlmodel import select

from core.clock import parse_local
from core.db import session_scope
from models import Application, AuditLog, Entry, Stage
from tasks.chain import set_clock
from tests.support import databases
from tests.support.factories import file_application
from tests.support.officials import answer, code_for, form_description, score, wait_for_input
from tests.support.stage_runs import run_in_thread

pytestmark = pytest.mark.prefect


def _run(unit: str, *steps) -> None:
    """Run a unit's stage in a thread, play each step (a callable) in turn, wait for the end."""
    from flows.stage import stage

    thread, box = run_in_thread(stage, "mini-test", unit)
    for step in steps:
        step()
    thread.join(180)
    assert not thread.is_alive() and "error" not in box, box.get("error")
    with session_scope() as s:
        assert s.exec(select(Stage.state).where(Stage.unit_code == unit)).one() == "closed"


def _approve(unit: str, official: str, **fields):
    def step():
        answer(wait_for_input(unit, "approval"), {"official": official, "code": code_for(official), **fields})
    return step


def _entry(ref: str, unit: str) -> Entry:
    with session_scope() as s:
        app_id = s.exec(select(Application.id).where(Application.reference == ref)).one()
        return s.exec(select(Entry).where(Entry.application_id == app_id, Entry.unit_code == unit)).one()


def test_an_extra_passes_the_province_and_is_scored_and_ranked_by_the_ministry(sqlite_db, prefect_server, tmp_path):
    databases.install_mini_with_ministry_minimum(tmp_path)
    with session_scope() as s:
        set_clock(s, "mini-test", parse_local("2031-06-01 09:00"))
        base, extra = (file_application(s, "mini-test", "110100", "experience_centre", region="110100").reference
                       for _ in range(2))
        other = file_application(s, "mini-test", "110200", "experience_centre").reference
        set_clock(s, "mini-test", parse_local("2031-06-10 18:00"))

    _run("110100", _approve("110100", "c1-off"))  # 甲市: base 1 + its demonstration-city extra 1
    assert _entry(extra, "110000").passthrough == "extra"
    _run("110200", lambda: score("110200", "c2-e1", {other: 80}), _approve("110200", "c2-off"))

    def province_scores():
        shown = score("110000", "p-e1", {base: 75, other: 85})
        assert base in shown and other in shown and extra not in shown  # the province's experts do not score the extra
        score("110000", "p-e2", {base: 75, other: 85})

    def province_refusals():
        first = wait_for_input("110000", "approval")
        answer(first, {"official": "p-off", "code": "AAAAAAAAAA"})
        again = wait_for_input("110000", "approval")
        assert "审批码错误、已过期或已使用" in form_description(again)
        answer(again, {"official": "p-off", "code": code_for("p-off"), "decision": "edit",
                       "selection": [base, other], "reason": "只报两项"})
        third = wait_for_input("110000", "approval")
        shown = form_description(third)
        assert extra in shown and "不能从名单中删除" in shown

    _run("110000", province_scores, province_refusals, _approve("110000", "p-off"))
    at_province = _entry(extra, "110000")
    assert at_province.status == "selected" and at_province.score is None and at_province.rank is None
    with session_scope() as s:
        refused = s.exec(select(AuditLog).where(AuditLog.action == "approval.refused.over_quota")).one()
    assert extra in refused.after["zh"]

    def ministry_scores():
        assert extra in score("M", "m-e1", {base: 70, other: 90, extra: 40})
        score("M", "m-e2", {base: 70, other: 90, extra: 40})

    _run("M", ministry_scores, _approve("M", "m-off"))
    at_ministry = {ref: _entry(ref, "M") for ref in (base, other, extra)}
    assert at_ministry[extra].passthrough == "extra"  # still marked as the city's extra
    assert at_ministry[extra].score == 40 and at_ministry[extra].rank == 3
    assert [at_ministry[r].rank for r in (other, base)] == [1, 2]
    with session_scope() as s:  # the ministry's scoring progress counts the extra's scores too
        from tasks.stage_report import stage_report

        ministry = stage_report(s, s.exec(select(Stage.id).where(Stage.unit_code == "M")).one())
        assert (ministry.scores_done, ministry.scores_expected) == (12, 12)  # 3 entries × 2 experts × 2
    # the ministry's minimum score (60) applies to the extra like to everything else
    assert {r: e.status for r, e in at_ministry.items()} == {base: "selected", other: "selected",
                                                             extra: "not_selected"}

"""A parent official returns an entry to the sender while the parent awaits approval; the lower
unit (run again by hand) sends a substitute; the parent reviews and scores it before its list
can be approved. Real Prefect test server and SQLite."""

import pytest
from sqlmodel import select

from core.clock import parse_local
from core.db import session_scope
from models import Application, AuditLog, Entry, Stage
from tasks.chain import set_clock
from tasks.review import return_entry
from tests.support.factories import file_application
from tests.support.officials import answer, code_for, form_description, score, wait_for_input
from tests.support.stage_runs import run_in_thread

pytestmark = pytest.mark.prefect


def _state(unit: str) -> str:
    with session_scope() as s:
        return s.exec(select(Stage.state).where(Stage.unit_code == unit)).one()


def _statuses(unit: str) -> dict[str, str]:
    with session_scope() as s:
        rows = s.exec(select(Application.reference, Entry.status).join(Entry, Entry.application_id == Application.id)
                      .where(Entry.unit_code == unit)).all()
    return dict(rows)


def _finish(thread, box) -> None:
    thread.join(180)
    assert not thread.is_alive() and "error" not in box, box.get("error")


def test_a_substitute_reaches_a_parent_awaiting_approval_and_is_reviewed_there(mini_campaign, prefect_server):
    from flows.stage import stage

    with session_scope() as s:
        set_clock(s, "mini-test", parse_local("2031-06-01 09:00"))
        first, second = (file_application(s, "mini-test", "110200", "experience_centre").reference for _ in range(2))
        set_clock(s, "mini-test", parse_local("2031-06-10 18:00"))
    city = run_in_thread(stage, "mini-test", "110200")
    score("110200", "c2-e1", {first: 80, second: 70})
    answer(wait_for_input("110200", "approval"), {"official": "c2-off", "code": code_for("c2-off")})
    _finish(*city)
    assert _statuses("110000") == {first: "received"}

    with session_scope() as s:  # past 甲省's deadline: only substitutes can still come in
        set_clock(s, "mini-test", parse_local("2031-06-20 18:00"))
    province = run_in_thread(stage, "mini-test", "110000")
    for expert in ("p-e1", "p-e2"):
        score("110000", expert, {first: 80})
    waiting = wait_for_input("110000", "approval")
    with session_scope() as s:
        returned = s.exec(select(Entry).join(Application, Application.id == Entry.application_id)
                          .where(Application.reference == first, Entry.unit_code == "110000")).one()
        return_entry(s, returned.id, to="sender", reason="体验中心面积证明不清，请更换项目", actor="p-off")
    assert _state("110200") == "reviewing" and _state("110000") == "awaiting_approval"

    city = run_in_thread(stage, "mini-test", "110200")  # what the campaign loop would do: run it again
    answer(wait_for_input("110200", "approval", key_contains="-r1-"), {"official": "c2-off", "code": code_for("c2-off")})
    _finish(*city)
    assert _statuses("110000") == {first: "returned", second: "received"}
    with session_scope() as s:
        forward = s.exec(select(AuditLog).where(AuditLog.action == "stage.forward")).all()[-1]
    assert forward.after["substitute"] is True

    # the province's official answers the list still on screen: it no longer stands, so it goes back
    answer(waiting, {"official": "p-off", "code": code_for("p-off")})
    for expert in ("p-e1", "p-e2"):
        score("110000", expert, {second: 75}, key_contains="-r1-")
    again = wait_for_input("110000", "approval", key_contains="-r1-")
    shown = form_description(again)
    assert second in shown and "替补报送" in shown  # the new list, and why the last answer did not count
    answer(again, {"official": "p-off", "code": code_for("p-off")})
    _finish(*province)
    assert _statuses("110000") == {first: "returned", second: "selected"}
    assert _statuses("M") == {second: "received"}
    with session_scope() as s:
        superseded = s.exec(select(AuditLog).where(AuditLog.action == "approval.superseded")).one()
    assert superseded.actor == "p-off" and second in superseded.after["zh"]

"""Forwarding to the parent: refused after its deadline, substitutes for returned entries
accepted until it approves (real database, both backends)."""

import pytest
from sqlmodel import select

from core.clock import parse_local
from core.db import session_scope
from core.errors import DeadlinePassed
from models import AuditLog, Entry, Stage
from tasks.chain import set_clock
from tasks.forward import forward_entries
from tasks.review import return_entry
from tasks.stages import load_stage
from tests.conftest import MINI_CAMPAIGN
from tests.support import databases
from tests.support.entries import arrive
from tests.support.factories import file_application


def _selected_at_city(n: int) -> list[int]:
    """n centres filed with 乙市, all selected there (as an approved list); their application ids."""
    databases.install(MINI_CAMPAIGN)
    with session_scope() as s:
        set_clock(s, "mini-test", parse_local("2031-06-01 09:00"))
        apps = [file_application(s, "mini-test", "110200", "experience_centre") for _ in range(n)]
        for a in apps:
            entry = s.exec(select(Entry).where(Entry.application_id == a.id)).one()
            entry.status, entry.quota_kind = "selected", "base"
            s.add(entry)
        return [a.id for a in apps]


def _set_state(unit: str, state: str) -> None:
    with session_scope() as s:
        stage = s.exec(select(Stage).where(Stage.unit_code == unit)).one()
        stage.state = state
        s.add(stage)


def _forward() -> int:
    with session_scope() as s:
        return forward_entries(s, load_stage(s, "mini-test", "110200"))


def test_a_forward_after_the_parents_deadline_is_refused(db):
    _selected_at_city(1)
    with session_scope() as s:
        set_clock(s, "mini-test", parse_local("2031-06-21 09:00"))  # 甲省 closed arrivals on 06-20 17:00
    with pytest.raises(DeadlinePassed) as refused:
        _forward()
    assert "甲省" in refused.value.zh and "2031-06-20 17:00" in refused.value.zh
    with session_scope() as s:
        assert s.exec(select(Entry).where(Entry.unit_code == "110000")).all() == []


def test_a_substitute_enters_a_parent_under_review_but_not_a_closed_one(db):
    first, second, third = _selected_at_city(3)
    with session_scope() as s:
        # 甲省 got the first centre, is awaiting approval past its deadline, and returns it
        set_clock(s, "mini-test", parse_local("2031-06-21 09:00"))
        for a in (second, third):
            entry = s.exec(select(Entry).where(Entry.application_id == a)).one()
            entry.status = "not_selected"
            s.add(entry)
        from models import Application

        up = arrive(s, s.get(Application, first), "110000")
    _set_state("110000", "awaiting_approval")
    with session_scope() as s:
        return_entry(s, up.id, to="sender", reason="请更换项目", actor="p-off")
    with session_scope() as s:  # 乙市 now selects two: one more than 甲省 returned → refused
        for a in (second, third):
            entry = s.exec(select(Entry).where(Entry.application_id == a)).one()
            entry.status = "selected"
            s.add(entry)
    with pytest.raises(DeadlinePassed):
        _forward()
    with session_scope() as s:
        entry = s.exec(select(Entry).where(Entry.application_id == third)).one()
        entry.status = "not_selected"
        s.add(entry)
    assert _forward() == 1  # one substitute for one return
    with session_scope() as s:
        log = s.exec(select(AuditLog).where(AuditLog.action == "stage.forward")).all()[-1]
        assert log.after["substitute"] is True and log.after["to"] == "110000"
        statuses = {e.application_id: e.status for e in s.exec(select(Entry).where(Entry.unit_code == "110000"))}
    assert statuses == {first: "returned", second: "received"}

    _set_state("110000", "closed")
    with session_scope() as s:
        entry = s.exec(select(Entry).where(Entry.application_id == third)).one()
        entry.status = "selected"
        s.add(entry)
    with pytest.raises(DeadlinePassed):
        _forward()

"""公示: opening after the top stage, objections upheld and dismissed, closing, the list that follows."""

from datetime import UTC, datetime, timedelta

import pytest
from openpyxl import load_workbook
from sqlmodel import select

from core.campaign import PublicitySpec
from core.clock import parse_local
from core.db import session_scope
from core.errors import Conflict, NotFound, ValidationFailed
from models import AuditLog, Message, Objection, TitleEvent
from tasks.final_list import write_final_list
from tasks.publicity import (
    close_publicity,
    lodge_objection,
    open_publicity,
    publicity_window,
    resolve_objection,
    seconds_left,
)
from tasks.publicity_status import publicity_status
from tests.conftest import MINI_CAMPAIGN
from tests.support import databases
from tests.tasks.final_factories import SLUG, ministry_list, move_clock

T0 = datetime(2031, 7, 10, 2, 0, tzinfo=UTC)


def test_window_and_seconds_left_rules():
    assert publicity_window(T0, PublicitySpec()) == (T0, T0 + timedelta(days=7))
    fixed = PublicitySpec(days=5, starts_at="2031-07-12 09:00")
    assert publicity_window(T0, fixed) == (parse_local("2031-07-12 09:00"), parse_local("2031-07-17 09:00"))
    assert seconds_left(T0, T0 + timedelta(hours=1), pending=0) == 3600
    assert seconds_left(T0 + timedelta(days=1), T0, pending=2) == float("inf")
    assert seconds_left(T0 + timedelta(days=1), T0, pending=0) == 0


def test_publicity_needs_the_top_stage_closed(mini_campaign):
    with pytest.raises(Conflict) as err, session_scope() as s:
        open_publicity(s, SLUG, actor="m-con")
    assert "部级环节尚未完成" in err.value.zh


def _open() -> None:
    with session_scope() as s:
        open_publicity(s, SLUG, actor="m-con")


def test_upheld_objection_removes_and_dismissed_keeps(db):
    databases.install(MINI_CAMPAIGN)
    upheld_ref, kept_ref, quiet_ref = ministry_list(centres=2, platforms=1)
    _open()
    with session_scope() as s:
        a = lodge_objection(s, SLUG, upheld_ref, by="市民张某", text="体验中心实际面积不足300平方米")
        b = lodge_objection(s, SLUG, kept_ref, by="同行企业", text="项目尚未建成")
        ids = (a.id, b.id)
    move_clock("2031-07-18 10:00")  # the 公示 (7 days from 07-10 10:00) is over, two objections pending
    with pytest.raises(Conflict), session_scope() as s:
        close_publicity(s, SLUG)
    with session_scope() as s:
        resolve_objection(s, SLUG, ids[0], uphold=True, reason="现场核查面积为210平方米", actor="m-con")
        resolve_objection(s, SLUG, ids[1], uphold=False, reason="现场核查已建成运营", actor="m-con")
    with pytest.raises(Conflict), session_scope() as s:
        resolve_objection(s, SLUG, ids[0], uphold=False, reason="再议", actor="m-con")
    with session_scope() as s:
        close_publicity(s, SLUG)
        docs = write_final_list(s, SLUG)
        status = publicity_status(s, SLUG)
        events = {(e.kind, e.entry_id) for e in s.exec(select(TitleEvent))}
        audit = [r.action for r in s.exec(select(AuditLog)) if r.action.startswith(("objection.", "publicity."))]
        mails = [m.recipient for m in s.exec(select(Message).where(Message.kind == "title_event"))]
    assert status.state == "closed" and status.standing == {"removed": 1, "titled": 2}
    assert [(o.state, o.resolution) for o in status.objections] == [("upheld", "现场核查面积为210平方米"),
                                                                  ("dismissed", "现场核查已建成运营")]
    assert sorted(k for k, _ in events) == ["awarded", "awarded", "objection_dismissed", "removed_after_objection"]
    assert audit == ["publicity.open", "objection.lodge", "objection.lodge", "objection.uphold",
                     "objection.dismiss", "publicity.close"]
    assert "p-con@example.org" in mails and len(mails) == 2  # the upheld one: recommending unit + applicant
    listed = _projects_in_xlsx(next(d.path for d in docs if d.kind == "final_list"))
    assert upheld_ref not in listed and kept_ref in listed and quiet_ref in listed


def _projects_in_xlsx(path: str) -> str:
    """The list sheet's project column, with the references mapped back through the database."""
    from models import Application

    ws = load_workbook(path)["示范项目名单"]
    projects = {ws.cell(r, 2).value for r in range(4, ws.max_row + 1)}
    with session_scope() as s:
        return " ".join(a.reference for a in s.exec(select(Application)) if a.project_name in projects)


def test_objections_only_during_the_publicity(mini_campaign):
    refs = ministry_list(centres=1, platforms=0, not_selected=1)
    with pytest.raises(NotFound), session_scope() as s:
        lodge_objection(s, SLUG, refs[0], by="某人", text="异议")  # not opened yet
    _open()
    with pytest.raises(Conflict) as err, session_scope() as s:
        lodge_objection(s, SLUG, refs[1], by="某人", text="异议")
    assert "不在公示名单中" in err.value.zh  # not selected by the ministry
    with pytest.raises(ValidationFailed), session_scope() as s:
        lodge_objection(s, SLUG, refs[0], by="某人", text="  ")
    move_clock("2031-07-17 10:00")  # exactly the end: closed to objections
    with pytest.raises(Conflict), session_scope() as s:
        lodge_objection(s, SLUG, refs[0], by="某人", text="迟到的异议")
    with session_scope() as s:
        assert s.exec(select(Objection)).all() == []
        assert close_publicity(s, SLUG).state == "closed"
        assert open_publicity(s, SLUG, actor="m-con").state == "closed"  # opening again changes nothing


def test_list_is_published_only_after_the_publicity(mini_campaign):
    ministry_list(centres=1, platforms=0)
    _open()
    with pytest.raises(Conflict) as err, session_scope() as s:
        write_final_list(s, SLUG)
    assert "公示" in err.value.zh
    move_clock("2031-07-16 10:00")
    with pytest.raises(Conflict), session_scope() as s:
        close_publicity(s, SLUG)

"""Refiling (重新申报): an application returned to the applicant comes back under its 申报编号."""

from sqlmodel import select

from core.clock import parse_local
from core.db import session_scope
from models import Application, Attachment, AuditLog, Entry, Stage
from tasks.chain import set_clock
from tasks.intake import intake_file
from tasks.review import return_entry
from tests.conftest import MINI_CAMPAIGN
from tests.support import databases
from tests.tasks.intake_factories import attach, good_record, write_json


def _file(tmp_path, name: str, **changes):
    record = attach(good_record("experience_centre", n=1) | changes, tmp_path / name, 1)
    return intake_file(write_json(tmp_path / name / "a.json", [record]))


def _entry() -> Entry:
    with session_scope() as s:
        return s.exec(select(Entry).where(Entry.unit_code == "110100")).one()


def _return_to_applicant(reason: str = "请补充项目概述") -> None:
    with session_scope() as s:
        return_entry(s, _entry().id, to="applicant", reason=reason, actor="c1-off")


def _stage_state(state: str) -> None:
    with session_scope() as s:
        stage = s.exec(select(Stage).where(Stage.unit_code == "110100")).one()
        stage.state = state
        s.add(stage)


def test_a_returned_application_is_refiled_under_its_reference(db, tmp_path):
    databases.install(MINI_CAMPAIGN)
    with session_scope() as s:
        set_clock(s, "mini-test", parse_local("2031-06-01 09:00"))
    first = _file(tmp_path, "v1")
    assert first.ok, first.errors
    again = _file(tmp_path, "v1b", overview="再次申报（未退回）。")
    assert not again.ok and "已申报" in again.errors[0].zh  # not returned: still a duplicate

    _return_to_applicant()
    revised = _file(tmp_path, "v2", overview="补充后的项目概述（虚构）。", area=900)
    assert revised.ok, revised.errors
    assert [f.reference for f in revised.filed] == [first.filed[0].reference]
    with session_scope() as s:
        [app] = s.exec(select(Application)).all()
        assert app.overview == "补充后的项目概述（虚构）。" and app.area == 900
        entry = s.exec(select(Entry).where(Entry.application_id == app.id)).one()
        assert entry.status == "received" and entry.review_note is None
        log = s.exec(select(AuditLog).where(AuditLog.action == "application.refile")).one()
        assert log.before["fields"]["overview"] == "项目概述（虚构）。"
        assert log.after["fields"]["overview"] == "补充后的项目概述（虚构）。"
        assert set(log.after["fields"]) == {"overview", "area"}
        assert log.after["reference"] == first.filed[0].reference
        hashes = {a.sha256 for a in s.exec(select(Attachment).where(Attachment.application_id == app.id))}
        assert hashes == set(log.after["attachments"]) and len(hashes) == 2


def test_a_refiling_is_taken_during_the_units_review_but_not_after_its_approval(db, tmp_path):
    databases.install(MINI_CAMPAIGN)
    with session_scope() as s:
        set_clock(s, "mini-test", parse_local("2031-06-01 09:00"))
    assert _file(tmp_path, "v1").ok
    with session_scope() as s:
        set_clock(s, "mini-test", parse_local("2031-06-11 10:00"))  # past 甲市's deadline
    _stage_state("reviewing")
    _return_to_applicant()
    during = _file(tmp_path, "v2", overview="审查中补正（虚构）。")
    assert during.ok, during.errors
    assert _entry().status == "received"

    _return_to_applicant("仍需补正")
    _stage_state("approved")
    late = _file(tmp_path, "v3", overview="审批后补正（虚构）。")
    assert not late.ok
    assert any("已停止受理" in e.zh for e in late.errors)
    assert _entry().status == "returned"
    with session_scope() as s:
        assert s.exec(select(Application.overview)).one() == "审查中补正（虚构）。"

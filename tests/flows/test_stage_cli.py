"""`tuijian stage run` and `tuijian approve --reject / --edit` through typer's CliRunner, against
the session's Prefect test server and a real SQLite database."""

import threading

import pytest
from sqlmodel import select
from typer.testing import CliRunner

from cli.main import app
from core.clock import parse_local
from core.db import session_scope
from models import Application, AuditLog, Entry, Stage
from tasks.chain import set_clock
from tests.support.factories import file_application
from tests.support.officials import code_for, wait_for_input

pytestmark = pytest.mark.prefect


def _stage(unit: str) -> Stage:
    with session_scope() as s:
        return s.exec(select(Stage).where(Stage.unit_code == unit)).one()


def _cli(*args: str):
    return CliRunner().invoke(app, [*args, "--campaign", "mini-test"])


def test_stage_run_before_the_deadline_warns_and_needs_now(mini_campaign, prefect_server):
    with session_scope() as s:
        set_clock(s, "mini-test", parse_local("2031-06-05 09:00"))  # 甲市 takes filings until 06-10 17:00
    early = _cli("stage", "run", "110100")
    assert early.exit_code == 1
    assert "2031-06-10 17:00" in early.output and "--now" in early.output and "拒收" in early.output
    assert _stage("110100").state == "open"
    forced = _cli("stage", "run", "110100", "--now")
    assert forced.exit_code == 0, forced.output
    assert "closed" in forced.output  # nothing filed yet: closed at once, as the warning said
    assert _stage("110100").state == "closed"


def test_stage_run_then_approve_reject_and_edit_from_the_command_line(mini_campaign, prefect_server):
    with session_scope() as s:
        set_clock(s, "mini-test", parse_local("2031-06-01 09:00"))
        refs = [file_application(s, "mini-test", "110100", "experience_centre", region="110100").reference
                for _ in range(3)]
        set_clock(s, "mini-test", parse_local("2031-06-10 18:00"))
    box: dict = {}
    thread = threading.Thread(target=lambda: box.update(run=_cli("stage", "run", "110100")), daemon=True)
    thread.start()

    wait_for_input("110100", "approval")
    rejected = _cli("approve", "110100", "--official", "c1-off", "--code", code_for("c1-off"),
                    "--reject", "请核实第一名的面积")
    assert rejected.exit_code == 0, rejected.output
    wait_for_input("110100", "approval", key_contains="-r1-")
    with session_scope() as s:
        reject = s.exec(select(AuditLog).where(AuditLog.action == "approval.reject")).one()
    assert reject.actor == "c1-off" and reject.after == {"reason": "请核实第一名的面积"}

    edited = _cli("approve", "110100", "--official", "c1-off", "--code", code_for("c1-off"),
                  "--edit", f"{refs[2]}:base, {refs[0]}:extra")
    assert edited.exit_code == 0, edited.output
    thread.join(180)
    assert not thread.is_alive()
    assert box["run"].exit_code == 0, box["run"].output
    assert _stage("110100").state == "closed"
    with session_scope() as s:
        chosen = dict(s.exec(select(Application.reference, Entry.quota_kind)
                             .join(Entry, Entry.application_id == Application.id)
                             .where(Entry.unit_code == "110100", Entry.status == "selected")).all())
        approved = s.exec(select(AuditLog).where(AuditLog.action == "approval.approve")).one()
    assert chosen == {refs[2]: "base", refs[0]: "extra"}  # the edited list, not the proposed one
    assert approved.after["decision"] == "edit" and approved.actor == "c1-off"

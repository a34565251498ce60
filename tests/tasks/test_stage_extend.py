"""`tuijian stage extend`: one unit's later deadline, logged; arrivals taken until then."""

from sqlmodel import select
from typer.testing import CliRunner

from cli.main import app
from core.clock import parse_local, to_utc
from core.db import session_scope
from models import AuditLog, Stage
from tasks.chain import set_clock
from tasks.intake import intake_file
from tests.conftest import MINI_CAMPAIGN
from tests.support import databases
from tests.tasks.intake_factories import attach, good_record, write_json


def _extend(until: str, reason: str = "系统故障，顺延两天") -> object:
    return CliRunner().invoke(app, ["stage", "extend", "110200", "--until", until, "--reason", reason,
                                    "--campaign", "mini-test", "--actor", "p-con"])


def _stage() -> Stage:
    with session_scope() as s:
        return s.exec(select(Stage).where(Stage.unit_code == "110200")).one()


def test_an_extension_is_logged_and_lets_late_filings_in(db, tmp_path):
    databases.install(MINI_CAMPAIGN)
    with session_scope() as s:
        set_clock(s, "mini-test", parse_local("2031-06-11 09:00"))  # 乙市 closed on 06-10 17:00
    filing = write_json(tmp_path / "a.json", [attach(good_record(n=7, unit="110200"), tmp_path, 7)])
    assert not intake_file(filing).ok

    done = _extend("2031-06-12 17:00")
    assert done.exit_code == 0, done.output
    assert "2031-06-12 17:00" in done.output
    assert to_utc(_stage().extended_until) == to_utc(parse_local("2031-06-12 17:00"))
    with session_scope() as s:
        log = s.exec(select(AuditLog).where(AuditLog.action == "stage.extend")).one()
    assert log.actor == "p-con" and log.before == {"extended_until": None}
    assert log.after["reason"] == "系统故障，顺延两天" and log.after["extended_until"].startswith("2031-06-12 09:00")
    assert intake_file(filing).ok

    earlier = _extend("2031-06-11 17:00")
    assert earlier.exit_code == 1 and "不晚于现有截止时间" in earlier.output
    with session_scope() as s:
        stage = s.exec(select(Stage).where(Stage.unit_code == "110200")).one()
        stage.state = "awaiting_approval"
        s.add(stage)
    too_late = _extend("2031-06-15 17:00")
    assert too_late.exit_code == 1 and "不能再延期收件" in too_late.output
    with session_scope() as s:
        assert len(s.exec(select(AuditLog).where(AuditLog.action == "stage.extend")).all()) == 1

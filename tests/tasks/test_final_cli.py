"""The CLI of the ministry end: paper, online, publicity, objection, title and final-list."""

from sqlmodel import select
from typer.testing import CliRunner

from cli.main import app
from core.db import session_scope
from models import OnlineRegistration, PaperReceipt, TitleEvent
from tests.tasks.final_factories import ministry_list, move_clock

runner = CliRunner()
C = ["--campaign", "mini-test"]


def _ok(*args: str) -> str:
    result = runner.invoke(app, [*args, *C])
    assert result.exit_code == 0, result.output
    return result.output


def test_double_track_commands(mini_campaign):
    ref = ministry_list(centres=1, platforms=0)[0]
    assert "2 paper copies" in _ok("paper", "receive", f"{ref}@110000", "--copies", "2", "--date", "2031-06-15",
                                   "--by", "省收文员")
    _ok("online", "register", ref, "--number", "SFXM-2031-1", "--date", "2031-06-01")
    bad = runner.invoke(app, ["paper", "receive", ref, "--copies", "1", "--date", "15/06/2031", "--by", "x", *C])
    assert bad.exit_code == 1 and "YYYY-MM-DD" in bad.output
    with session_scope() as s:
        receipt = s.exec(select(PaperReceipt)).one()
        assert receipt.copies == 2 and receipt.received_by == "省收文员" and not receipt.scan_received
    assert "含PDF扫描版" in _ok("paper", "receive", f"{ref}@110000", "--copies", "2", "--date", "2031-06-16",
                             "--by", "省收文员", "--scan")
    with session_scope() as s:
        receipt = s.exec(select(PaperReceipt)).one()
        assert receipt.scan_received and receipt.copies == 2
        assert s.exec(select(OnlineRegistration)).one().number == "SFXM-2031-1"


def test_publicity_objection_title_and_final_list(mini_campaign):
    upheld, revoked = ministry_list(centres=1, platforms=1)
    assert "2031-07-17 10:00" in _ok("publicity", "open")
    assert "objection id: 1" in _ok("objection", "lodge", upheld, "--by", "市民", "--text", "材料不实")
    both = runner.invoke(app, ["objection", "resolve", "1", "--uphold", "--dismiss", "--reason", "r", *C])
    assert both.exit_code == 1
    _ok("objection", "resolve", "1", "--uphold", "--reason", "核实材料不实")
    status = _ok("publicity", "status")
    assert "upheld" in status and "核实材料不实" in status
    early = runner.invoke(app, ["publicity", "close", *C])
    assert early.exit_code == 1 and "2031-07-17 10:00" in early.output
    move_clock("2031-07-17 10:00")
    assert "示范项目名单.html" in _ok("publicity", "close")
    _ok("title", "revoke", revoked, "--reason", "harms_consumers", "--note", "严重侵害消费者权益")
    wrong = runner.invoke(app, ["title", "report-change", revoked, "--kind", "rename", "--reason", "x", *C])
    assert wrong.exit_code != 0
    assert "示范项目名单.xlsx" in _ok("final-list")
    with session_scope() as s:
        kinds = sorted(e.kind for e in s.exec(select(TitleEvent)))
    assert kinds == ["awarded", "removed_after_objection", "revoked"]

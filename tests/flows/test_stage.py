"""The stage flow against the session's Prefect test server and a real SQLite database.

Runs are resumed the way an official would: through Prefect's API with an input form.
"""

import asyncio
import io
import re
import time
from pathlib import Path

import pytest
from docx import Document as Docx
from sqlmodel import select

from core.clock import parse_local
from core.db import session_scope
from models import AuditLog, Document, Entry, Message, Stage
from tasks.chain import set_clock
from tasks.messages import document_file
from tasks.outbox import deliver_pending
from tasks.waiting import resume, waiting_stage_runs
from tests.support.factories import file_application
from tests.support.officials import code_for
from tests.support.stage_runs import run_in_thread

pytestmark = pytest.mark.prefect


def _wait_for_input(unit: str, kind: str, timeout: float = 60, key_suffix: str = ""):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        runs = [r for r in asyncio.run(waiting_stage_runs("mini-test"))
                if r.unit == unit and r.kind == kind and r.key.endswith(key_suffix)]
        if runs:
            return runs[0]
        time.sleep(0.3)
    raise AssertionError(f"{unit} never waited for {kind}")


def _setup(n_centres=3):
    with session_scope() as s:
        set_clock(s, "mini-test", parse_local("2031-06-01 09:00"))
        refs = [file_application(s, "mini-test", "110200", "experience_centre").reference for _ in range(n_centres)]
        refs.append(file_application(s, "mini-test", "110200", "platform").reference)
        set_clock(s, "mini-test", parse_local("2031-06-10 18:00"))
    return refs


def _score_all(unit: str, refs: list[str], expert: str):
    waiting = _wait_for_input(unit, "scores")
    rows = [{"reference": r, "demo": 90 - i * 10, "innovation": 80 - i * 10, "conflict": False, "note": ""}
            for i, r in enumerate(refs)]
    accepted, reason = asyncio.run(resume(waiting.flow_run_id, {"expert": expert, "rows": rows}))
    assert accepted, reason


def test_stage_runs_scores_approves_and_forwards_once(mini_campaign, prefect_server):
    from flows.stage import stage

    refs = _setup()
    thread, box = run_in_thread(stage, "mini-test", "110200")
    _score_all("110200", refs, "c2-e1")
    waiting = _wait_for_input("110200", "approval")
    with session_scope() as s:
        entries_here = len(s.exec(select(Entry).where(Entry.unit_code == "110200")).all())
    # a wrong official is refused and the flow waits again
    accepted, _ = asyncio.run(resume(waiting.flow_run_id, {"official": "p-off", "code": "AAAAAAAAAA"}))
    assert accepted
    _wait_for_input("110200", "approval")
    # the official approves from the command line: the same input, through Prefect's API
    from typer.testing import CliRunner

    from cli.main import app

    done = CliRunner().invoke(app, ["approve", "110200", "--official", "c2-off", "--code", code_for("c2-off"),
                                    "--campaign", "mini-test"])
    assert done.exit_code == 0, done.output
    thread.join(120)
    assert "error" not in box, box.get("error")
    with session_scope() as s:
        stage_row = s.exec(select(Stage).where(Stage.unit_code == "110200")).one()
        assert stage_row.state == "closed"
        at_city = {e.id: e for e in s.exec(select(Entry).where(Entry.unit_code == "110200"))}
        selected = [e for e in at_city.values() if e.status == "selected"]
        # 乙市: experience centres base 1 (甲省's child quota), platforms unlimited
        assert sorted(e.direction for e in selected) == ["experience_centre", "platform"]
        best = min((e for e in at_city.values() if e.direction == "experience_centre"), key=lambda e: e.rank)
        assert best.status == "selected" and best.quota_kind == "base"
        up = s.exec(select(Entry).where(Entry.unit_code == "110000")).all()
        assert sorted(e.source_entry_id for e in up) == sorted(e.id for e in selected)
        assert all(e.from_unit_code == "110200" for e in up)
        refused = s.exec(select(AuditLog).where(AuditLog.action == "approval.refused.wrong_official")).all()
        assert len(refused) == 1
    assert entries_here == 4


def _file_at_jiashi(n: int) -> list[str]:
    """甲市 (formal review, no experts): base 1 + 1 demonstration-city extra for centres."""
    with session_scope() as s:
        set_clock(s, "mini-test", parse_local("2031-06-01 09:00"))
        refs = [file_application(s, "mini-test", "110100", "experience_centre", region="110100").reference
                for _ in range(n)]
        set_clock(s, "mini-test", parse_local("2031-06-10 18:00"))
    return refs


def _answer(unit: str, official: str, key_suffix: str = "", **fields) -> None:
    """Wait until the unit asks for approval, then answer with the code the official was mailed."""
    waiting = _wait_for_input(unit, "approval", key_suffix=key_suffix)
    value = {"official": official, "code": code_for(official), **fields}
    accepted, reason = asyncio.run(resume(waiting.flow_run_id, value))
    assert accepted, reason


def _stage_row(unit: str) -> Stage:
    with session_scope() as s:
        return s.exec(select(Stage).where(Stage.unit_code == unit)).one()


def test_over_quota_edit_is_refused_and_a_reject_goes_back_to_review(mini_campaign, prefect_server):
    from flows.stage import stage

    refs = _file_at_jiashi(3)
    thread, box = run_in_thread(stage, "mini-test", "110100")
    # all three centres: over 甲市's 1 + 1 extra → refused with the quota named, code burnt
    _answer("110100", "c1-off", decision="edit", selection=refs, reason="全部推荐")
    _wait_for_input("110100", "approval")
    assert _stage_row("110100").round == 1
    with session_scope() as s:
        refusal = s.exec(select(AuditLog).where(AuditLog.action == "approval.refused.over_quota")).one()
        assert "名额" in refusal.after["zh"]
    # a rejection with a reason sends the stage back to review; a new round follows
    _answer("110100", "c1-off", decision="reject", reason="请补充材料后重报")
    _wait_for_input("110100", "approval")
    assert _stage_row("110100").round == 2
    # an edit within the quota counts: the third-ranked as base, the first as extra
    _answer("110100", "c1-off", decision="edit", selection=[f"{refs[2]}:base", f"{refs[0]}:extra"], reason="调整")
    thread.join(120)
    assert "error" not in box, box.get("error")
    with session_scope() as s:
        chosen = {e.application_id: e.quota_kind for e in s.exec(
            select(Entry).where(Entry.unit_code == "110100", Entry.status == "selected"))}
        up = s.exec(select(Entry).where(Entry.unit_code == "110000")).all()
    assert sorted(chosen.values()) == ["base", "extra"]
    assert {e.passthrough for e in up} == {None, "extra"}
    assert _stage_row("110100").state == "closed"


def test_an_overdue_approval_is_escalated_never_approved(tmp_path, sqlite_db, prefect_server):
    from flows.stage import stage
    from tests.conftest import MINI_CAMPAIGN
    from tests.support.databases import install

    text = MINI_CAMPAIGN.read_text().replace('name = "甲市"\nlevel = "city"\n',
                                             'name = "甲市"\nlevel = "city"\napproval_timeout_hours = 0.001\n')
    path = tmp_path / "campaign.toml"
    path.write_text(text)
    install(path)
    _file_at_jiashi(1)
    thread, box = run_in_thread(stage, "mini-test", "110100")
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and _stage_row("110100").escalated_at is None:
        time.sleep(0.5)
    stage_row = _stage_row("110100")
    assert stage_row.escalated_at is not None and stage_row.state == "awaiting_approval"
    with session_scope() as s:
        sent_to = {m.recipient for m in s.exec(select(Message).where(Message.kind == "escalation"))}
    assert {"c1-off@example.org", "p-con@example.org"} <= sent_to  # the official and the parent unit
    _answer("110100", "c1-off")  # the flow waits on after escalating
    thread.join(120)
    assert "error" not in box, box.get("error")
    assert _stage_row("110100").state == "closed"


def _letter_attachments(docx: bytes) -> set[str]:
    """The file names a 推荐函 lists under 附件 (one line each, numbered when several)."""
    lines = [p.text.strip() for p in Docx(io.BytesIO(docx)).paragraphs]
    return {m.group(1) for line in lines if (m := re.fullmatch(r"(?:附件：)?(?:\d+\.)?(\S+\.xlsx)", line))}


def _delivered_stage_closed(server, unit: str) -> dict[str, bytes]:
    """Deliver the outbox; check the unit's newest stage-closed mail reached the parent's contact
    with exactly the 推荐函 and the tables it lists, each the file its Document row points to."""
    assert asyncio.run(deliver_pending()).failed == 0
    with session_scope() as s:
        stage_row = s.exec(select(Stage).where(Stage.unit_code == unit)).one()
        on_disk = {Path(d.path).name: document_file(d).read_bytes()
                   for d in s.exec(select(Document).where(Document.stage_id == stage_row.id))}
        row = s.exec(select(Message).where(Message.kind == "stage_closed", Message.key.startswith(
            f"stage:{stage_row.id}:stage_closed:r{stage_row.round}:"))).one()
    [received] = [r for r in server.messages if r.message["Message-ID"] == row.message_id]
    assert received.rcpt_tos == ["p-con@example.org"]
    files = {part.get_filename(): part.get_content() for part in received.message.iter_attachments()}
    assert set(files) == {"推荐函.docx"} | _letter_attachments(files["推荐函.docx"])
    assert {name: on_disk[name] for name in files} == files  # byte-equal to the stage's documents
    assert "评审明细.xlsx" in on_disk and "推荐函.html" in on_disk  # written, but not for the parent
    return files


def test_a_return_to_the_sender_frees_its_slot_for_a_substitute(mini_campaign, prefect_server, smtp_server):
    from flows.stage import stage
    from tasks.review import return_entry

    refs = _setup(n_centres=2)  # two centres and a platform at 乙市 (centre quota 1)
    thread, box = run_in_thread(stage, "mini-test", "110200")
    _score_all("110200", refs, "c2-e1")
    _answer("110200", "c2-off")
    thread.join(120)
    assert "error" not in box, box.get("error")
    first = _delivered_stage_closed(smtp_server, "110200")
    assert set(first) == {"推荐函.docx", "汇总表.xlsx"}
    with session_scope() as s:
        sent = s.exec(select(Entry).where(Entry.unit_code == "110000", Entry.direction == "experience_centre")).one()
        first_app = sent.application_id
        return_entry(s, sent.id, to="sender", reason="材料不全，请更换项目", actor="p-off")
    assert _stage_row("110200").state == "reviewing"
    # 乙市 runs again: the returned project stays back, the next-ranked one goes up instead
    thread, box = run_in_thread(stage, "mini-test", "110200")
    _answer("110200", "c2-off")
    thread.join(120)
    assert "error" not in box, box.get("error")
    with session_scope() as s:
        up = s.exec(select(Entry).where(Entry.unit_code == "110000", Entry.direction == "experience_centre")).all()
        below = {e.application_id: e.status for e in s.exec(select(Entry).where(Entry.unit_code == "110200"))}
    assert sorted(e.status for e in up) == ["received", "returned"]
    assert below[first_app] == "returned"
    substitute = next(e for e in up if e.status == "received")
    assert substitute.application_id != first_app and below[substitute.application_id] == "selected"
    assert _stage_row("110200").state == "closed"
    # the re-close is a new round: the parent gets a second mail with the revised table
    second = _delivered_stage_closed(smtp_server, "110200")
    assert second["汇总表.xlsx"] != first["汇总表.xlsx"]
    with session_scope() as s:
        assert len(s.exec(select(Message).where(Message.kind == "stage_closed")).all()) == 2

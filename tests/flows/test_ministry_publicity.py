"""The ministry end on the session's Prefect server: the top unit's stage (formal review, expert
scores, MIIT's min_score selection, approval, nothing forwarded), then the 公示 flow that waits
on the campaign clock and for pending objections before it publishes the final list."""

import asyncio
import re
import threading
import time
from pathlib import Path

import pytest
from openpyxl import load_workbook
from sqlmodel import select

from core.campaign import Quota, load_campaign
from core.clock import parse_local
from core.db import session_scope
from models import AuditLog, Document, Entry, Message, Publicity, Stage
from tasks.campaigns import install_campaign
from tasks.chain import set_clock
from tasks.publicity import lodge_objection, resolve_objection
from tasks.waiting import resume, waiting_stage_runs
from tests.conftest import MINI_CAMPAIGN
from tests.support.factories import file_application
from tests.tasks.final_factories import _climb, ministry_list

pytestmark = pytest.mark.prefect
SLUG = "mini-pub"


def _install() -> None:
    """The mini campaign under its own slug; 测试部 keeps only projects scored at least 60."""
    config = load_campaign(MINI_CAMPAIGN)
    floor = {d: Quota(min_score=60) for d in config.directions}
    units = [u.model_copy(update={"quotas": floor}) if u.code == "M" else u for u in config.units]
    with session_scope() as s:
        install_campaign(s, config.model_copy(update={"slug": SLUG, "units": units}))


def _in_thread(coro_fn, *args, **kwargs):
    box = {}

    def target():
        try:
            box["result"] = asyncio.run(coro_fn(*args, **kwargs))
        except BaseException as exc:  # surfaced by the test
            box["error"] = exc

    thread = threading.Thread(target=target, daemon=True)
    thread.start()
    return thread, box


def _waiting(kind: str, skip: set[str]):
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        for run in asyncio.run(waiting_stage_runs(SLUG)):
            if run.kind == kind and run.key not in skip:
                skip.add(run.key)
                return run
        time.sleep(0.3)  # polling Prefect for the pause, not a timing assertion
    raise AssertionError(f"the stage never waited for {kind}")


def _file_at_ministry() -> list[str]:
    with session_scope() as s:
        set_clock(s, SLUG, parse_local("2031-06-01 09:00"))
        apps = [file_application(s, SLUG, "110200", d) for d in ("platform", "platform", "experience_centre")]
        for i, app in enumerate(apps):
            _climb(s, app, ["110200", "110000", "M"], rank=i + 1, status="received")
        set_clock(s, SLUG, parse_local("2031-07-01 09:00"))
        return [a.reference for a in apps]


def _run_ministry_stage(refs: list[str]) -> None:
    from flows.stage import stage

    thread, box = _in_thread(stage, SLUG, "M")
    seen: set[str] = set()
    for expert in ("m-e1", "m-e2"):
        run = _waiting("scores", seen)
        rows = [{"reference": r, "demo": 40 if i == 1 else 85, "innovation": 40 if i == 1 else 75,
                 "conflict": False, "note": ""} for i, r in enumerate(refs)]
        assert asyncio.run(resume(run.flow_run_id, {"expert": expert, "rows": rows}))[0]
    run = _waiting("approval", seen)
    with session_scope() as s:
        body = s.exec(select(Message).where(Message.kind == "approval_request")).one().body_text
    code = re.search(r"--code ([A-Z2-9]{10})", body).group(1)
    assert asyncio.run(resume(run.flow_run_id, {"official": "m-off", "code": code}))[0]
    thread.join(120)
    assert "error" not in box, box.get("error")


def _opened_by_flow():
    """Wait until the flow has opened the 公示; return when it ends."""
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        with session_scope() as s:
            row = s.exec(select(Publicity)).first()
        if row is not None:
            return row.ends_at
        time.sleep(0.1)  # polling the database for the flow's first step, not a timing assertion
    raise AssertionError("the publicity flow never opened the 公示")


def test_ministry_stage_then_publicity_flow_publishes_the_final_list(sqlite_db, prefect_server):
    from flows.publicity import publicity

    _install()
    refs = _file_at_ministry()
    _run_ministry_stage(refs)
    with session_scope() as s:
        top = {e.application_id: e for e in s.exec(select(Entry).where(Entry.unit_code == "M"))}
        assert sorted(e.status for e in top.values()) == ["not_selected", "selected", "selected"]
        assert all((e.status == "selected") == (e.score >= 60) for e in top.values())  # MIIT's min_score
        assert s.exec(select(Stage).where(Stage.unit_code == "M")).one().state == "closed"
        assert {d.kind for d in s.exec(select(Document))} == {"summary", "export"}  # no 推荐函 at the top
        assert len(s.exec(select(Entry)).all()) == 9  # nothing forwarded beyond the top
    thread, box = _in_thread(publicity, SLUG, poll_seconds=0.05)
    ends = _opened_by_flow()
    with session_scope() as s:
        objection = lodge_objection(s, SLUG, refs[0], by="市民", text="平台月活数据存疑")
        set_clock(s, SLUG, ends)  # the 公示 is over, but an objection is still pending
    with session_scope() as s:
        resolve_objection(s, SLUG, objection.id, uphold=False, reason="经第三方数据核实无误", actor="m-con")
    thread.join(60)
    assert "error" not in box, box.get("error")
    with session_scope() as s:
        steps = [a.action for a in s.exec(select(AuditLog).order_by(AuditLog.seq))
                 if a.action.startswith(("publicity.", "objection."))]
    assert steps == ["publicity.open", "objection.lodge", "objection.dismiss", "publicity.close"]
    xlsx = next(Path(p) for p in box["result"] if p.endswith(".xlsx"))
    ws = load_workbook(xlsx)["示范项目名单"]
    listed = {ws.cell(r, 2).value for r in range(4, ws.max_row + 1)} - {None}
    assert len([v for v in listed if v.startswith("示例项目")]) == 2
    history = load_workbook(xlsx)["名单变动记录"]
    assert [history.cell(3, c).value for c in (2, 6)] == ["公示异议不成立，保留在名单中", "经第三方数据核实无误"]


def test_run_publicity_for_demo_removes_an_upheld_entry(mini_campaign, prefect_server):
    from flows.publicity import run_publicity_for_demo

    refs = ministry_list(centres=1, platforms=1)
    page = run_publicity_for_demo("mini-test", objection_entry_ref=refs[0], uphold=True)
    with session_scope() as s:
        from models import Application

        removed, kept = (s.exec(select(Application).where(Application.reference == r)).one().project_name for r in refs)
    text = page.read_text(encoding="utf-8")
    listed, history = text[text.index('id="list"'):text.index('id="history"')], text[text.index('id="history"'):]
    assert kept in listed and removed not in listed and removed in history

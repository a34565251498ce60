"""双轨 through the real approval path: the stage flow on the session's Prefect server, inputs sent
through Prefect's resume API the way an official's form would be."""

import asyncio
import re
import threading
import time
from datetime import date

import pytest
from sqlmodel import select

from core.campaign import load_campaign
from core.clock import parse_local
from core.db import session_scope
from models import AuditLog, Entry, Message, Stage
from tasks.campaigns import get_campaign, install_campaign
from tasks.chain import set_clock
from tasks.receipts import record_online_registration, record_paper_receipt
from tasks.waiting import resume, waiting_stage_runs
from tests.conftest import MINI_CAMPAIGN
from tests.support.factories import file_application

pytestmark = pytest.mark.prefect
SLUG = "mini-dt"


def _install() -> None:
    """The mini campaign under its own slug, 乙市 asking for 2 paper copies, online registration on."""
    config = load_campaign(MINI_CAMPAIGN)
    units = [u.model_copy(update={"paper_copies": 2}) if u.code == "110200" else u for u in config.units]
    track = config.double_track.model_copy(update={"online_registration": True})
    with session_scope() as s:
        install_campaign(s, config.model_copy(update={"slug": SLUG, "units": units, "double_track": track}))


def _run_in_thread(coro_fn, *args):
    box = {}

    def target():
        try:
            box["result"] = asyncio.run(coro_fn(*args))
        except BaseException as exc:  # surfaced by the test
            box["error"] = exc

    thread = threading.Thread(target=target, daemon=True)
    thread.start()
    return thread, box


def _waiting(kind: str, after_key: str | None = None):
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        runs = [r for r in asyncio.run(waiting_stage_runs(SLUG)) if r.kind == kind and r.key != after_key]
        if runs:
            return runs[0]
        time.sleep(0.3)  # polling Prefect for the pause, not a timing assertion
    raise AssertionError(f"the stage never waited for {kind}")


def _newest_code() -> str:
    with session_scope() as s:
        m = s.exec(select(Message).where(Message.kind == "approval_request").order_by(Message.id.desc())).first()
    return re.search(r"--code ([A-Z2-9]{10})", m.body_text).group(1)


def _approve(run, **extra) -> None:
    accepted, reason = asyncio.run(resume(run.flow_run_id, {"official": "c2-off", "code": _newest_code(),
                                                            "decision": "approve", **extra}))
    assert accepted, reason


def test_missing_paper_copies_block_approval_until_overridden_with_reason(sqlite_db, prefect_server):
    from flows.stage import stage

    _install()
    with session_scope() as s:
        set_clock(s, SLUG, parse_local("2031-06-01 09:00"))
        short, full = (file_application(s, SLUG, "110200", "platform").reference for _ in range(2))
        set_clock(s, SLUG, parse_local("2031-06-10 18:00"))
    with session_scope() as s:
        campaign = get_campaign(s, SLUG)
        for i, ref in enumerate((short, full)):
            record_online_registration(s, campaign, ref, number=f"SFXM-{i}", registered_on=date(2031, 6, 2), by="c2-con")
        record_paper_receipt(s, campaign, full, copies=2, received_on=date(2031, 6, 3), by="收文员")
        record_paper_receipt(s, campaign, short, copies=1, received_on=date(2031, 6, 3), by="收文员")
    thread, box = _run_in_thread(stage, SLUG, "110200")
    scores = _waiting("scores")
    rows = [{"reference": r, "demo": 80, "innovation": 70, "conflict": False, "note": ""} for r in (short, full)]
    assert asyncio.run(resume(scores.flow_run_id, {"expert": "c2-e1", "rows": rows}))[0]

    first = _waiting("approval")
    _approve(first)  # plain approval: refused, a new round with new codes
    second = _waiting("approval", after_key=first.key)
    _approve(second, override_double_track=True)  # override without a reason: refused too
    third = _waiting("approval", after_key=second.key)
    _approve(third, override_double_track=True, reason="纸质材料第二份在邮寄途中，已电话核实")
    thread.join(120)
    assert "error" not in box, box.get("error")

    with session_scope() as s:
        actions = [a for a in s.exec(select(AuditLog).order_by(AuditLog.seq)) if a.action.startswith("approval.")]
        refused = [a for a in actions if a.action.startswith("approval.refused")]
        assert [a.action for a in refused] == ["approval.refused.double_track", "approval.refused.override_no_reason"]
        assert f"{short}（" in refused[0].after["zh"] and "1/2" in refused[0].after["zh"] and full not in refused[0].after["zh"]
        override = next(a for a in actions if a.action == "approval.override_double_track")
        assert override.actor == "c2-off" and override.after["reason"] == "纸质材料第二份在邮寄途中，已电话核实"
        assert override.after["missing"] == [f"{short}: 1 of 2 paper copies"]
        assert [a.action for a in actions][-1] == "approval.approve"
        stage_row = s.exec(select(Stage).where(Stage.unit_code == "110200")).one()
        assert stage_row.state == "closed" and stage_row.round == 2
        up = s.exec(select(Entry).where(Entry.unit_code == "110000")).all()
        assert len(up) == 2


def test_the_approve_command_overrides_the_double_track_with_its_reason(sqlite_db, prefect_server):
    from typer.testing import CliRunner

    from cli.main import app
    from flows.stage import stage

    _install()
    with session_scope() as s:
        set_clock(s, SLUG, parse_local("2031-06-01 09:00"))
        ref = file_application(s, SLUG, "110200", "platform").reference  # no paper, no registration
        set_clock(s, SLUG, parse_local("2031-06-10 18:00"))
    thread, box = _run_in_thread(stage, SLUG, "110200")
    scores = _waiting("scores")
    rows = [{"reference": ref, "demo": 80, "innovation": 70, "conflict": False, "note": ""}]
    assert asyncio.run(resume(scores.flow_run_id, {"expert": "c2-e1", "rows": rows}))[0]

    def approve(*extra: str):
        return CliRunner().invoke(app, ["approve", "110200", "--official", "c2-off", "--code", _newest_code(),
                                        "--campaign", SLUG, *extra])

    first = _waiting("approval")
    plain = approve()
    assert plain.exit_code == 0, plain.output  # the input is taken; the stage refuses the list
    second = _waiting("approval", after_key=first.key)
    reason = "网上登记与纸质材料已电话核实，补交中"
    done = approve("--override-double-track", reason)
    assert done.exit_code == 0, done.output
    thread.join(120)
    assert "error" not in box, box.get("error")
    with session_scope() as s:
        actions = {a.action: a for a in s.exec(select(AuditLog).order_by(AuditLog.seq))}
        stage_row = s.exec(select(Stage).where(Stage.unit_code == "110200")).one()
    assert "双轨材料未齐" in actions["approval.refused.double_track"].after["zh"]
    override = actions["approval.override_double_track"]
    assert override.actor == "c2-off" and override.after["reason"] == reason
    assert override.after["missing"] == [f"{ref}: 0 of 2 paper copies, not registered on the online system"]
    assert stage_row.state == "closed" and second.key != first.key

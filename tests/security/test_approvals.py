"""Approvals through the real input path (the paused stage run's form, answered through
Prefect's resume API): only an official of the unit, with a valid, unexpired, unused code of
this stage and round, decides. Codes exist in clear only in the mail; the database keeps salted
hashes. Five wrong attempts lock the stage and the parent unit is told by e-mail. Every
attempt is audited: who, when, what (never the code)."""

from datetime import timedelta

import pytest
from sqlmodel import select

from core.campaign import ApprovalRules
from core.clock import parse_local
from core.db import session_scope
from core.errors import Conflict
from models import ApprovalCode, AuditLog, Message
from tasks.approval import apply_approval
from tasks.chain import set_clock
from tasks.stages import load_stage
from tests.support.people import answer_until, mailed_code, scores_only, submit, waiting_for
from tests.support.stage_runs import run_in_thread
from tests.support.stage_state import tables_containing
from tests.support.world import SLUG, UNIT, World, prepare_campaign

pytestmark = pytest.mark.prefect
OFFICIAL = "c2-off@example.org"
NOW = parse_local("2031-06-10 18:00")
MAX_FAILED = ApprovalRules().max_failed  # the mini campaign keeps the default [approval] rules



def new_code(world: World, *old: str) -> str:
    """Wait for the next approval request's code to arrive by mail."""
    answer_until(lambda: mailed_code(world.smtp.messages, OFFICIAL, not_in=old) is not None, world,
                 answer=lambda *_: None)
    return mailed_code(world.smtp.messages, OFFICIAL, not_in=old)


def attempts(world: World) -> tuple[str, str]:
    """Play the attempts of the test against the waiting run; return the two codes mailed."""
    answer_until(lambda: waiting_for("approval"), world, answer=scores_only)
    first = new_code(world)
    submit(world, {"official": "c1-off", "code": first})  # an official of another unit
    submit(world, {"official": "p-off", "code": first})  # the parent unit's official
    submit(world, {"official": "c2-off", "code": first, "decision": "reject", "reason": "请补充材料 / more proof"})
    second = new_code(world, first)  # the rejection burnt the code and opened round 2
    submit(world, {"official": "c2-off", "code": first})  # used, and of the previous round
    with session_scope() as s:
        set_clock(s, SLUG, NOW + timedelta(days=5))  # past the code's validity
    submit(world, {"official": "c2-off", "code": second})
    answer_until(lambda: _audited("approval.refused.bad_code") == 2, world, answer=lambda *_: None)
    with session_scope() as s:
        set_clock(s, SLUG, NOW)
    submit(world, {"official": "c2-off", "code": "AAAAAAAAAA"})  # a guess: the fifth failure
    return first, second


def _audited(action: str) -> int:
    with session_scope() as s:
        return len(s.exec(select(AuditLog).where(AuditLog.action == action)).all())


def test_only_a_live_code_of_the_units_official_counts_and_five_failures_lock(db, prefect_server, smtp_server, tmp_path):
    from flows.stage import stage

    prepare_campaign(tmp_path)
    thread, box = run_in_thread(stage, SLUG, UNIT)
    world = World(db, tmp_path, smtp_server)
    first, second = attempts(world)
    thread.join(120)
    world.dispose()
    assert isinstance(box.get("error"), Conflict) and "锁定" in box["error"].zh and "locked" in box["error"].en

    with session_scope() as s:
        log = s.exec(select(AuditLog).where(AuditLog.action.startswith("approval.")).order_by(AuditLog.seq)).all()
        ctx = load_stage(s, SLUG, UNIT)
        assert (ctx.stage.locked, ctx.stage.failed_attempts, ctx.stage.state) == (True, MAX_FAILED, "awaiting_approval")
    seen = [(r.action, r.actor) for r in log if r.action != "approval.codes_issued"]
    assert seen == [("approval.refused.wrong_official", "c1-off"), ("approval.refused.wrong_official", "p-off"),
                    ("approval.reject", "c2-off"), ("approval.refused.bad_code", "c2-off"),
                    ("approval.refused.bad_code", "c2-off"), ("approval.refused.bad_code", "c2-off")]
    refused = [r for r in log if r.action.startswith("approval.refused")]
    assert all(r.after["zh"] and r.after["en"] and "code" not in r.after["input"] for r in refused)
    assert [r.after["locked"] for r in refused] == [False, False, False, False, True]
    assert refused[3].at.replace(tzinfo=None) == (NOW + timedelta(days=5)).replace(tzinfo=None)  # when: the stage's clock
    for code in (first, second):  # in clear only in the mail that carried it
        assert tables_containing(db, code) == {"message.body_text", "message.body_html"}
    locked_stays_locked_and_the_parent_is_told(second, smtp_server)


def locked_stays_locked_and_the_parent_is_told(live_code: str, smtp_server) -> None:
    """Even the right code is refused now; the parent unit's contact gets the lockout mail."""
    with session_scope() as s:
        outcome = apply_approval(s, load_stage(s, SLUG, UNIT, lock=True), {"official": "c2-off", "code": live_code})
        assert (outcome.kind, "锁定" in outcome.zh) == ("refused", True)
        lockout = s.exec(select(Message).where(Message.kind == "lockout")).all()
        assert [m.recipient for m in lockout] == ["p-con@example.org"]
        hashes = [c.code_hash for c in s.exec(select(ApprovalCode))]
    assert len(hashes) == 2 and not any(live_code in h.upper() for h in hashes)
    told = [r for r in smtp_server.messages if "p-con@example.org" in r.rcpt_tos]  # sent by the run itself
    assert len(told) == 1
    assert "锁定" in str(told[0].message["Subject"]) + told[0].message.get_body(("plain",)).get_content()

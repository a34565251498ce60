"""Whatever an approval input holds — over-long ids, NUL and right-to-left marks, wrong types,
keys the form does not have — it is refused without a crash, audited (who, cut to the column's
size; what, cut short and never with the code) and counted towards the lock, on SQLite and
PostgreSQL. The lock comes after the campaign's `[approval] max_failed` wrong attempts, and the
codes have the length and lifetime its `[approval]` section sets."""

import os
from datetime import timedelta

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlmodel import func, select

from core.campaign import load_campaign
from core.clock import to_utc
from core.db import session_scope
from core.errors import ConfigError
from models import ApprovalCode, AuditLog, Message
from tasks.approval import ACTOR_MAX, ApprovalInput, apply_approval, issue_codes, unlock
from tasks.stages import load_stage
from tests.conftest import MINI_CAMPAIGN
from tests.security import hostile
from tests.support import databases

SLUG, UNIT = "mini-test", "110200"
EXAMPLES = int(os.environ.get("TUIJIAN_FUZZ_EXAMPLES", "25"))
BOUNDED = settings(max_examples=EXAMPLES, deadline=None, derandomize=EXAMPLES <= 30,
                   suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
FRAGMENTS = [hostile.SCRIPT, hostile.FORMULA, hostile.TRAVERSAL, hostile.RTL, hostile.CRLF, "\x00",
             "\u200f\u2066\u202e", "c2-off", "审批人" * 40, "a" * 150, "'; DROP TABLE auditlog; --"]
text = st.lists(st.sampled_from(FRAGMENTS) | st.text(max_size=12), max_size=4).map("".join)
anything = st.none() | st.booleans() | st.integers() | st.floats() | text | st.lists(text, max_size=3)
approval_like = st.fixed_dictionaries(
    {"official": st.sampled_from(["c2-off", "c1-off", "p-off"]) | text | anything, "code": text | anything},
    optional={"decision": st.sampled_from(["approve", "reject", "edit"]) | anything,
              "reason": text | st.just("理" * 3000), "selection": st.lists(text, max_size=5) | anything,
              "override_double_track": anything, "extra_key": text})


def install(tmp_path, **approval) -> None:
    """The mini campaign, with an `[approval]` section when given."""
    path = tmp_path / "campaign.toml"
    lines = [f"{key} = {value}" for key, value in approval.items()]
    path.write_text(MINI_CAMPAIGN.read_text(encoding="utf-8") + "\n[approval]\n" + "\n".join(lines) + "\n",
                    encoding="utf-8")
    databases.install(path)


def _refusals() -> int:
    with session_scope() as s:
        return s.exec(select(func.count()).select_from(AuditLog)
                      .where(AuditLog.action.startswith("approval.refused."))).one()


def test_the_form_bounds_what_an_official_may_type():
    schema = ApprovalInput.model_json_schema()["properties"]
    assert (schema["official"]["maxLength"], schema["code"]["maxLength"], schema["reason"]["maxLength"]) == (64, 64, 2000)
    assert schema["selection"]["items"]["maxLength"] == 100 and schema["selection"]["maxItems"] == 2000


@pytest.fixture
def three_strikes(db, tmp_path) -> None:
    """The mini campaign locking a stage after 3 wrong attempts, on each database in turn."""
    install(tmp_path, max_failed=3)


@BOUNDED
@given(attempts=st.lists(approval_like, min_size=1, max_size=4))
def test_any_input_is_refused_audited_and_counted_never_a_crash(three_strikes, attempts):
    with session_scope() as s:  # a coordinator unlocks between examples: a fresh round, no failures
        unlock(s, load_stage(s, SLUG, UNIT, lock=True), actor="test", reason="next example")
    for value in attempts:
        seen = _refusals()
        with session_scope() as s:
            ctx = load_stage(s, SLUG, UNIT, lock=True)
            failed, locked = ctx.stage.failed_attempts, ctx.stage.locked
            outcome = apply_approval(s, ctx, value)
        with session_scope() as s:
            ctx = load_stage(s, SLUG, UNIT)
            row = s.exec(select(AuditLog).order_by(AuditLog.seq.desc())).first()
        assert _refusals() == seen + 1 and row.action.startswith("approval.refused.")
        assert outcome.zh and outcome.en and len(row.actor) <= ACTOR_MAX and "\x00" not in row.actor
        assert "code" not in row.after["input"]
        if locked:
            assert (outcome.kind, ctx.stage.failed_attempts) == ("refused", failed)
        else:
            assert ctx.stage.failed_attempts == failed + 1
            assert (outcome.kind == "locked") == (failed + 1 == 3) == ctx.stage.locked


def test_the_stage_locks_after_the_campaigns_number_of_wrong_codes(sqlite_db, tmp_path):
    install(tmp_path, max_failed=2, code_length=12, code_valid_factor=3, code_valid_min_hours=10)
    with session_scope() as s:
        ctx = load_stage(s, SLUG, UNIT, lock=True)
        codes = issue_codes(s, ctx)
        timeout = ctx.spec.approval_timeout_hours
    with session_scope() as s:
        issued = s.exec(select(ApprovalCode)).all()
    assert codes and all(len(c) == 12 for c in codes.values())
    assert {to_utc(c.expires_at) - to_utc(c.issued_at) for c in issued} == {timedelta(hours=3 * max(timeout, 10))}
    kinds = []
    for guess in ("AAAAAAAAAAAA", "BBBBBBBBBBBB", codes["c2-off"]):
        with session_scope() as s:
            kinds.append(apply_approval(s, load_stage(s, SLUG, UNIT, lock=True),
                                        {"official": "c2-off", "code": guess}).kind)
    assert kinds == ["refused", "locked", "refused"]  # the right code comes too late: locked
    with session_scope() as s:
        ctx = load_stage(s, SLUG, UNIT)
        assert (ctx.stage.locked, ctx.stage.failed_attempts, ctx.stage.state) == (True, 2, "open")
        assert [m.recipient for m in s.exec(select(Message).where(Message.kind == "lockout"))] == ["p-con@example.org"]


@pytest.mark.parametrize(("key", "value"), [("max_failed", 0), ("code_length", 4), ("code_valid_factor", 0.5),
                                            ("code_valid_min_hours", 0)])
def test_approval_rules_out_of_range_are_refused_naming_the_key(tmp_path, key, value):
    path = tmp_path / "campaign.toml"
    path.write_text(MINI_CAMPAIGN.read_text(encoding="utf-8") + f"\n[approval]\n{key} = {value}\n", encoding="utf-8")
    with pytest.raises(ConfigError) as refused:
        load_campaign(path)
    assert [e.field for e in refused.value.errors] == [f"approval.{key}"]

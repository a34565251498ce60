"""The audit log is append-only: the database itself refuses UPDATE, DELETE (and, on
PostgreSQL, TRUNCATE) of audit rows, through the app's own session or plain SQL; tampering done
behind the triggers' back (a superuser disabling them) is found by `verify_chain`, which
`tuijian audit verify` runs for people (exit 1, naming the first bad row)."""

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import text, update
from sqlalchemy.exc import DBAPIError
from sqlmodel import select
from typer.testing import CliRunner

from cli.main import app
from core.clock import real_now, to_utc
from core.db import get_engine, session_scope
from models import AuditLog, Campaign
from tasks.audit import record, row_hash, verify_chain
from tests.conftest import MINI_CAMPAIGN
from tests.support import databases


def _log(n: int = 4) -> None:
    """The campaign's own audit rows plus n more, all committed."""
    databases.install(MINI_CAMPAIGN)
    with session_scope() as s:
        campaign = s.exec(select(Campaign)).one()
        for i in range(n):
            record(s, actor=f"official-{i}", action="test.act", obj=campaign, at=real_now(),
                   after={"i": i, "text": "审批 / approval"}, campaign_id=campaign.id)


def _refused(sql: str) -> str:
    with pytest.raises(DBAPIError) as caught, get_engine().begin() as conn:
        conn.execute(text(sql))
    return str(caught.value)


def _rows() -> list[tuple]:
    with session_scope() as s:
        return [(r.seq, r.actor, r.hash) for r in s.exec(select(AuditLog).order_by(AuditLog.seq))]


def test_update_and_delete_are_refused_by_the_database(db):
    _log()
    before = _rows()
    for sql in ("UPDATE auditlog SET actor = 'someone else' WHERE seq = 2",
                "UPDATE auditlog SET after = NULL",
                "DELETE FROM auditlog WHERE seq = 3",
                "DELETE FROM auditlog"):
        assert "append-only" in _refused(sql), sql
    if db.startswith("postgresql"):
        assert "append-only" in _refused("TRUNCATE auditlog")
    with pytest.raises(DBAPIError, match="append-only"), session_scope() as s:  # the ORM path too
        s.exec(update(AuditLog).where(AuditLog.seq == 1).values(actor="x"))
    assert _rows() == before and len(before) == 5
    with session_scope() as s:
        assert verify_chain(s) == []


def _behind_the_triggers(db: str, *statements: str) -> None:
    """Run statements with the append-only triggers out of the way, as a superuser could."""
    with get_engine().begin() as conn:
        if db.startswith("sqlite"):
            conn.execute(text("DROP TRIGGER auditlog_no_update"))
            conn.execute(text("DROP TRIGGER auditlog_no_delete"))
        else:
            conn.execute(text("ALTER TABLE auditlog DISABLE TRIGGER USER"))
        for sql in statements:
            conn.execute(text(sql))


@pytest.mark.parametrize(("tamper", "found"), [
    (["UPDATE auditlog SET actor = 'someone else' WHERE seq = 3"], "seq 3: content does not match its hash"),
    (["DELETE FROM auditlog WHERE seq = 3"], "gap before seq 4"),
    (["DELETE FROM auditlog WHERE seq = 5"], "rows removed at the end"),
    (["DELETE FROM auditlog"], "rows removed at the end"),
    (["UPDATE auditlog SET after = NULL WHERE seq = 2"], "seq 2: content does not match its hash"),
    (["UPDATE auditlog SET recorded_at = at WHERE seq = 2"], "seq 2: content does not match its hash"),
])
def test_tampering_behind_the_triggers_is_found_by_the_chain(db, tamper, found):
    _log()
    _behind_the_triggers(db, *tamper)
    with session_scope() as s:
        problems = verify_chain(s)
    assert any(found in p for p in problems), problems


def test_a_forged_row_with_a_recomputed_hash_breaks_the_next_link(db):
    _log()
    with session_scope() as s:
        row = s.exec(select(AuditLog).where(AuditLog.seq == 3)).one()
        s.expunge(row)
    row.actor = "forger"
    forged = row_hash(row)
    _behind_the_triggers(db, f"UPDATE auditlog SET actor = 'forger', hash = '{forged}' WHERE seq = 3")
    with session_scope() as s:
        problems = verify_chain(s)
        assert len(problems) == 1 and "seq 4: previous hash does not match" in problems[0]


def test_audit_verify_reports_an_intact_log_and_names_the_first_bad_row(db):
    _log()
    runner = CliRunner()
    intact = runner.invoke(app, ["audit", "verify", "--campaign", "mini-test"])
    assert intact.exit_code == 0, intact.output
    assert "审计日志完好" in intact.stdout and "5 rows of mini-test" in intact.stdout
    _behind_the_triggers(db, "UPDATE auditlog SET actor = 'someone else' WHERE seq = 3",
                         "DELETE FROM auditlog WHERE seq = 5")
    tampered = runner.invoke(app, ["audit", "verify"])
    assert tampered.exit_code == 1
    first = tampered.stderr.splitlines()[0]
    assert "审计日志已被改动" in first and "第 3 条内容被改动" in first
    assert "first problem: 第 3 条内容被改动 / seq 3: content does not match its hash" in tampered.stderr
    assert "rows removed at the end" in tampered.stderr  # the later problem is listed too
    unknown = runner.invoke(app, ["audit", "verify", "--campaign", "no-such-campaign"])
    assert unknown.exit_code == 1 and "no-such-campaign" in unknown.stderr


def test_rows_written_before_recorded_at_existed_still_verify(db):
    _log()
    with session_scope() as s:
        last = s.exec(select(AuditLog).where(AuditLog.seq == 5)).one()
        s.expunge(last)
    last.recorded_at = None  # as migration 0003 left the rows written before it
    old_style = row_hash(last)
    _behind_the_triggers(db, f"UPDATE auditlog SET recorded_at = NULL, hash = '{old_style}' WHERE seq = 5",
                         f"UPDATE audithead SET hash = '{old_style}'")
    with session_scope() as s:
        assert verify_chain(s) == []
        assert s.exec(select(AuditLog).where(AuditLog.seq == 4)).one().recorded_at is not None


def test_moving_the_campaign_clock_is_audited_with_the_wall_clock_beside_it(db):
    databases.install(MINI_CAMPAIGN)
    runner = CliRunner()
    for when in ("2031-06-01 09:00", "real"):
        moved = runner.invoke(app, ["campaign", "clock", "mini-test", when])
        assert moved.exit_code == 0, moved.output
    with session_scope() as s:
        moves = s.exec(select(AuditLog).where(AuditLog.action == "campaign.clock").order_by(AuditLog.seq)).all()
        rows = s.exec(select(AuditLog)).all()
        assert verify_chain(s) == []
    assert [(m.before, m.after) for m in moves] == [
        ({"clock": None}, {"clock": "2031-06-01T01:00:00+00:00"}),
        ({"clock": "2031-06-01T01:00:00+00:00"}, {"clock": None})]
    assert all(m.actor.startswith("cli:") for m in moves)
    assert to_utc(moves[0].at) == datetime(2031, 6, 1, 1, tzinfo=UTC)  # the campaign's clock, moved
    wall = datetime.now(UTC)
    assert all(timedelta(0) <= wall - to_utc(r.recorded_at) < timedelta(minutes=5) for r in rows)  # the machine's

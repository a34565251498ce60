"""形式审查 at a higher stage, and what a return changes in the proposed list (real database, both backends)."""

from decimal import Decimal

from sqlmodel import select

from core.db import session_scope
from models import Application, AuditLog, Entry
from tasks.review import list_changed, return_entry, review_entries
from tasks.selection import propose
from tasks.stages import load_stage
from tests.conftest import MINI_CAMPAIGN
from tests.support import databases
from tests.support.entries import arrive
from tests.support.factories import file_application


def _at_province() -> tuple[int, int]:
    """Two platforms forwarded by 乙市 to 甲省; the first's MAU was edited below 0.5 亿 after 乙市 passed it."""
    databases.install(MINI_CAMPAIGN)
    with session_scope() as s:
        bad = file_application(s, "mini-test", "110200", "platform")
        good = file_application(s, "mini-test", "110200", "platform")
        ids = arrive(s, bad, "110000", status="received").id, arrive(s, good, "110000", status="received").id
        bad.mau = Decimal("0.3")
        s.add(bad)
    return ids


def test_the_province_fails_an_entry_a_lower_level_let_through(db):
    bad, good = _at_province()
    with session_scope() as s:
        ctx = load_stage(s, "mini-test", "110000")
        assert review_entries(s, ctx) == {"eligible": 1, "ineligible": 1}
    with session_scope() as s:
        failed, passed = s.get(Entry, bad), s.get(Entry, good)
        assert failed.status == "ineligible" and "不低于0.5亿" in failed.review_note
        assert passed.status == "eligible" and passed.review_note is None
        logged = {r.object_id: r.after for r in s.exec(select(AuditLog).where(AuditLog.action == "entry.review"))}
        assert logged[str(bad)]["status"] == "ineligible" and "mau" in logged[str(bad)]["note"]
        proposal = propose(s, load_stage(s, "mini-test", "110000"))
    assert [p["entry"] for p in proposal] == [good]  # never put forward


def test_a_return_to_the_applicant_is_recorded_and_changes_the_proposed_list(db):
    databases.install(MINI_CAMPAIGN)
    with session_scope() as s:
        app = file_application(s, "mini-test", "110200", "platform")
        entry = s.exec(select(Entry).where(Entry.application_id == app.id)).one()
        entry.status = "eligible"
        ctx = load_stage(s, "mini-test", "110200")
        ctx.stage.proposal = [{"entry": entry.id, "kind": "base"}]
        s.add_all([entry, ctx.stage])
        s.flush()
        assert list_changed(s, ctx) is None
        return_entry(s, entry.id, to="applicant", reason="请补充月活数据", actor="c2-off")
        zh, en = list_changed(s, load_stage(s, "mini-test", "110200"))
        assert "已被退回" in zh and "returned" in en
    with session_scope() as s:
        assert s.get(Entry, entry.id).status == "returned"
        log = s.exec(select(AuditLog).where(AuditLog.action == "entry.return")).one()
        assert log.actor == "c2-off" and log.after == {"status": "returned", "to": "applicant",
                                                       "reason": "请补充月活数据"}
        ref = s.get(Application, app.id).reference
        other = file_application(s, "mini-test", "110200", "platform")
        zh, _ = list_changed(s, load_stage(s, "mini-test", "110200"))
        assert s.get(Application, other.id).reference in zh and ref not in zh  # a new arrival

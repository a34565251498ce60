"""双轨: the pure rule, recording receipts and registrations, the gaps query and the override."""

from datetime import date

import pytest
from hypothesis import given
from hypothesis import strategies as st
from sqlmodel import select

from core.campaign import load_campaign
from core.db import session_scope
from core.errors import Conflict, ValidationFailed
from models import AuditLog, Entry, OnlineRegistration, PaperReceipt
from tasks.campaigns import get_campaign, install_campaign
from tasks.double_track import (
    Holding,
    check_double_track,
    double_track_gaps,
    double_track_problems,
    missing_double_track,
)
from tasks.receipts import record_all_receipts, record_online_registration, record_paper_receipt
from tasks.stages import load_stage
from tests.conftest import MINI_CAMPAIGN
from tests.support.factories import file_application


def _h(i: int) -> Holding:
    return Holding(entry_id=i, application_id=100 + i, reference=f"R{i}", project=f"项目{i}")


def test_rule_flags_short_paper_and_missing_registration():
    gaps = missing_double_track([_h(1), _h(2), _h(3)], {1: 3, 2: 2}, {101, 103}, 3, True)
    assert [(g.entry_id, g.copies, g.paper_missing, g.online_missing) for g in gaps] == [
        (2, 2, True, True), (3, 0, True, False)]
    assert "2/3" in gaps[0].zh and "2 of 3 paper copies" in gaps[0].en


def test_rule_is_off_when_nothing_is_required():
    assert missing_double_track([_h(1), _h(2)], {}, set(), 0, False) == []
    only_online = missing_double_track([_h(1), _h(2)], {}, {101}, 0, True)
    assert [(g.entry_id, g.paper_missing, g.online_missing) for g in only_online] == [(2, False, True)]
    assert "未在网上申报系统登记" in only_online[0].zh


@given(st.dictionaries(st.integers(1, 8), st.integers(0, 5)), st.sets(st.integers(101, 108)),
       st.integers(0, 4), st.booleans())
def test_rule_flags_exactly_the_entries_short_of_something(receipts, registered, need, online):
    entries = [_h(i) for i in range(1, 9)]
    flagged = {g.entry_id for g in missing_double_track(entries, receipts, registered, need, online)}
    expected = {h.entry_id for h in entries
                if receipts.get(h.entry_id, 0) < need or (online and h.application_id not in registered)}
    assert flagged == expected


def test_rule_flags_a_missing_scan_where_the_unit_asks_for_one():
    gaps = missing_double_track([_h(1), _h(2)], {1: 2, 2: 2}, set(), 2, False, scans={1}, scan_required=True)
    assert [(g.entry_id, g.paper_missing, g.scan_missing, g.online_missing) for g in gaps] == [(2, False, True, False)]
    assert "未收到PDF扫描版" in gaps[0].zh and "no PDF scan" in gaps[0].en
    assert missing_double_track([_h(2)], {2: 2}, set(), 2, False, scans=set()) == []  # scan not asked for


def _campaign_with_double_track(copies: int = 2, scan: bool = False) -> None:
    """The mini campaign with 乙市 asking for paper copies (and their scan), the online registration on."""
    config = load_campaign(MINI_CAMPAIGN)
    units = [u.model_copy(update={"paper_copies": copies, "paper_scan_required": scan}) if u.code == "110200"
             else u for u in config.units]
    config = config.model_copy(update={"units": units,
                                       "double_track": config.double_track.model_copy(update={"online_registration": True})})
    with session_scope() as s:
        install_campaign(s, config)


def test_record_and_query_gaps(db):
    _campaign_with_double_track()
    with session_scope() as s:
        a, b = (file_application(s, "mini-test", "110200", "platform") for _ in range(2))
        refs = (a.reference, b.reference)
    with session_scope() as s:
        campaign = get_campaign(s, "mini-test")
        record_paper_receipt(s, campaign, refs[0], copies=1, received_on=date(2031, 6, 5), by="收文员甲")
        record_paper_receipt(s, campaign, f"{refs[0]}@110200", copies=2, received_on=date(2031, 6, 6), by="收文员甲")
        record_online_registration(s, campaign, refs[0], number="SFXM-0001", registered_on=date(2031, 6, 1), by="c2-con")
    with session_scope() as s:
        stage_id = load_stage(s, "mini-test", "110200").stage.id
        gaps = double_track_gaps(s, stage_id)
        assert [(g.reference, g.copies, g.copies_required, g.online_missing) for g in gaps] == [(refs[1], 0, 2, True)]
        receipt = s.exec(select(PaperReceipt)).one()
        assert (receipt.copies, receipt.received_on) == (2, date(2031, 6, 6))
        audits = s.exec(select(AuditLog).where(AuditLog.action == "double_track.paper").order_by(AuditLog.seq)).all()
        assert [a.after["copies"] for a in audits] == [1, 2] and audits[1].before["copies"] == 1


def test_registration_number_belongs_to_one_application(db):
    _campaign_with_double_track()
    with session_scope() as s:
        refs = [file_application(s, "mini-test", "110200", "platform").reference for _ in range(2)]
    with session_scope() as s:
        campaign = get_campaign(s, "mini-test")
        record_online_registration(s, campaign, refs[0], number="SFXM-7", registered_on=date(2031, 6, 1), by="x")
    with pytest.raises(Conflict) as err, session_scope() as s:
        record_online_registration(s, get_campaign(s, "mini-test"), refs[1], number="SFXM-7",
                                   registered_on=date(2031, 6, 1), by="x")
    assert refs[0] in err.value.zh
    with pytest.raises(ValidationFailed), session_scope() as s:
        record_paper_receipt(s, get_campaign(s, "mini-test"), refs[1], copies=-1, received_on=date(2031, 6, 1), by="x")


def test_record_all_receipts_closes_every_gap_once(db):
    _campaign_with_double_track(copies=3)
    with session_scope() as s:
        for _ in range(3):
            file_application(s, "mini-test", "110200", "experience_centre")
    with session_scope() as s:
        stage_id = load_stage(s, "mini-test", "110200").stage.id
        assert len(double_track_gaps(s, stage_id)) == 3
        assert record_all_receipts(s, stage_id, by="模拟收文") == 3
    with session_scope() as s:
        assert double_track_gaps(s, stage_id) == []
        assert record_all_receipts(s, stage_id, by="模拟收文") == 0
        assert {r.copies for r in s.exec(select(PaperReceipt))} == {3}
        assert len(s.exec(select(OnlineRegistration)).all()) == 3


def test_mini_campaign_asks_for_nothing(mini_campaign):
    with session_scope() as s:
        file_application(s, "mini-test", "110200", "platform")
    with session_scope() as s:
        ctx = load_stage(s, "mini-test", "110200")
        entries = s.exec(select(Entry).where(Entry.unit_code == "110200")).all()
        assert double_track_problems(s, ctx, [{"entry": e.id, "kind": "base"} for e in entries]) == []
        assert double_track_gaps(s, ctx.stage.id) == []


def test_override_needs_a_reason_and_is_audited(db):
    _campaign_with_double_track()
    with session_scope() as s:
        file_application(s, "mini-test", "110200", "platform")
    with session_scope() as s:
        ctx = load_stage(s, "mini-test", "110200")
        proposal = [{"entry": e.id, "kind": "base"} for e in s.exec(select(Entry))]
        why, zh, en = check_double_track(s, ctx, proposal, override=False, reason="", actor="c2-off")
        assert why == "double_track" and "0/2" in zh and "online system" in en
        assert check_double_track(s, ctx, proposal, override=True, reason="", actor="c2-off")[0] == "override_no_reason"
        assert check_double_track(s, ctx, proposal, override=True, reason="材料在途，已电话确认", actor="c2-off") is None
    with session_scope() as s:
        row = s.exec(select(AuditLog).where(AuditLog.action == "approval.override_double_track")).one()
        assert row.actor == "c2-off" and row.after["reason"] == "材料在途，已电话确认"


def test_a_unit_asking_for_the_scan_counts_it_missing_until_recorded(db):
    _campaign_with_double_track(copies=2, scan=True)
    with session_scope() as s:
        scanned, unscanned, simulated = (file_application(s, "mini-test", "110200", "platform").reference
                                         for _ in range(3))
    with session_scope() as s:
        campaign = get_campaign(s, "mini-test")
        for i, ref in enumerate((scanned, unscanned, simulated)):
            record_online_registration(s, campaign, ref, number=f"SFXM-{i}", registered_on=date(2031, 6, 1), by="x")
        record_paper_receipt(s, campaign, scanned, copies=2, received_on=date(2031, 6, 5), by="收文员", scan=True)
        record_paper_receipt(s, campaign, unscanned, copies=2, received_on=date(2031, 6, 5), by="收文员")
    with session_scope() as s:
        stage_id = load_stage(s, "mini-test", "110200").stage.id
        gaps = {g.reference: g for g in double_track_gaps(s, stage_id)}
        assert set(gaps) == {unscanned, simulated}
        assert gaps[unscanned].scan_missing and not gaps[unscanned].paper_missing
        assert gaps[simulated].scan_missing and gaps[simulated].paper_missing
        audit = s.exec(select(AuditLog).where(AuditLog.action == "double_track.paper").order_by(AuditLog.seq)).first()
        assert audit.after["scan"] is True
        assert record_all_receipts(s, stage_id, by="模拟收文") == 2  # the simulated office brings both in
    with session_scope() as s:
        assert double_track_gaps(s, stage_id) == []
        assert all(r.scan_received and r.copies == 2 for r in s.exec(select(PaperReceipt)))


def test_wuhan_and_its_districts_ask_for_the_pdf_scan():
    """[WH] 三(一): 纸质版（一式两份）、PDF格式扫描版 to the district; 三(二): scans to the city."""
    from tests.conftest import CAMPAIGN_2023

    config = load_campaign(CAMPAIGN_2023)
    asking = {u.code for u in config.units if u.paper_scan_required}
    assert "420100" in asking and "420102" in asking and "440000" not in asking
    assert all(code.startswith("4201") for code in asking)

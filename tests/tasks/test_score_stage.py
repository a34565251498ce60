"""Scoring at a stage on real databases: assignment, recording, missing, aggregates, ranks."""

from decimal import Decimal

from sqlmodel import func, select

from core.db import session_scope
from models import Application, AuditLog, ConflictOfInterest, Entry, Score
from tasks.audit import verify_chain
from tasks.score_record import ScoreRow, record_scores
from tasks.score_stage import (
    assign_experts,
    compute_aggregates,
    missing_scores,
    rank_stage,
)
from tests.tasks import scoring_factories as f

D = Decimal


def count(model) -> int:
    with session_scope() as s:
        return s.exec(select(func.count()).select_from(model)).one()


def rows(ids: dict, expert: str, marks: dict[str, tuple]) -> list[ScoreRow]:
    return [ScoreRow(ids["ref"][k], expert, {"demo": D(a), "innovation": D(b)}) for k, (a, b) in marks.items()]


def record(ids: dict, batch: list[ScoreRow], source: str = "input") -> list:
    with session_scope() as s:
        return record_scores(s, ids["stage"], batch, source=source, actor="test")


def test_assignment_leaves_out_conflicts_and_records_them_once(db, tmp_path):
    ids = f.province_stage(tmp_path)
    for _ in range(2):
        with session_scope() as s:
            got = assign_experts(s, ids["stage"])
    assert got == {ids["A"]: ["p-e1"], ids["B"]: ["p-e1", "p-e2"], ids["C"]: ["p-e1", "p-e2"]}
    with session_scope() as s:
        conflicts = s.exec(select(ConflictOfInterest)).all()
        assert [(c.entry_id, c.expert_key) for c in conflicts] == [(ids["A"], "p-e2")]
        assert f.CONFLICT in conflicts[0].reason
        assert verify_chain(s) == []
        assert sorted(missing_scores(s, ids["stage"])) == sorted(
            [(ids["A"], "p-e1"), (ids["B"], "p-e1"), (ids["B"], "p-e2"), (ids["C"], "p-e1"), (ids["C"], "p-e2")])


def test_every_problem_is_returned_and_nothing_written(db, tmp_path):
    ids = f.province_stage(tmp_path)
    ref = ids["ref"]
    batch = [
        ScoreRow(ref["B"], "nobody", {"demo": D(1), "innovation": D(1)}, row=1),
        ScoreRow(ref["D"], "p-e1", {"demo": D(1), "innovation": D(1)}, row=2),   # passthrough
        ScoreRow(ref["E"], "p-e1", {"demo": D(1), "innovation": D(1)}, row=3),   # ineligible
        ScoreRow(ref["A"], "p-e2", {"demo": D(1), "innovation": D(1)}, row=4),   # conflicted
        ScoreRow(ref["B"], "p-e1", {"demo": D(101), "innovation": None}, row=5),
        ScoreRow(ref["C"], "p-e1", {"demo": D(1), "innovation": D(1)}, conflict=True, row=6),
        ScoreRow(ref["B"], "p-e1", {"demo": D(1), "innovation": D(1)}, row=7),   # duplicate
        ScoreRow(ref["C"], "p-e2", {"demo": D(90), "innovation": D(90)}, row=8),  # fine
    ]
    errors = record(ids, batch)
    assert [(e.row, e.field) for e in errors] == [
        (1, "expert"), (2, "reference"), (3, "reference"), (4, "conflict"),
        (5, "demo"), (5, "innovation"), (6, "conflict"), (7, "reference")]
    assert all(e.zh and e.en for e in errors)
    assert "关联" in errors[3].zh or "同一单位" in errors[3].zh
    assert count(Score) == 0 and count(ConflictOfInterest) == 0


def test_recording_is_an_upsert_and_repeats_are_harmless(db, tmp_path):
    ids = f.province_stage(tmp_path)
    assert record(ids, rows(ids, "p-e1", {"A": (80, 90), "B": (70, 70)})) == []
    audits = count(AuditLog)
    assert count(Score) == 4
    assert record(ids, rows(ids, "p-e1", {"A": (80, 90), "B": (70, 70)}), source="sheet") == []
    assert count(Score) == 4 and count(AuditLog) == audits
    assert record(ids, rows(ids, "p-e1", {"B": (75, 70)}), source="sheet") == []
    with session_scope() as s:
        changed = s.exec(select(Score).where(Score.entry_id == ids["B"], Score.criterion == "demo")).one()
        assert (changed.value, changed.source) == (D(75), "sheet")
        last = s.exec(select(AuditLog).order_by(AuditLog.seq.desc())).first()
        assert last.action == "score.record" and last.before == {"scores": {f"{ids['ref']['B']}:p-e1:demo": "70.0000"}}
        assert verify_chain(s) == []


def test_declared_conflict_replaces_scores_and_is_not_missing(db, tmp_path):
    ids = f.province_stage(tmp_path)
    assert record(ids, rows(ids, "p-e2", {"B": (60, 60)})) == []
    assert record(ids, [ScoreRow(ids["ref"]["B"], "p-e2", {}, conflict=True, note="曾任顾问")]) == []
    with session_scope() as s:
        coi = s.exec(select(ConflictOfInterest).where(ConflictOfInterest.entry_id == ids["B"])).one()
        assert coi.expert_key == "p-e2" and "曾任顾问" in coi.reason
        assert (ids["B"], "p-e2") not in missing_scores(s, ids["stage"])
    assert count(Score) == 0
    assert [e.field for e in record(ids, rows(ids, "p-e2", {"B": (60, 60)}))] == ["conflict"]


def test_aggregates_and_ranks_are_stored(db, tmp_path):
    ids = f.province_stage(tmp_path)
    assert record(ids, rows(ids, "p-e1", {"A": (80, 80), "B": (90, 70), "C": (70, 70)})) == []
    assert record(ids, rows(ids, "p-e2", {"B": (70, 70), "C": (90, 90)})) == []
    with session_scope() as s:
        decided = f.entry(s, f.application(s, ids["cid"]), status="selected", rank=7).id
        assert missing_scores(s, ids["stage"]) == []
        got = compute_aggregates(s, ids["stage"])
        ranked = rank_stage(s, ids["stage"])
    # B = mean(80, 70) = 75, C = mean(70, 90) = 80, A = 80 by one expert: C first (more experts)
    assert got == {ids["A"]: D(80), ids["B"]: D(75), ids["C"]: D(80)}
    assert [i.entry_id for i in ranked] == [ids["C"], ids["A"], ids["B"]]
    with session_scope() as s:
        stored = {e.id: (e.score, e.rank) for e in s.exec(select(Entry))}
    assert stored[ids["C"]] == (D(80), 1) and stored[ids["A"]] == (D(80), 2)
    assert stored[ids["B"]] == (D(75), 3)
    assert stored[ids["D"]] == (None, None) and stored[ids["E"]] == (None, None)
    assert stored[decided] == (None, 7)  # already decided: left alone


def test_incomplete_scores_do_not_count(db, tmp_path):
    ids = f.province_stage(tmp_path)
    batch = [ScoreRow(ids["ref"]["B"], "p-e1", {"demo": D(90), "innovation": None})]
    assert [e.field for e in record(ids, batch)] == ["innovation"]
    batch = [ScoreRow(ids["ref"]["B"], "p-e1", {"demo": None, "innovation": None})]  # blank: skipped
    assert record(ids, batch) == [] and count(Score) == 0


def test_trimmed_mean_at_a_stage(db, tmp_path):
    experts = "".join(f'  {{ id = "p-x{i}", name = "省专家x{i}", email = "x{i}@example.org" }},\n'
                      for i in range(3))
    ids = f.province_stage(tmp_path, replace={
        'aggregation = "mean"': 'aggregation = "trimmed_mean"\ntrim_min_experts = 5',
        '  { id = "p-e1",': experts + '  { id = "p-e1",'})
    marks = {"p-e1": 10, "p-e2": 100, "p-x0": 50, "p-x1": 60, "p-x2": 70}
    for expert, mark in marks.items():
        assert record(ids, rows(ids, expert, {"B": (mark, mark)})) == []
    with session_scope() as s:
        assert compute_aggregates(s, ids["stage"])[ids["B"]] == D(60)


def test_formal_review_stage_has_no_experts_and_ranks_by_arrival(db, tmp_path):
    f.install_mini(tmp_path)
    with session_scope() as s:
        cid = f.campaign_id(s)
        late = f.entry(s, f.application(s, cid, unit_code="110100"), unit_code="110100", minutes=9)
        early = f.entry(s, f.application(s, cid, unit_code="110100"), unit_code="110100", minutes=1)
        st = f.stage(s, cid, "110100", state="reviewing")
        late_ref = s.get(Application, late.application_id).reference
        assert assign_experts(s, st.id) == {late.id: [], early.id: []}
        assert missing_scores(s, st.id) == []
        assert compute_aggregates(s, st.id) == {late.id: None, early.id: None}
        assert [i.entry_id for i in rank_stage(s, st.id)] == [early.id, late.id]
        errors = record_scores(s, st.id, [ScoreRow(late_ref, "c1-off", {"demo": D(1)})],
                               source="input", actor="t")
        assert len(errors) == 1 and "does no expert review" in errors[0].en

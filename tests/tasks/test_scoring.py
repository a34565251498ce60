"""The pure scoring rules: rubric maths, trimmed mean, conflicts of interest, ranking."""

import random
from datetime import UTC, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from core.campaign import Expert, Rubric
from core.errors import ValidationFailed
from tasks.scoring import RankItem, aggregate, conflicted, rank, rank_key, weighted_total

D = Decimal
MINI = Rubric(criteria=[{"key": "demo", "name": "示范性", "weight": "0.5"},
                        {"key": "innovation", "name": "创新性", "weight": "0.5"}])
MIXED = Rubric(criteria=[{"key": "a", "name": "甲", "weight": 3, "max_score": 10},
                         {"key": "b", "name": "乙", "weight": 1, "max_score": 100}],
               aggregation="trimmed_mean", trim_min_experts=5)
scores = st.decimals(min_value=0, max_value=100, places=2)


def test_weighted_total_normalises_by_max_and_weights():
    assert weighted_total({"demo": D(80), "innovation": D(90)}, MINI) == D("85.0000")
    # 100 × (3 × 5/10 + 1 × 100/100) / 4
    assert weighted_total({"a": D(5), "b": D(100)}, MIXED) == D("62.5000")
    assert weighted_total({"a": D(10), "b": D(100)}, MIXED) == D(100)
    assert weighted_total({"a": D("3.3333"), "b": D(0)}, MIXED) == D("24.9998")


@given(scores, scores)
def test_weighted_total_stays_between_0_and_100(x, y):
    total = weighted_total({"demo": x, "innovation": y}, MINI)
    assert D(0) <= total <= D(100)
    assert total == ((x + y) / 2).quantize(D("0.0001"), rounding=ROUND_HALF_UP)


@given(st.one_of(st.decimals(min_value=D("100.0001"), max_value=10**6, places=4),
                 st.decimals(max_value=D("-0.0001"), min_value=-(10**6), places=4)))
def test_out_of_range_scores_are_refused(bad):
    with pytest.raises(ValidationFailed) as info:
        weighted_total({"demo": bad, "innovation": D(50)}, MINI)
    assert [e.field for e in info.value.errors] == ["demo"]
    assert "超出范围" in info.value.errors[0].zh and "outside" in info.value.errors[0].en


def test_every_problem_is_reported_at_once():
    with pytest.raises(ValidationFailed) as info:
        weighted_total({"demo": D("1.23456"), "nonsense": D(1)}, MINI)
    fields = sorted(e.field for e in info.value.errors)
    assert fields == ["demo", "innovation", "nonsense"]
    with pytest.raises(ValidationFailed):
        weighted_total({"demo": D("NaN"), "innovation": D(1)}, MINI)


def test_aggregate_mean_and_empty():
    assert aggregate([], MINI) is None
    assert aggregate([D(80), D(85), D(91)], MINI) == D("85.3333")


def test_trimmed_mean_drops_one_highest_and_one_lowest():
    assert aggregate([D(10), D(50), D(60), D(70), D(100)], MIXED) == D(60)
    assert aggregate([D(10), D(50), D(60), D(100)], MIXED) == D(55)  # 4 < 5: plain mean


@given(st.lists(scores, min_size=1, max_size=12), st.integers(min_value=3, max_value=8))
def test_trimmed_mean_trims_exactly_when_enough_experts(totals, minimum):
    rubric = MIXED.model_copy(update={"trim_min_experts": minimum})
    kept = sorted(totals)[1:-1] if len(totals) >= minimum else totals
    expected = (sum(kept) / len(kept)).quantize(D("0.0001"), rounding=ROUND_HALF_UP)
    assert aggregate(totals, rubric) == expected
    assert aggregate(list(reversed(totals)), rubric) == expected


def test_conflicts_same_enterprise_listed_code_or_listed_name():
    code = "91110000MA01234567"
    same = Expert(id="e", name="专家", email="e@x.org", uscc=code.lower())
    assert "同一单位" in conflicted(same, uscc=code, enterprise_name="某公司")
    listed = Expert(id="e", name="专家", email="e@x.org", conflicts=[f" {code} "])
    assert "declared a relation" in conflicted(listed, uscc=code, enterprise_name="某公司")
    named = Expert(id="e", name="专家", email="e@x.org", conflicts=["关联企业(北京)有限公司"])
    assert "关联企业" in conflicted(named, uscc=code, enterprise_name="关联企业（北京）有限公司")
    assert conflicted(named, uscc=code, enterprise_name="无关企业") is None
    assert conflicted(Expert(id="e", name="专家", email="e@x.org"), uscc=None, enterprise_name=None) is None


T0 = datetime(2031, 6, 1, tzinfo=UTC)
items = st.builds(
    RankItem, entry_id=st.integers(1, 10**6), reference=st.sampled_from(["R1", "R2", "R3"]),
    arrived_at=st.integers(0, 3).map(lambda m: T0 + timedelta(minutes=m)),
    score=st.one_of(st.none(), st.sampled_from([D(60), D("72.5"), D(90)])),
    experts=st.integers(0, 3), first_criterion=st.one_of(st.none(), st.sampled_from([D(1), D(2)])))
unique_items = st.lists(items, max_size=25, unique_by=lambda i: i.entry_id)


@given(unique_items, st.randoms(use_true_random=False))
def test_ranking_is_a_total_order_independent_of_input_order(entries, rnd):
    ranked = rank(entries)
    shuffled = list(entries)
    rnd.shuffle(shuffled)
    assert sorted(i.entry_id for i in ranked) == sorted(i.entry_id for i in entries)
    assert [i.rank for i in ranked] == list(range(1, len(entries) + 1))
    assert [(i.entry_id, i.rank) for i in rank(shuffled)] == [(i.entry_id, i.rank) for i in ranked]
    keys = [rank_key(i) for i in ranked]
    assert keys == sorted(keys) and len(set(keys)) == len(keys)


@given(unique_items)
def test_higher_score_always_ranks_first(entries):
    ranked = rank(entries)
    for better, worse in zip(ranked, ranked[1:], strict=False):
        if better.score is None:
            assert worse.score is None
        elif worse.score is not None:
            assert better.score >= worse.score


def test_tie_breaks_in_documented_order():
    base = {"arrived_at": T0, "score": D(80), "experts": 2, "first_criterion": D(5)}
    spec = [
        (1, {**base, "reference": "Z"}),
        (2, {**base, "reference": "Z", "experts": 3}),                       # more experts
        (3, {**base, "reference": "Z", "first_criterion": D(6)}),           # first criterion
        (4, {**base, "reference": "Z", "arrived_at": T0 - timedelta(1)}),   # earlier arrival
        (5, {**base, "reference": "A"}),                                    # reference
        (6, {**base, "reference": "A", "score": None}),                     # no score: last
        (7, {**base, "reference": "Z", "score": D(81)}),                    # higher score
    ]
    entries = [RankItem(entry_id=i, **fields) for i, fields in spec]
    random.Random(7).shuffle(entries)
    assert [i.entry_id for i in rank(entries)] == [7, 2, 3, 4, 5, 1, 6]


def test_duplicate_entries_are_refused():
    with pytest.raises(ValueError):
        rank([RankItem(1, "A", T0), RankItem(1, "B", T0)])

from decimal import Decimal
from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st

from core.campaign import load_campaign
from tasks.quotas import Allowance, Candidate, check_selection, quota_for, select, top_titles

MINI = Path(__file__).resolve().parents[1] / "data" / "mini-campaign.toml"


def test_quota_resolution_own_then_parent_child_quota_then_unlimited():
    config = load_campaign(MINI)
    # 甲市 has its own base 1 and, as a demonstration city, the campaign's extra 1
    assert quota_for(config, "110100", "experience_centre") == Allowance(base=1, extra=1)
    # 乙市 inherits 甲省's child quota 1 and is no demonstration city
    assert quota_for(config, "110200", "experience_centre") == Allowance(base=1, extra=0)
    # 甲省 inherits the ministry's child quota 2
    assert quota_for(config, "110000", "experience_centre").base == 2
    # platforms: nobody sets a number → 可报尽报
    assert quota_for(config, "110200", "platform").base is None


def _cands(n, direction="experience_centre"):
    return [Candidate(entry_id=i, direction=direction, rank=i) for i in range(1, n + 1)]


def test_selection_takes_direct_first_then_base_then_extra():
    chosen = select(_cands(10), {"experience_centre": Allowance(base=4, extra=2, direct=2)})
    assert chosen == {1: "direct", 2: "direct", 3: "base", 4: "base", 5: "base", 6: "base",
                      7: "extra", 8: "extra"}


def test_unlimited_takes_everything_and_min_score_filters():
    chosen = select(_cands(3, "platform"), {"platform": Allowance(base=None)})
    assert chosen == {1: "base", 2: "base", 3: "base"}
    cands = [Candidate(1, "platform", 1, Decimal(90)), Candidate(2, "platform", 2, Decimal(50))]
    assert select(cands, {"platform": Allowance(base=None, min_score=Decimal(60))}) == {1: "base"}


def test_check_selection_names_the_quota_exceeded():
    cands = _cands(6)
    problems = check_selection(dict.fromkeys(range(1, 4), "base"), cands,
                               {"experience_centre": Allowance(base=2, extra=2)})
    assert len(problems) == 1 and "推荐名额为 2 个，所选 3 个" in problems[0][0]
    assert check_selection({1: "base", 2: "base", 3: "extra"}, cands,
                           {"experience_centre": Allowance(base=2, extra=2)}) == []
    assert check_selection({99: "base"}, cands, {"experience_centre": Allowance(base=2)})


def test_top_titles_across_directions():
    scored = [(1, Decimal(80), 1), (2, Decimal(95), 1), (3, None, 2), (4, Decimal(80), 2)]
    assert top_titles(scored, 2) == {2, 1}


allowances = st.builds(Allowance, base=st.one_of(st.none(), st.integers(0, 6)),
                       extra=st.integers(0, 3), direct=st.integers(0, 3))


@settings(max_examples=300, deadline=None)
@given(n_platform=st.integers(0, 15), n_centre=st.integers(0, 15),
       a_platform=allowances, a_centre=allowances, order=st.randoms())
def test_no_selection_ever_exceeds_any_quota(n_platform, n_centre, a_platform, a_centre, order):
    cands = [Candidate(i, "platform", i) for i in range(n_platform)]
    cands += [Candidate(100 + i, "experience_centre", i) for i in range(n_centre)]
    order.shuffle(cands)
    allow = {"platform": a_platform, "experience_centre": a_centre}
    chosen = select(cands, allow)
    assert check_selection(chosen, cands, allow) == []
    for direction, a in allow.items():
        picked = [c for c in cands if c.direction == direction and c.entry_id in chosen]
        total = len([c for c in cands if c.direction == direction])
        cap = None if a.base is None else a.base + a.extra + a.direct
        assert len(picked) == (total if cap is None else min(total, cap))
        # the best-ranked are the ones picked
        ranks = sorted(c.rank for c in cands if c.direction == direction)
        assert sorted(c.rank for c in picked) == ranks[:len(picked)]

"""Selection at a stage: passthrough entries skip only the intermediate levels; edits keep them
and respect minimum scores (against a real database, both backends)."""

from decimal import Decimal

from sqlmodel import select

from core.db import session_scope
from models import Application
from tasks.quotas import Allowance, Candidate, check_selection
from tasks.score_stage import scorable_entries
from tasks.selection import candidates, check_proposal, propose
from tasks.stages import load_stage
from tests.conftest import MINI_CAMPAIGN
from tests.support import databases
from tests.support.entries import arrive
from tests.support.factories import file_application


def _province_and_ministry():
    """甲省 holds an ordinary centre from 乙市 and an extra from 甲市; 测试部 the same two kinds."""
    databases.install(MINI_CAMPAIGN)
    with session_scope() as s:
        ordinary = file_application(s, "mini-test", "110200", "experience_centre")
        extra = file_application(s, "mini-test", "110100", "experience_centre", region="110100")
        at_province = {"ordinary": arrive(s, ordinary, "110000").id,
                       "extra": arrive(s, extra, "110000", passthrough="extra").id}
        other = file_application(s, "mini-test", "110200", "experience_centre")
        arrive(s, other, "110000")
        direct = file_application(s, "mini-test", "110100", "experience_centre", region="110100")
        at_province["direct"] = arrive(s, direct, "110000", passthrough="direct").id
        at_ministry = {"ordinary": arrive(s, other, "M").id,
                       "direct": arrive(s, direct, "M", passthrough="direct", origin="110100").id}
    return at_province, at_ministry


def _reference(s, entry_id: int) -> str:
    from models import Entry

    return s.get(Application, s.get(Entry, entry_id).application_id).reference


def test_passthrough_entries_skip_the_province_but_not_the_ministry(db):
    province, ministry = _province_and_ministry()
    with session_scope() as s:
        ctx = load_stage(s, "mini-test", "110000")
        ranked, through = candidates(s, ctx)
        assert {province["extra"], province["direct"]}.isdisjoint(c.entry_id for c in ranked)
        assert [e.id for e in through] == [province["extra"], province["direct"]]
        assert province["extra"] not in {e.id for e, _ in scorable_entries(s, ctx.stage)}
        assert {"entry": province["extra"], "kind": "extra"} in propose(s, ctx)

        top = load_stage(s, "mini-test", "M")
        ranked, through = candidates(s, top)
        assert through == [] and set(ministry.values()) <= {c.entry_id for c in ranked}
        assert set(ministry.values()) <= {e.id for e, _ in scorable_entries(s, top.stage)}


def test_an_edit_must_keep_every_passthrough_entry_at_the_province(db):
    province, _ = _province_and_ministry()
    with session_scope() as s:
        ctx = load_stage(s, "mini-test", "110000")
        ref = _reference(s, province["extra"])
        direct = {"entry": province["direct"], "kind": "direct"}
        dropped = check_proposal(s, ctx, [{"entry": province["ordinary"], "kind": "base"}, direct])
        assert len(dropped) == 1
        zh, en = dropped[0]
        assert ref in zh and "甲市" in zh and "不能从名单中删除" in zh and "cannot be dropped" in en
        recast = check_proposal(s, ctx, [{"entry": province["ordinary"], "kind": "base"},
                                         {"entry": province["extra"], "kind": "base"}, direct])
        assert len(recast) == 1 and ref in recast[0][0] and "类别不能改为 base" in recast[0][0]
        kept = [{"entry": province["ordinary"], "kind": "base"}, {"entry": province["extra"], "kind": "extra"}, direct]
        assert check_proposal(s, ctx, kept) == []


def test_check_selection_refuses_entries_under_the_minimum_score():
    cands = [Candidate(1, "platform", 1, Decimal(80), "R-1"), Candidate(2, "platform", 2, Decimal("59.5"), "R-2"),
             Candidate(3, "platform", 3, None, "R-3")]
    allow = {"platform": Allowance(base=None, min_score=Decimal(60))}
    assert check_selection({1: "base"}, cands, allow) == []
    problems = check_selection({1: "base", 2: "base", 3: "base"}, cands, allow)
    assert len(problems) == 2
    assert "R-2 得分 59.50，低于方向 platform 的最低分 60" in problems[0][0]
    assert "R-3 无得分" in problems[1][0] and "below the minimum 60" in problems[1][1]
    assert check_selection({2: "base"}, cands, {"platform": Allowance(base=None)}) == []


def test_the_ministry_applies_its_minimum_score_to_an_edit(db, tmp_path):
    databases.install_mini_with_ministry_minimum(tmp_path)
    with session_scope() as s:
        direct = file_application(s, "mini-test", "110100", "experience_centre", region="110100")
        arrive(s, direct, "110000", passthrough="direct")
        at_m = arrive(s, direct, "M", passthrough="direct", origin="110100")
        at_m.score, at_m.rank = Decimal(40), 1
        s.add(at_m)
        s.flush()
        ctx = load_stage(s, "mini-test", "M")
        assert propose(s, ctx) == []  # scored below 60 at the ministry: not selected
        problems = check_proposal(s, ctx, [{"entry": at_m.id, "kind": "base"}])
        ref = s.exec(select(Application.reference).where(Application.id == direct.id)).one()
        assert len(problems) == 1 and ref in problems[0][0] and "最低分 60" in problems[0][0]


def test_wuhans_direct_projects_skip_hubeis_review_and_meet_the_ministrys_minimum(campaign_2023):
    with session_scope() as s:
        app = file_application(s, campaign_2023, "420100", "experience_centre", region="420100")
        at_hubei = arrive(s, app, "420000", passthrough="direct")
        at_miit = arrive(s, app, "MIIT", passthrough="direct", origin="420100")
        hubei = load_stage(s, campaign_2023, "420000")
        assert at_hubei.id not in {e.id for e, _ in scorable_entries(s, hubei.stage)}
        assert {"entry": at_hubei.id, "kind": "direct"} in propose(s, hubei)
        miit = load_stage(s, campaign_2023, "MIIT")
        assert at_miit.id in {e.id for e, _ in scorable_entries(s, miit.stage)}
        assert propose(s, miit) == []  # unscored: under MIIT's minimum of 60
        at_miit.score, at_miit.rank = Decimal(72), 1
        s.add(at_miit)
        s.flush()
        assert propose(s, load_stage(s, campaign_2023, "MIIT")) == [{"entry": at_miit.id, "kind": "base"}]

"""What a real stage flow run leaves in the Prefect UI: scoring progress while experts are
still scoring, the whole artifact set once it closes, and a summary of why a stage with
nothing eligible closed. Artifacts are read back through the Prefect API.
"""

import asyncio
import json
from decimal import Decimal

import pytest
from sqlmodel import select

from core.clock import parse_local
from core.db import session_scope
from models import Document, Stage
from tasks.artifacts import artifact_key
from tasks.chain import set_clock
from tasks.waiting import resume
from tests.conftest import MINI_CAMPAIGN
from tests.flows.test_stage import _answer, _wait_for_input
from tests.support.databases import install
from tests.support.factories import file_application
from tests.support.stage_runs import run_in_thread
from tests.tasks.test_artifacts import artifacts

pytestmark = pytest.mark.prefect

ONE_EXPERT = 'experts = [{ id = "c2-e1", name = "乙市专家", email = "c2-e1@example.org" }]'
THREE_EXPERTS = ('experts = [{ id = "c2-e1", name = "乙市专家", email = "c2-e1@example.org" },\n'
                 '  { id = "c2-e2", name = "乙市专家二", email = "c2-e2@example.org" },\n'
                 '  { id = "c2-e3", name = "乙市专家三", email = "c2-e3@example.org" }]')


@pytest.fixture
def three_experts(tmp_path, sqlite_db, prefect_server):
    """The mini campaign with three experts at 乙市 (110200)."""
    text = MINI_CAMPAIGN.read_text()
    assert ONE_EXPERT in text
    path = tmp_path / "campaign.toml"
    path.write_text(text.replace(ONE_EXPERT, THREE_EXPERTS))
    return install(path)


def _file(unit: str, directions: list[str], **over) -> list[str]:
    with session_scope() as s:
        set_clock(s, "mini-test", parse_local("2031-06-01 09:00"))
        refs = [file_application(s, "mini-test", unit, d, region=unit, **over).reference for d in directions]
        set_clock(s, "mini-test", parse_local("2031-06-10 18:00"))
    return refs


def _scores(refs: list[str], expert: str, key_suffix: str) -> str:
    waiting = _wait_for_input("110200", "scores", key_suffix=key_suffix)
    rows = [{"reference": r, "demo": 90 - i, "innovation": 80 - i, "conflict": False, "note": ""}
            for i, r in enumerate(refs)]
    accepted, reason = asyncio.run(resume(waiting.flow_run_id, {"expert": expert, "rows": rows}))
    assert accepted, reason
    return waiting.flow_run_id


def test_scoring_progress_shows_while_experts_score_then_the_whole_set(three_experts):
    from core.settings import get_settings
    from flows.stage import stage
    from tasks.score_sheets import import_score_sheet
    from tests.tasks.test_score_sheets import fill

    refs = _file("110200", ["experience_centre", "experience_centre", "platform"])
    thread, box = run_in_thread(stage, "mini-test", "110200")
    run_id = _scores(refs, "c2-e1", "-i0")
    (before,) = artifacts("stage-110200-scoring", run_id)
    assert before.data == 0.0 and "0/18" in before.description  # 3 entries × 3 experts × 2 criteria
    _wait_for_input("110200", "scores", key_suffix="-i1")  # one expert of three has scored
    (third,) = artifacts("stage-110200-scoring", run_id)
    assert third.data == pytest.approx(33.3) and "6/18" in third.description
    # the second expert sends a filled-in sheet: the run keeps waiting, its progress moves on
    (sheet,) = get_settings().output_dir.rglob("评分表-乙市-乙市专家二.xlsx")
    imported = import_score_sheet(fill(sheet, {r: {"demo": 85, "innovation": 75} for r in refs}))
    assert imported.errors == [] and imported.missing == 3 and not imported.resumed
    (two_thirds,) = artifacts("stage-110200-scoring", run_id)
    assert two_thirds.data == pytest.approx(66.7) and two_thirds.data < 100 and "12/18" in two_thirds.description
    _scores(refs, "c2-e3", "-i1")
    _answer("110200", "c2-off")
    thread.join(120)
    assert box.get("result") == "closed", box.get("error")
    (done,) = artifacts("stage-110200-scoring", run_id)  # updated in place, not a second artifact
    assert done.data == 100.0
    (approval,) = artifacts("stage-110200-approval", run_id)
    assert approval.type == "progress" and approval.data == 100.0
    ranked = artifacts("stage-110200-ranked", run_id)
    assert [a.type for a in ranked] == ["table", "table"]  # awaiting approval, then closed
    assert {r["编号 Ref."] for r in json.loads(ranked[-1].data)} == set(refs)
    summaries = artifacts("stage-110200-summary", run_id)
    assert "awaiting_approval" in summaries[0].data and "**closed**" in summaries[-1].data
    with session_scope() as s:
        stage_id = s.exec(select(Stage.id).where(Stage.unit_code == "110200")).one()
        docs = s.exec(select(Document.kind, Document.direction, Document.sha256)
                      .where(Document.stage_id == stage_id)).all()
    assert {kind for kind, _, _ in docs} >= {"summary", "letter"}
    for kind, direction, sha256 in docs:
        (link,) = artifacts(artifact_key("110200", "doc", kind, direction), run_id)
        assert link.type == "markdown" and "/documents/" in link.data  # a link artifact is stored as markdown
        assert sha256[:12] in link.description
    # the unit's page link is published again only when it changed (an earlier test's run may own it)
    page = artifacts("stage-110200-dashboard")[-1]
    assert page.type == "markdown" and "/u/110200" in page.data


def test_a_stage_with_nothing_eligible_publishes_why_it_closed(mini_campaign, prefect_server):
    from flows.stage import stage

    _file("110100", ["experience_centre"], area=Decimal("120"))  # below 甲市's 200 m²: ineligible
    thread, box = run_in_thread(stage, "mini-test", "110100")
    thread.join(120)
    assert box.get("result") == "closed", box.get("error")
    with session_scope() as s:
        run_id = s.exec(select(Stage.flow_run_id).where(Stage.unit_code == "110100")).one()
    (summary,) = artifacts("stage-110100-summary", run_id)
    assert "**closed**" in summary.data and "### 不符合条件 Ineligible（1）" in summary.data
    assert "面积不低于200平方米" in summary.data
    (ranked,) = artifacts("stage-110100-ranked", run_id)
    assert [r["状态 Status"] for r in json.loads(ranked.data)] == ["不符合条件"]

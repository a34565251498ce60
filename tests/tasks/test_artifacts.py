"""Prefect UI artifacts of a stage, published inside real flow runs and read back from the API."""

import json

import pytest
from prefect import flow
from prefect.client.orchestration import get_client
from prefect.client.schemas.filters import (
    ArtifactFilter,
    ArtifactFilterFlowRunId,
    ArtifactFilterKey,
)
from sqlmodel import select

from core.db import session_scope
from models import Entry, Stage
from tasks.artifacts import artifact_key, publish_stage_artifacts
from tasks.stage_report import md
from tests.conftest import MINI_CAMPAIGN
from tests.support import databases
from tests.tasks.status_factories import populate

pytestmark = pytest.mark.prefect


@flow(persist_result=False)
def publish(stage_id: int, phases: list[str], close_after_first: bool = False) -> str:
    """Publish a stage's artifacts for each phase in turn, as the stage flow does."""
    from prefect.runtime import flow_run

    for i, phase in enumerate(phases):
        with session_scope() as session:
            publish_stage_artifacts(session, stage_id, phase=phase)
        if close_after_first and i == 0:
            with session_scope() as session:
                stage = session.get(Stage, stage_id)
                stage.state = "closed"
                session.add(stage)
    return flow_run.id


def artifacts(key: str, flow_run_id: str | None = None) -> list:
    """Every artifact stored under a key (optionally of one flow run), oldest first."""
    flt = ArtifactFilter(key=ArtifactFilterKey(any_=[key]))
    if flow_run_id:
        flt.flow_run_id = ArtifactFilterFlowRunId(any_=[flow_run_id])
    with get_client(sync_client=True) as client:
        found = client.read_artifacts(artifact_filter=flt)
    return sorted(found, key=lambda a: a.created)


@pytest.fixture
def scene(prefect_server, sqlite_db, tmp_path):
    slug = databases.install(MINI_CAMPAIGN)
    return slug, populate(slug, tmp_path / "out")


def test_keys_are_lowercase_dash_and_stable():
    assert artifact_key("440100", "ranked") == "stage-440100-ranked"
    assert artifact_key("CE01", "doc", "summary", "experience_centre") == \
        "stage-ce01-doc-summary-experience-centre"
    assert artifact_key("M", "doc", "letter", "") == "stage-m-doc-letter"


def test_markdown_escaping_makes_applicant_text_inert():
    assert md("<script>*x*</script>") == "&lt;script&gt;\\*x\\*&lt;/script&gt;"
    assert md("a|b\nc") == "a\\|b c"


def test_scoring_stage_publishes_ranked_table_summary_and_progress(scene):
    slug, sc = scene
    with session_scope() as s:
        extra = s.exec(select(Entry).where(Entry.unit_code == "110200",
                                           Entry.status == "eligible")).all()[-1]
        extra.status, extra.review_note = "returned", "<img src=x onerror=alert(1)>缺少附1"
        s.add(extra)
    run_id = publish(sc.stages["110200"], ["scoring"])
    (table,) = artifacts("stage-110200-ranked", run_id)
    assert table.type == "table"
    rows = json.loads(table.data)
    assert {r["申报单位 Applicant"] for r in rows} >= {"丁公司", "<script>alert('x')</script>坏公司"}
    assert {r["状态 Status"] for r in rows} == {"审查通过", "不符合条件", "已退回"}
    (summary,) = artifacts("stage-110200-summary", run_id)
    assert summary.type == "markdown"
    assert "乙市（110200）· 专家评审 scoring" in summary.data
    assert "逾期 1天16小时" in summary.data
    assert "### 不符合条件 Ineligible（1）" in summary.data and "面积不足200平方米" in summary.data
    assert "### 退回 Returned（1）" in summary.data and "缺少附1" in summary.data
    assert "<img" not in summary.data and r"&lt;img src=x onerror=alert\(1\)&gt;缺少附1" in summary.data
    (progress,) = artifacts("stage-110200-scoring", run_id)
    # 2 eligible entries left × 1 expert × 2 criteria expected, 2 scores in
    assert progress.type == "progress" and progress.data == pytest.approx(50.0)
    assert "2/4" in progress.description


def test_approval_progress_is_updated_in_place_within_a_run(scene):
    slug, sc = scene
    run_id = publish(sc.stages["110000"], ["awaiting_approval", "closed"], close_after_first=True)
    (approval,) = artifacts("stage-110000-approval", run_id)
    assert approval.type == "progress" and approval.data == 100.0
    assert "已审批" in approval.description
    summaries = artifacts("stage-110000-summary", run_id)
    assert ["待审批" in s.data for s in summaries] == [True, False]  # history shows the change
    assert "已完成 closed" in summaries[1].data
    assert "| 信息消费体验中心 | 1 | 1 | 0 | 0 | 1 | 1/2 | 0/0 | 0/0 | 1 |" in summaries[0].data


def test_approval_outstanding_shows_zero_progress_with_the_waiting_time(scene):
    slug, sc = scene
    run_id = publish(sc.stages["110000"], ["awaiting_approval"])
    (approval,) = artifacts("stage-110000-approval", run_id)
    assert approval.data == 0.0
    assert "待审批（第 1 轮），自 2031-06-11 10:00" in approval.description


def test_links_point_at_dashboard_downloads_and_are_not_repeated(scene):
    slug, sc = scene
    stage_id = sc.stages["110100"]
    publish(stage_id, ["closed"])
    publish(stage_id, ["closed"])
    key = "stage-110100-doc-summary-experience-centre"
    links = artifacts(key)
    assert len(links) == 1  # the second run saw the same file and left the link alone
    doc_id = sc.documents["summary@110100"]
    assert f"http://127.0.0.1:8800/c/{slug}/documents/{doc_id}" in links[0].data
    assert "汇总表" in links[0].data
    (page,) = artifacts("stage-110100-dashboard")
    assert f"http://127.0.0.1:8800/c/{slug}/u/110100" in page.data


def test_every_unit_gets_its_own_history(scene):
    slug, sc = scene
    with session_scope() as s:
        stage_ids = dict(s.exec(select(Stage.unit_code, Stage.id)).all())
    for code in ("CE01", "M"):
        # the session's Prefect server is shared with other tests: look at this run's artifacts
        run_id = publish(stage_ids[code], ["collecting"])
        assert len(artifacts(artifact_key(code, "ranked"), run_id)) == 1
        assert not artifacts(artifact_key(code, "approval"), run_id)  # nothing outstanding


def test_publishing_from_the_stage_flows_task_updates_in_place(scene):
    """The stage flow publishes from an async task in a worker thread; progress still updates."""
    import asyncio

    from tasks.stage_tasks import publish_artifacts

    @flow(persist_result=False)
    async def stage_like(stage_id: int) -> str:
        from prefect.runtime import flow_run

        await publish_artifacts(stage_id, "awaiting_approval")
        await publish_artifacts(stage_id, "awaiting_approval")
        return flow_run.id

    slug, sc = scene
    run_id = asyncio.run(stage_like(sc.stages["110000"]))
    assert len(artifacts("stage-110000-approval", run_id)) == 1
    assert len(artifacts("stage-110000-ranked", run_id)) == 2

"""Prefect UI artifacts for a stage run: ranked table, summary, progress, links to documents.

Keys are stable per unit (`stage-440100-ranked`, `-summary`, `-scoring`, `-approval`,
`-dashboard`, `-doc-summary-experience-centre`, ...), so the UI's artifact history shows each unit's
evolution. Progress artifacts are updated in place within one flow run; link artifacts
are only published again when the file behind them changed.
"""

import re
from uuid import UUID

import anyio
from prefect.artifacts import (
    acreate_link_artifact,
    acreate_markdown_artifact,
    acreate_progress_artifact,
    acreate_table_artifact,
    aupdate_progress_artifact,
)
from prefect.client.orchestration import get_client
from prefect.client.schemas.filters import (
    ArtifactCollectionFilter,
    ArtifactCollectionFilterKey,
    ArtifactFilter,
    ArtifactFilterFlowRunId,
    ArtifactFilterKey,
)
from prefect.utilities.context import get_task_and_flow_run_ids
from sqlmodel import Session

from core.clock import fmt
from core.settings import get_settings
from tasks.stage_report import StageReport, ranked_rows, stage_report, summary_markdown
from tasks.unit_detail import DOCUMENT_KIND_NAMES

__all__ = ["apublish_stage_artifacts", "artifact_key", "dashboard_url", "publish_stage_artifacts",
           "update_run_scoring_progress"]

AFTER_APPROVAL = ("approved", "forwarded", "closed")


def artifact_key(unit_code: str, *parts: str) -> str:
    """A Prefect artifact key: lowercase letters, digits and dashes, e.g. stage-440100-ranked."""
    raw = "-".join(("stage", unit_code, *parts)).lower()
    return re.sub(r"-{2,}", "-", re.sub(r"[^a-z0-9-]+", "-", raw)).strip("-")


def dashboard_url(path: str = "") -> str:
    """An address on the web dashboard (settings.dashboard_host / dashboard_port)."""
    settings = get_settings()
    return f"http://{settings.dashboard_host}:{settings.dashboard_port}{path}"


def publish_stage_artifacts(session: Session, stage_id: int, *, phase: str) -> None:
    """Publish a stage's ranked list, summary, progress and document links (from sync code)."""
    from prefect.utilities.asyncutils import run_coro_as_sync

    run_coro_as_sync(_publish(stage_report(session, stage_id), phase))


async def apublish_stage_artifacts(stage_id: int, *, phase: str, progress_only: bool = False) -> None:
    """The same from async code: the API calls reuse the running flow's client.

    `progress_only` updates the progress artifacts alone (the stage flow does so after each
    expert's scores, without a new ranked table and summary every time).
    """
    report = await anyio.to_thread.run_sync(_load_report, stage_id)
    await (publish_progress(report, phase) if progress_only else _publish(report, phase))


def update_run_scoring_progress(stage_id: int, flow_run_id: str) -> bool:
    """From outside a run (a score-sheet import): update the stage run's scoring progress.

    Only an artifact the stage's flow run already published is updated (none is created
    outside the run); return whether one was.
    """
    from prefect.utilities.asyncutils import run_coro_as_sync

    report = _load_report(stage_id)
    if report.scoring_percent is None:
        return False
    key, (percent, text) = artifact_key(report.unit.code, "scoring"), _scoring_progress(report)
    return bool(run_coro_as_sync(_upsert_progress(key, percent, text, create=False, flow_run_id=flow_run_id)))


def _load_report(stage_id: int) -> StageReport:
    from core.db import session_scope

    with session_scope() as session:
        return stage_report(session, stage_id)


async def _publish(report: StageReport, phase: str) -> None:
    code, name = report.unit.code, report.unit.name
    await acreate_table_artifact(table=ranked_rows(report), key=artifact_key(code, "ranked"),
                                 description=f"{name} 排序名单 ranked list · {phase}")
    await acreate_markdown_artifact(markdown=summary_markdown(report, phase), key=artifact_key(code, "summary"),
                                    description=f"{name} 情况汇总 summary · {phase}")
    await publish_progress(report, phase)
    await publish_links(report)


async def publish_progress(report: StageReport, phase: str) -> None:
    """Scoring progress while experts score; approval progress while an official decides."""
    code, unit = report.unit.code, report.unit
    if report.scoring_percent is not None:
        await _upsert_progress(artifact_key(code, "scoring"), *_scoring_progress(report), create=True)
    if phase == "awaiting_approval":
        text = f"{unit.name} 待审批（第 {unit.round} 轮），自 {fmt(unit.awaiting_since)} / awaiting approval"
        await _upsert_progress(artifact_key(code, "approval"), 0.0, text, create=True)
    elif phase in AFTER_APPROVAL:
        text = f"{unit.name} 已审批 approved · {unit.state_name}"
        await _upsert_progress(artifact_key(code, "approval"), 100.0, text, create=False)


def _scoring_progress(report: StageReport) -> tuple[float, str]:
    """(percent, description) of a stage's expert scoring."""
    text = f"{report.unit.name} 专家评分 {report.scores_done}/{report.scores_expected} scores in"
    return report.scoring_percent, text


async def _upsert_progress(key: str, percent: float, text: str, *, create: bool,
                           flow_run_id: str | None = None) -> UUID | None:
    """Update a flow run's progress artifact under `key` (this run's unless `flow_run_id`),
    or create it when allowed; return its id."""
    existing = await _run_artifact(key, flow_run_id)
    if existing is not None:
        await aupdate_progress_artifact(existing, percent, description=text)
        return existing
    if create:
        return await acreate_progress_artifact(percent, key=key, description=text)
    return None


async def _run_artifact(key: str, flow_run_id: str | None = None) -> UUID | None:
    """The artifact with this key made by the flow run (the current one unless given), if any."""
    if flow_run_id is None:
        _task_run_id, flow_run_id = get_task_and_flow_run_ids()
    if flow_run_id is None:
        return None
    async with get_client() as client:
        found = await client.read_artifacts(limit=1, artifact_filter=ArtifactFilter(
            key=ArtifactFilterKey(any_=[key]), flow_run_id=ArtifactFilterFlowRunId(any_=[flow_run_id])))
    return found[0].id if found else None


async def publish_links(report: StageReport) -> None:
    """Link each document (served by the dashboard, by id) and the unit's dashboard page."""
    slug, code = report.status.slug, report.unit.code
    links = {artifact_key(code, "dashboard"): (
        dashboard_url(f"/c/{slug}/u/{code}"), f"{report.unit.name} · 看板 dashboard",
        f"{report.unit.name} 的推荐进度页 / the unit's dashboard page")}
    for doc in report.documents:
        kind = DOCUMENT_KIND_NAMES.get(doc.kind, doc.kind)
        links[artifact_key(code, "doc", doc.kind, doc.direction)] = (
            dashboard_url(f"/c/{slug}/documents/{doc.id}"), f"{report.unit.name} {kind} {doc.direction}".strip(),
            f"{kind} {doc.kind} · sha256 {doc.sha256[:12]} · {fmt(doc.generated_at)}")
    latest = await _latest_descriptions(list(links))
    for key, (link, text, description) in links.items():
        if latest.get(key) != description:
            await acreate_link_artifact(link, link_text=text, key=key, description=description)


async def _latest_descriptions(keys: list[str]) -> dict[str, str | None]:
    """The newest artifact's description for each key (to skip unchanged links)."""
    async with get_client() as client:
        latest = await client.read_latest_artifacts(artifact_filter=ArtifactCollectionFilter(
            key=ArtifactCollectionFilterKey(any_=keys)))
    return {a.key: a.description for a in latest}

"""What Prefect keeps about a flow run, read back through its API: the run, its task runs,
logs, artifacts, inputs (the forms and the answers people gave) and events, as JSON text to
search."""

import asyncio

import httpx
from prefect.client.orchestration import get_client
from prefect.client.schemas.filters import (
    ArtifactFilter,
    ArtifactFilterFlowRunId,
    FlowRunFilter,
    FlowRunFilterId,
    LogFilter,
    LogFilterFlowRunId,
)
from prefect.settings import PREFECT_API_URL


def everything_prefect_keeps(flow_run_id: str) -> str:
    """The stage run, its task runs, logs, artifacts, inputs and events, as the API returns them."""
    async def read() -> list[str]:
        async with get_client() as client:
            run = await client.read_flow_run(flow_run_id)
            ids = FlowRunFilter(id=FlowRunFilterId(any_=[run.id]))
            tasks = await client.read_task_runs(flow_run_filter=ids, limit=200)
            logs, flt = [], LogFilter(flow_run_id=LogFilterFlowRunId(any_=[run.id]))
            while page := await client.read_logs(flt, limit=200, offset=len(logs)):
                logs += page
            artifacts = await client.read_artifacts(artifact_filter=ArtifactFilter(
                flow_run_id=ArtifactFilterFlowRunId(any_=[run.id])), limit=200)
            inputs = await inputs_of(client, run.id)
            return [run.model_dump_json(), *(t.model_dump_json() for t in tasks),
                    *(log.model_dump_json() for log in logs), *(a.model_dump_json() for a in artifacts),
                    *(i.model_dump_json() for i in inputs)]

    return "\n".join([*asyncio.run(read()), *_events(flow_run_id)])


async def inputs_of(client, flow_run_id) -> list:
    """Every input Prefect keeps for a run (forms' schemas and descriptions, people's answers)."""
    found: list = []
    while page := await client.filter_flow_run_input(flow_run_id, key_prefix="", limit=200,
                                                     exclude_keys={i.key for i in found}):
        found += page
    return found


def _events(flow_run_id: str) -> list[str]:
    """Every event about the run (its task runs' events name it as a related resource), page by page."""
    page = httpx.post(f"{PREFECT_API_URL.value()}/events/filter", timeout=30, json={
        "filter": {"any_resource": {"id_prefix": [f"prefect.flow-run.{flow_run_id}"]}}, "limit": 50})
    pages = []
    while True:
        assert page.status_code == 200, page.text
        pages.append(page.text)
        next_page = page.json().get("next_page")
        if not next_page:
            return pages
        page = httpx.get(next_page, timeout=30)


async def artifacts_of(flow_run_id: str) -> list:
    """The artifacts a flow run published."""
    from uuid import UUID

    async with get_client() as client:
        return await client.read_artifacts(artifact_filter=ArtifactFilter(
            flow_run_id=ArtifactFilterFlowRunId(any_=[UUID(flow_run_id)])), limit=200)

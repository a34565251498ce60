"""Find stage runs that wait for a person, and answer them through Prefect's API.

The same path the UI's Resume form and `tuijian approve` use: the input goes to
`POST /api/flow_runs/{id}/resume`; the flow itself decides whether it counts.
"""

import asyncio
from dataclasses import dataclass

from prefect.client.orchestration import get_client
from prefect.client.schemas.filters import (
    FlowFilter,
    FlowFilterName,
    FlowRunFilter,
    FlowRunFilterState,
    FlowRunFilterStateType,
)
from prefect.client.schemas.objects import StateType
from prefect.exceptions import PrefectHTTPStatusError
from prefect.settings import PREFECT_CLIENT_MAX_RETRIES, temporary_settings


@dataclass(frozen=True)
class WaitingRun:
    flow_run_id: str
    campaign: str
    unit: str
    key: str

    @property
    def kind(self) -> str:
        return self.key.split("-", 1)[0]


async def waiting_stage_runs(campaign: str | None = None, client=None) -> list[WaitingRun]:
    """Stage runs paused or suspended for an input, oldest first (pass a client to reuse it)."""
    if client is None:
        async with get_client() as own:
            return await waiting_stage_runs(campaign, own)
    flt = FlowRunFilter(state=FlowRunFilterState(type=FlowRunFilterStateType(any_=[StateType.PAUSED])))
    runs = await client.read_flow_runs(flow_filter=FlowFilter(name=FlowFilterName(any_=["stage"])),
                                       flow_run_filter=flt, limit=200)
    out = []
    for run in runs:
        details = run.state.state_details if run.state else None
        if details is None or not details.run_input_keyset:
            continue  # not (yet) waiting for an input
        params = run.parameters or {}
        if campaign is None or params.get("campaign") == campaign:
            out.append(WaitingRun(str(run.id), params.get("campaign"), params.get("unit"), details.pause_key or ""))
    return out


# A busy SQLite Prefect server answers 503 ("database is locked") when a write collides with
# another; Prefect's client then waits 2, 4, 8 ... s. An official's answer is retried sooner.
QUICK_RETRY_S = (0.1, 0.2, 0.4, 0.8, 1.2, 1.6, 2.0, 2.0, 2.0)


async def resume(flow_run_id: str, run_input: dict, client=None) -> tuple[bool, str]:
    """Send an input to a waiting run; return (accepted, reason) as the server answered."""
    from uuid import UUID

    if client is None:
        async with get_client() as own:
            return await resume(flow_run_id, run_input, own)
    for delay in QUICK_RETRY_S:
        try:
            with temporary_settings({PREFECT_CLIENT_MAX_RETRIES: 0}):
                result = await client.resume_flow_run(UUID(flow_run_id), run_input=run_input)
            break
        except PrefectHTTPStatusError as exc:
            if exc.response.status_code != 503:
                raise
        await asyncio.sleep(delay)  # the failed transaction changed nothing: sending again is safe
    else:  # still busy: Prefect's own retries and back-off
        result = await client.resume_flow_run(UUID(flow_run_id), run_input=run_input)
    reason = getattr(result.details, "reason", None) or ""
    return result.status.value == "ACCEPT", reason

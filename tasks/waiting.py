"""Find stage runs that wait for a person, and answer them through Prefect's API.

The same path the UI's Resume form and `tuijian approve` use: the input goes to
`POST /api/flow_runs/{id}/resume`; the flow itself decides whether it counts.
"""

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


async def resume(flow_run_id: str, run_input: dict, client=None) -> tuple[bool, str]:
    """Send an input to a waiting run; return (accepted, reason) as the server answered."""
    from uuid import UUID

    if client is None:
        async with get_client() as own:
            return await resume(flow_run_id, run_input, own)
    result = await client.resume_flow_run(UUID(flow_run_id), run_input=run_input)
    reason = getattr(result.details, "reason", None) or ""
    return result.status.value == "ACCEPT", reason

"""Wait for a person's input on the current flow run: suspend when deployed, else pause.

A run started from a deployment is *suspended*: its process exits and holds nothing while
the official thinks; resuming reschedules it and the flow re-runs from the top, where
every step finds its work already done in the database and the suspend call returns the
stored input (same key). A run without a deployment (tests, `--local`) *pauses* in process.
"""

from prefect.context import FlowRunContext
from prefect.exceptions import FlowPauseTimeout
from prefect.flow_runs import apause_flow_run, asuspend_flow_run
from prefect.input import RunInput


def current_run_id() -> str | None:
    """The id of the flow run we are in, if any."""
    ctx = FlowRunContext.get()
    return str(ctx.flow_run.id) if ctx and ctx.flow_run else None


def is_deployed() -> bool:
    """True when the current run belongs to a deployment (and so can be suspended)."""
    ctx = FlowRunContext.get()
    return bool(ctx and ctx.flow_run and ctx.flow_run.deployment_id)


async def wait_for(model: type[RunInput], *, description: str, key: str,
                   timeout_s: int, poll_s: int = 1) -> RunInput | None:
    """Return the input a person submitted for `key`, or None when the wait timed out (pause only)."""
    form = model.with_initial_data(description=description)
    if is_deployed():
        return await asuspend_flow_run(wait_for_input=form, key=key, timeout=None)
    try:
        return await apause_flow_run(wait_for_input=form, key=key, timeout=timeout_s, poll_interval=poll_s)
    except FlowPauseTimeout:
        return None


def retry_key(key: str, waits: int) -> str:
    """A fresh key for waiting again in the same process after a pause timed out."""
    return key if waits == 0 else f"{key}-w{waits}"

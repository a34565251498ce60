"""Wait for a person's input on the current flow run: suspend when deployed, else pause.

A run started from a deployment is *suspended*: its process exits and holds nothing while
the official thinks; resuming reschedules it and the flow re-runs from the top, where
every step finds its work already done in the database and the suspend call returns the
stored input (same key). A run without a deployment (tests, subflows of the campaign flow)
*pauses* in process.

Our timeout (escalation) is not Prefect's pause timeout: an expired Prefect pause can never
be resumed, and a paused run cannot be paused again. So the pause keeps listening in the
background; after `timeout_s` we return None so the caller can escalate, and the caller's
next wait with the same key picks up the same listener.
"""

import asyncio

from prefect.context import FlowRunContext
from prefect.flow_runs import apause_flow_run, asuspend_flow_run
from prefect.input import RunInput

PAUSE_LIMIT_S = 30 * 24 * 3600  # after this the run must be started again (the stage resumes where it was)
_listening: dict[tuple[str | None, str], asyncio.Future] = {}


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
    """Return the input a person submitted for `key`, or None when `timeout_s` passed first (pause only)."""
    form = model.with_initial_data(description=description)
    if is_deployed():
        return await asuspend_flow_run(wait_for_input=form, key=key, timeout=None)
    ident = (current_run_id(), key)
    waiter = _listening.get(ident)
    if waiter is None:
        waiter = _listening[ident] = asyncio.ensure_future(apause_flow_run(
            wait_for_input=form, key=key, timeout=PAUSE_LIMIT_S, poll_interval=poll_s))
    try:
        value = await asyncio.wait_for(asyncio.shield(waiter), timeout_s)
    except TimeoutError:
        return None
    except BaseException:  # the flow itself is ending: stop listening for it
        _listening.pop(ident, None)
        waiter.cancel()
        raise
    _listening.pop(ident, None)
    return value

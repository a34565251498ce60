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

The listener polls the Prefect API. Prefect's pause loop gives up once its client's retries
(about a minute) are spent on a server that is away, so the listener then polls on its own
until the server is back (restarted, say) and takes the input given for this wait — or
pauses again if the pause never reached the server.

Prefect keeps every answer in its flow_run_input table. Once the caller has recorded an
answer, `forget_answers` deletes it there: an approval's answer carries the one-time code,
which must not outlive its use in clear text. (Deleted after recording, never before: a
suspended run re-reads its answer when it is resumed and re-runs from the top.)
"""

import asyncio

import httpx
from prefect.client.orchestration import get_client
from prefect.context import FlowRunContext
from prefect.exceptions import PrefectHTTPStatusError
from prefect.flow_runs import apause_flow_run, asuspend_flow_run
from prefect.input import RunInput
from prefect.input.run_input import keyset_from_base_key
from prefect.logging import get_run_logger

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
        waiter = _listening[ident] = asyncio.ensure_future(_listen(form, key, poll_s))
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


async def _listen(form: type[RunInput], key: str, poll_s: int) -> RunInput | None:
    """Prefect's in-process pause; through a server outage, our own polling until it is back."""
    deadline = asyncio.get_running_loop().time() + PAUSE_LIMIT_S
    try:
        return await apause_flow_run(wait_for_input=form, key=key, timeout=PAUSE_LIMIT_S, poll_interval=poll_s)
    except (httpx.TransportError, PrefectHTTPStatusError) as exc:
        if not server_unreachable(exc):
            raise
        get_run_logger().warning("Prefect 服务器暂不可达，继续等待输入 / Prefect server unreachable, "
                                 "still waiting for the input: %r", exc)
    value = await _wait_through_outage(form, key, deadline, poll_s)
    return await _listen(form, key, poll_s) if value is _PAUSE_AGAIN else value


def server_unreachable(exc: Exception) -> bool:
    """True for a failure that says the Prefect server is away, not that the request was wrong."""
    if isinstance(exc, PrefectHTTPStatusError):
        return exc.response.status_code >= 500
    return isinstance(exc, httpx.TransportError)


_PAUSE_AGAIN = object()


async def _wait_through_outage(form: type[RunInput], key: str, deadline: float, poll_s: int):
    """Poll until the server answers; return the input once the run is resumed, None at the
    deadline, or _PAUSE_AGAIN when the run is running with no input (the pause never got through)."""
    run_id = FlowRunContext.get().flow_run.id
    response_key = keyset_from_base_key(f"paused-{key}")["response"]
    while asyncio.get_running_loop().time() < deadline:
        await asyncio.sleep(poll_s)
        try:
            running, value = await _poll(run_id, response_key)
        except (httpx.TransportError, PrefectHTTPStatusError) as exc:
            if server_unreachable(exc):
                continue
            raise
        if running:
            return _PAUSE_AGAIN if value is None else form.model_validate_json(value)
    return None


async def _poll(run_id, response_key: str) -> tuple[bool, str | None]:
    """Whether the run was resumed, and the input stored for this wait (None if there is none)."""
    async with get_client() as client:
        state = (await client.read_flow_run(run_id)).state
        if state is None or not state.is_running():
            return False, None
        try:
            return True, await client.read_flow_run_input(flow_run_id=run_id, key=response_key)
        except PrefectHTTPStatusError as exc:
            if exc.response.status_code == 404:
                return True, None
            raise


ANSWER_STATES = ("paused", "suspended")  # Prefect names an answer `<state>-<our key>-response`


async def forget_answers(base: str) -> int:
    """Delete the answers given to this run's waits whose key starts with `base` (all recorded
    already); return how many were deleted. A server that is away is logged, not fatal: the
    next call deletes what this one could not."""
    run_id = current_run_id()
    if run_id is None:
        return 0
    try:
        return await _delete_answers(run_id, base)
    except (httpx.TransportError, PrefectHTTPStatusError) as exc:
        if not server_unreachable(exc):
            raise
        get_run_logger().warning("Prefect 服务器暂不可达，已记录的输入稍后删除 / Prefect server unreachable, "
                                 "the recorded input is deleted later: %r", exc)
        return 0


async def _delete_answers(run_id: str, base: str) -> int:
    deleted = 0
    async with get_client() as client:
        for state in ANSWER_STATES:
            seen: set[str] = set()  # the forms' schemas and descriptions stay (no answer in them)
            while kept := await client.filter_flow_run_input(run_id, key_prefix=f"{state}-{base}", limit=200,
                                                             exclude_keys=seen):
                seen |= {item.key for item in kept}
                for item in kept:
                    if item.key.endswith("-response"):
                        deleted += await _delete_one(client, run_id, item.key)
    return deleted


async def _delete_one(client, run_id: str, key: str) -> int:
    try:
        await client.delete_flow_run_input(run_id, key)
    except PrefectHTTPStatusError as exc:
        if exc.response.status_code == 404:  # deleted by a call before this one
            return 0
        raise
    return 1

"""The campaign flow: drive the chain bottom-up, each stage its own flow run."""

import asyncio
from datetime import timedelta

import anyio
from prefect import flow, get_run_logger

from core.db import session_scope
from flows.stage import deliver_mail, stage
from tasks.chain import (
    WAITING,
    chain_rows,
    due_stages,
    late_stages,
    missing_children,
    next_deadline,
    set_clock,
    started_elsewhere,
    working_count,
)
from tasks.inputs import server_unreachable

DELIVERY_BATCH = 50
STAGE_ATTEMPTS = 3  # a stage the Prefect server failed is started again, at most twice
RESTART_DELAY_S = 5
STAGE_DEPLOYMENT = "stage/stage"
READ_LIMIT = 200  # flow runs per API read (the server's default page limit)


def _snapshot(slug: str):
    with session_scope() as session:
        return chain_rows(session, slug)  # plain result rows: nothing tied to the session


def _advance(slug: str, when) -> None:
    with session_scope() as session:
        set_clock(session, slug, when)


@flow(persist_result=False)
async def campaign(slug: str, advance_clock: bool = False, poll_seconds: float = 1.0,
                   max_parallel: int = 32) -> dict:
    """Start every stage when its deadline comes or its inputs are in, until all are closed.

    At most `max_parallel` stages work at once; stages waiting for experts or an official
    do not count, so any number of them can wait while the others go on. Run from a
    deployment while the `stage/stage` deployment exists, each stage is a run of that
    deployment (on a worker, suspended while it waits); otherwise a subflow here (paused).
    """
    log = get_run_logger()
    running: dict[str, asyncio.Task] = {}
    failed: dict[str, str] = {}
    start = _starter(slug, await _stage_deployment(), poll_seconds)
    postman = asyncio.create_task(_deliver_while(running, poll_seconds))
    try:
        while True:
            finished = {c for c, t in running.items() if t.done()}  # before the snapshot: their rows are final
            now, rows = await anyio.to_thread.run_sync(_snapshot, slug)
            _note_failures(running, finished, failed, log)
            busy, elsewhere = await _start_due(start, rows, now, running, set(running) - finished, max_parallel)
            if busy or elsewhere:
                await asyncio.sleep(poll_seconds)
                continue
            late = late_stages(rows)
            if all(s.state == "closed" or s.unit_code in failed or s.unit_code in late for s, _ in rows):
                break
            ahead = next_deadline(rows, now)
            if advance_clock and ahead is not None:
                log.info("模拟时钟前进至 / simulated clock moves to %s", ahead)
                await anyio.to_thread.run_sync(_advance, slug, ahead + timedelta(minutes=1))
                continue
            if ahead is None and not due_stages(rows, now):
                break  # nothing runs and nothing more can start
            await asyncio.sleep(poll_seconds)
    finally:  # finished, or cancelled (a time limit): no stage run or deliverer outlives the flow
        postman.cancel()
        for task in running.values():
            task.cancel()
    await deliver_mail()
    return {"failed": failed, "missing": missing_children(rows)}


async def _start_due(start, rows, now, running: dict[str, asyncio.Task], live: set[str],
                     max_parallel: int) -> tuple[set[str], set[str]]:
    """Start due stages while fewer than `max_parallel` work; return (our busy runs, runs going elsewhere).

    A stage under way that this run did not start (a coordinator's) is left alone while its
    run goes on; one whose run ended before the stage closed (crashed, returned to) is started
    again. A late stage (its parent closed without it) that waits for a person is let go.
    """
    late = late_stages(rows)
    elsewhere = started_elsewhere(rows, set(running))
    alive = await _alive_runs([s.flow_run_id for s in elsewhere if s.flow_run_id])
    stalled = [s.unit_code for s in elsewhere if s.flow_run_id not in alive and s.unit_code not in late]
    slots = max_parallel - working_count(rows, live)
    for code in [c for c in due_stages(rows, now) + stalled if c not in running][:max(slots, 0)]:
        running[code] = asyncio.create_task(start(code))
        live.add(code)
    state = {s.unit_code: s.state for s, _ in rows}
    busy = {c for c in live if not (c in late and state[c] in WAITING)}
    return busy, {s.unit_code for s in elsewhere if s.flow_run_id in alive}


def _note_failures(running: dict[str, asyncio.Task], finished: set[str], failed: dict[str, str], log) -> None:
    """Record stage runs that raised, or ended with their stage not closed."""
    for code in finished - set(failed):
        task = running[code]
        if task.cancelled():
            continue
        if task.exception() is not None:
            failed[code] = str(task.exception())
        elif task.result() != "closed":
            failed[code] = f"环节运行结束但未完成（{task.result()}） / the stage run ended with the stage {task.result()}"
        else:
            continue
        log.warning("环节失败 / stage failed: %s — %s", code, failed[code])


async def _alive_runs(run_ids: list[str]) -> set[str]:
    """Which of these flow runs are still going (not in a final state) on the Prefect server."""
    if not run_ids:
        return set()
    from uuid import UUID

    from prefect.client.orchestration import get_client
    from prefect.client.schemas.filters import FlowRunFilter, FlowRunFilterId

    ids = []
    for run_id in run_ids:
        try:
            ids.append(UUID(run_id))
        except ValueError:
            continue  # not a Prefect run id: nothing runs under it
    runs = []
    async with get_client() as client:
        for at in range(0, len(ids), READ_LIMIT):
            chunk = ids[at:at + READ_LIMIT]
            runs += await client.read_flow_runs(flow_run_filter=FlowRunFilter(id=FlowRunFilterId(any_=chunk)),
                                                limit=len(chunk))
    return {str(r.id) for r in runs if r.state is not None and not r.state.is_final()}


def _starter(slug: str, deployment: str | None, poll_seconds: float):
    """How this run starts a stage: on a worker through `deployment`, else as a subflow here."""
    if deployment is None:
        return lambda code: _run_stage(slug, code)
    get_run_logger().info("环节经部署 %s 交由工作进程运行 / stages run on workers through %s", deployment, deployment)
    return lambda code: _run_on_worker(slug, code, deployment, poll_seconds)


async def _stage_deployment() -> str | None:
    """The stage deployment, when this campaign run itself came from a deployment and it exists."""
    from prefect.client.orchestration import get_client
    from prefect.context import FlowRunContext
    from prefect.exceptions import ObjectNotFound

    ctx = FlowRunContext.get()
    if not (ctx and ctx.flow_run and ctx.flow_run.deployment_id):
        return None
    try:
        async with get_client() as client:
            await client.read_deployment_by_name(STAGE_DEPLOYMENT)
    except ObjectNotFound:
        return None
    return STAGE_DEPLOYMENT


def _claim(slug: str, code: str) -> tuple[str | None, int, str]:
    """The run that holds a stage, its approval round and its state."""
    from tasks.stages import load_stage

    with session_scope() as session:
        row = load_stage(session, slug, code).stage
        return row.flow_run_id, row.round, row.state


async def _run_on_worker(slug: str, code: str, deployment: str, poll_seconds: float) -> str:
    """Start the stage as a run of its deployment (a worker runs it; it suspends while people
    think) and wait for that run to end; a crashed run is started again, at most twice."""
    from prefect.deployments import run_deployment

    for attempt in range(STAGE_ATTEMPTS):
        claimed, round_, _ = await anyio.to_thread.run_sync(_claim, slug, code)
        key = f"campaign:{slug}:{code}:{claimed or 'unclaimed'}:r{round_}:a{attempt}"
        run = await run_deployment(deployment, parameters={"campaign": slug, "unit": code}, timeout=0,
                                   idempotency_key=key, as_subflow=False)  # a subflow cannot suspend
        state = await _until_final(run.id, max(poll_seconds, 1.0))
        if state.is_completed():
            return (await anyio.to_thread.run_sync(_claim, slug, code))[2]
        if not state.is_crashed():
            break
        get_run_logger().warning("环节运行崩溃，重新启动 / stage run %s crashed, starting it again: %s",
                                 run.name, state.message)
    raise RuntimeError(f"{run.name}: {state.name} — {state.message}")


async def _until_final(run_id, every: float):
    """Poll the server until the flow run is in a final state; return that state."""
    from prefect.client.orchestration import get_client

    async with get_client() as client:
        while True:
            state = (await client.read_flow_run(run_id)).state
            if state is not None and state.is_final():
                return state
            await asyncio.sleep(every)


async def _run_stage(slug: str, code: str) -> str:
    """Run one stage; start it again when the Prefect server failed it (a busy SQLite server
    answers 503 until the client's retries run out). Every step is safe to re-run."""
    for _ in range(STAGE_ATTEMPTS - 1):
        try:
            return await stage(campaign=slug, unit=code, send_mail=False)
        except Exception as exc:
            if not server_unreachable(exc):
                raise
            get_run_logger().warning("环节因 Prefect 服务器错误中断，%d 秒后重新运行 / stage %s stopped by a "
                                     "Prefect server error, starting it again in %d s: %s",
                                     RESTART_DELAY_S, code, RESTART_DELAY_S, exc)
            await asyncio.sleep(RESTART_DELAY_S)
    return await stage(campaign=slug, unit=code, send_mail=False)  # the last attempt


async def _deliver_while(running: dict, poll_seconds: float) -> None:
    """One deliverer for every stage of the campaign: send what is due, again and again.

    In batches, urgent mail first (`URGENT_KINDS`): an approval code queued while hundreds of
    result notices go out is sent after the current batch, not after all of them.
    """
    while True:
        full = False
        if any(not t.done() for t in running.values()):
            full = await deliver_mail(limit=DELIVERY_BATCH) >= DELIVERY_BATCH
        if not full:
            await asyncio.sleep(poll_seconds)

"""The campaign flow: drive the chain bottom-up, each stage its own flow run."""

import asyncio
from datetime import timedelta

import anyio
from prefect import flow, get_run_logger

from core.db import session_scope
from flows.stage import deliver_mail, stage
from tasks.chain import chain_rows, due_stages, missing_children, next_deadline, set_clock
from tasks.inputs import server_unreachable

DELIVERY_BATCH = 50
STAGE_ATTEMPTS = 3  # a stage the Prefect server failed is started again, at most twice
RESTART_DELAY_S = 5


def _snapshot(slug: str):
    with session_scope() as session:
        return chain_rows(session, slug)  # plain result rows: nothing tied to the session


def _advance(slug: str, when) -> None:
    with session_scope() as session:
        set_clock(session, slug, when)


@flow(persist_result=False)
async def campaign(slug: str, advance_clock: bool = False, poll_seconds: float = 1.0,
                   max_parallel: int = 32) -> dict:
    """Start every stage when its deadline comes or its inputs are in, until all are closed."""
    log = get_run_logger()
    running: dict[str, asyncio.Task] = {}
    gate = asyncio.Semaphore(max_parallel)
    failed: dict[str, str] = {}
    postman = asyncio.create_task(_deliver_while(running, poll_seconds))
    try:
        while True:
            now, rows = await anyio.to_thread.run_sync(_snapshot, slug)
            for code in due_stages(rows, now):
                if code not in running:
                    running[code] = asyncio.create_task(_run_stage(gate, slug, code))
            for code, task in list(running.items()):
                if task.done() and task.exception() is not None and code not in failed:
                    failed[code] = str(task.exception())
                    log.warning("环节失败 / stage failed: %s — %s", code, failed[code])
            busy = [c for c, t in running.items() if not t.done()]
            if not busy and all(s.state == "closed" or s.unit_code in failed for s, _ in rows):
                break
            if not busy and advance_clock and (ahead := next_deadline(rows, now)) is not None:
                log.info("模拟时钟前进至 / simulated clock moves to %s", ahead)
                await anyio.to_thread.run_sync(_advance, slug, ahead + timedelta(minutes=1))
                continue
            if not busy and not advance_clock and next_deadline(rows, now) is None and not due_stages(rows, now):
                break
            await asyncio.sleep(poll_seconds)
    finally:  # finished, or cancelled (a time limit): no stage run or deliverer outlives the flow
        postman.cancel()
        for task in running.values():
            task.cancel()
    await deliver_mail()
    return {"failed": failed, "missing": missing_children(rows)}


async def _run_stage(gate: asyncio.Semaphore, slug: str, code: str) -> str:
    """Run one stage; start it again when the Prefect server failed it (a busy SQLite server
    answers 503 until the client's retries run out). Every step is safe to re-run."""
    async with gate:
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

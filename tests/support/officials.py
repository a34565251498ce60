"""Experts and officials of the mini campaign answering stage runs that run in this process
(threads), through Prefect's resume API; the form a run waits with, read back from Prefect."""

import asyncio
import re
import time
from uuid import UUID

from prefect.client.orchestration import get_client
from sqlmodel import select

from core.db import session_scope
from models import Message
from tasks.waiting import WaitingRun, resume, waiting_stage_runs

SLUG = "mini-test"


_answered: set[tuple[str, str]] = set()  # (run, key) waits already answered: never twice


def wait_for_input(unit: str, kind: str, *, key_contains: str = "", timeout: float = 90) -> WaitingRun:
    """The unit's run once it waits for `kind` ("scores" | "approval") with a matching key not yet answered."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        runs = [r for r in asyncio.run(waiting_stage_runs(SLUG))
                if r.unit == unit and r.kind == kind and key_contains in r.key
                and (r.flow_run_id, r.key) not in _answered]
        if runs:
            return runs[0]
        time.sleep(0.3)
    raise AssertionError(f"{unit} never waited for {kind} ({key_contains!r})")


def code_for(official: str) -> str:
    """The newest one-time code mailed to an official (read from the outbox)."""
    with session_scope() as s:
        rows = s.exec(select(Message).where(Message.kind == "approval_request").order_by(Message.id.desc())).all()
    for m in rows:
        if f"--official {official} --code" in m.body_text:
            return re.search(r"--code ([A-Z2-9]{10})", m.body_text).group(1)
    raise AssertionError(f"no approval request mailed to {official}")


def answer(run: WaitingRun, value: dict) -> None:
    """Resume a waiting run with an input, as the UI's Resume form does."""
    _answered.add((run.flow_run_id, run.key))
    accepted, reason = asyncio.run(resume(run.flow_run_id, value))
    assert accepted, reason


def score(unit: str, expert: str, totals: dict[str, int], *, key_contains: str = "") -> str:
    """One expert scores each reference (both criteria the same number); return the form's description."""
    run = wait_for_input(unit, "scores", key_contains=key_contains)
    shown = form_description(run)
    rows = [{"reference": ref, "demo": n, "innovation": n, "conflict": False, "note": ""} for ref, n in totals.items()]
    answer(run, {"expert": expert, "rows": rows})
    return shown


def form_description(run: WaitingRun) -> str:
    """The description of the form the run waits with, as the Prefect UI shows it."""

    async def read() -> str:
        async with get_client() as client:
            flow_run = await client.read_flow_run(UUID(run.flow_run_id))
            key = flow_run.state.state_details.run_input_keyset["description"]
            return await client.read_flow_run_input(flow_run_id=UUID(run.flow_run_id), key=key)

    return asyncio.run(read())

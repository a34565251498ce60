"""Experts and officials as the tests play them: they answer a stage run's waiting form through
Prefect's resume API (as the UI's Resume button and `tuijian approve` do), and read their
one-time codes from the mail they received."""

import asyncio
import time
from collections.abc import Callable

from tasks.waiting import resume, waiting_stage_runs
from tests.support.world import CODE, RUN_TIMEOUT_S, SLUG, UNIT, World


def scores_for(refs: list[str], expert: str = "c2-e1") -> dict:
    """One expert's scores: earlier references score higher (a strict, repeatable ranking)."""
    rows = [{"reference": r, "demo": 90 - 7 * i, "innovation": 85 - 7 * i, "conflict": False, "note": ""}
            for i, r in enumerate(refs)]
    return {"expert": expert, "rows": rows, "sheets_imported": False}


Answer = Callable[["World", str], dict | None]


def default_answer(world: World, kind: str) -> dict | None:
    """The expert scores everything; the official approves with the mailed code."""
    if kind == "scores":
        return scores_for(world.references())
    if kind == "approval":
        return {"official": "c2-off", "code": world.approval_code("c2-off")}
    return None


def scores_only(world: World, kind: str) -> dict | None:
    """The expert answers; the official does not (yet)."""
    return default_answer(world, kind) if kind == "scores" else None


def answer_until(done: Callable[[], bool], world: World, unit: str = UNIT,
                 answer: Answer = default_answer, timeout: float = RUN_TIMEOUT_S) -> None:
    """Answer the unit's waiting run in this world (once per wait) until `done()` is true."""
    answered: set[tuple[str, str]] = set()
    deadline = time.monotonic() + timeout
    while not done():
        assert time.monotonic() < deadline, f"the stage of {unit} did not finish within {timeout:.0f} s"
        claimed = world.claimed_run(unit)
        for run in asyncio.run(waiting_stage_runs(SLUG)):
            if run.unit != unit or run.flow_run_id != claimed or (run.flow_run_id, run.key) in answered:
                continue
            value = answer(world, run.kind)
            if value is None:
                continue
            accepted, reason = asyncio.run(resume(run.flow_run_id, value))
            if not accepted and "schema not found" in reason:
                continue  # Prefect pauses first and saves the form a moment later: ask again
            assert accepted, reason
            answered.add((run.flow_run_id, run.key))
        time.sleep(0.2)  # polling the server for the next wait; nothing is asserted about timing


def waiting_for(kind: str, unit: str = UNIT) -> bool:
    """True while the unit's stage run waits for an input of this kind."""
    return any(r.unit == unit and r.kind == kind for r in asyncio.run(waiting_stage_runs(SLUG)))


def submit(world: World, value: dict, kind: str = "approval", unit: str = UNIT) -> None:
    """Wait for the unit's run to wait for `kind`, then send it one input (as the UI's form does)."""
    sent: list[dict] = []

    def once(_world: World, waiting_kind: str) -> dict | None:
        if waiting_kind != kind or sent:
            return None
        sent.append(value)
        return value

    answer_until(lambda: bool(sent), world, unit, once)


def mailed_code(received: list, address: str, *, not_in: tuple[str, ...] = ()) -> str | None:
    """The newest one-time code delivered to `address` (skipping codes in `not_in`)."""
    for r in reversed(received):
        if address in r.rcpt_tos:
            found = CODE.search(r.message.get_body(("plain",)).get_content())
            if found and found.group(1) not in not_in:
                return found.group(1)
    return None

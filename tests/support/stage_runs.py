"""Run stage flows in subprocesses (tests/support/stage_driver.py) or threads, as a worker would.

Experts and officials answer the waiting run through Prefect's resume API (tests/support/people.py).
"""

import asyncio
import subprocess
import sys
import threading

from prefect.client.orchestration import get_client
from prefect.client.schemas.filters import (
    FlowFilter,
    FlowFilterName,
    FlowRunFilter,
    FlowRunFilterState,
    FlowRunFilterStateType,
)
from prefect.client.schemas.objects import StateType
from prefect.states import Crashed

from tests.support.people import Answer, answer_until, default_answer
from tests.support.world import ROOT, RUN_TIMEOUT_S, SLUG, UNIT, World

FINAL = [StateType.COMPLETED, StateType.FAILED, StateType.CRASHED, StateType.CANCELLED]


def start(world: World, unit: str = UNIT, **extra: str):
    """Start the stage flow of `unit` in a fresh process of this world (output to its log file):
    forked by the world's fork server if it has one, else a new interpreter."""
    world.runs += 1
    log_path = world.home / f"flow-process-{world.runs}.log"
    if world.forks is not None and not any(k.startswith("PREFECT_") for k in extra):
        return world.forks.run([SLUG, unit], world.env(**extra), log_path)
    with log_path.open("w") as log:
        proc = subprocess.Popen([sys.executable, "-m", "tests.support.stage_driver", SLUG, unit], cwd=ROOT,
                                env=world.env(**extra), stdout=log, stderr=subprocess.STDOUT)
    proc.log_path = log_path  # type: ignore[attr-defined]
    return proc


def drive(proc, world: World, unit: str = UNIT, answer: Answer = default_answer,
          timeout: float = RUN_TIMEOUT_S) -> tuple[int, str]:
    """Answer the process's waiting run until it exits; return its exit code and the end of its log."""
    try:
        answer_until(lambda: proc.poll() is not None, world, unit, answer, timeout)
    except BaseException:
        proc.kill()
        proc.wait()
        raise
    return proc.returncode, proc.log_path.read_text(errors="replace")[-4000:]


def run_stage(world: World, unit: str = UNIT, answer: Answer = default_answer, **extra: str) -> tuple[int, str]:
    """Run a stage process to its end, answering it; return its exit code and the end of its log."""
    return drive(start(world, unit, **extra), world, unit, answer)


def crash_unfinished(unit: str = UNIT) -> int:
    """Mark stage runs of `unit` that are not final CRASHED, as a worker does for a dead process."""
    flt = FlowRunFilter(state=FlowRunFilterState(type=FlowRunFilterStateType(not_any_=FINAL)))
    crashed = 0
    with get_client(sync_client=True) as client:
        for run in client.read_flow_runs(flow_filter=FlowFilter(name=FlowFilterName(any_=["stage"])),
                                         flow_run_filter=flt, limit=200):
            if (run.parameters or {}).get("unit") == unit and (run.parameters or {}).get("campaign") == SLUG:
                client.set_flow_run_state(run.id, Crashed(message="flow process killed (SIGKILL)"), force=True)
                crashed += 1
    return crashed


def flush_mail(world: World, minutes_later: int = 6) -> None:
    """Deliver what the outbox still holds a few minutes on (leases over), as `tuijian mail send` would."""
    from datetime import timedelta

    import pytest

    from core.clock import real_now
    from core.settings import get_settings
    from tasks.outbox import deliver_pending
    from tests.support import databases

    later = (real_now() + timedelta(minutes=minutes_later)).isoformat()
    env = world.env()
    with pytest.MonkeyPatch.context() as mp:
        for key in ("TUIJIAN_DATABASE_URL", "TUIJIAN_HOME", "TUIJIAN_SMTP_HOST", "TUIJIAN_SMTP_PORT",
                    "TUIJIAN_SMTP_SECURITY"):
            mp.setenv(key, env[key])
        mp.setenv("TUIJIAN_NOW", later)
        get_settings.cache_clear()
        try:
            asyncio.run(deliver_pending())
        finally:
            databases.dispose(world.url)
    get_settings.cache_clear()


def run_in_thread(fn, *args) -> tuple[threading.Thread, dict]:
    """Run an async flow in a daemon thread; the box gets its `result` or its `error`."""
    box: dict = {}

    def target() -> None:
        try:
            box["result"] = asyncio.run(fn(*args))
        except BaseException as exc:  # handed to the test
            box["error"] = exc

    thread = threading.Thread(target=target, daemon=True)
    thread.start()
    return thread, box

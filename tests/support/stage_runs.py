"""Run stage flows in subprocesses (tests/support/stage_driver.py) and answer them as people do.

A `World` is one run's own database, home folder and SMTP server, all copies of one prepared
starting point, so a disturbed run and an undisturbed one can be compared. Experts and
officials answer the waiting run through Prefect's resume API, as in tests/flows/test_stage.py.
"""

import asyncio
import os
import re
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

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
from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from models import Application, Message, Stage
from tasks.waiting import resume, waiting_stage_runs
from tests.support.smtp import SMTPServer
from tests.support.stage_state import engine

ROOT = Path(__file__).resolve().parents[2]
SLUG = "mini-test"
UNIT = "110200"
CODE = re.compile(r"--code ([A-Z2-9]{10})")
RUN_TIMEOUT_S = 180.0
FINAL = [StateType.COMPLETED, StateType.FAILED, StateType.CRASHED, StateType.CANCELLED]


def api_url() -> str:
    """The Prefect API this test session talks to (the session's test server)."""
    from prefect.settings import PREFECT_API_URL

    return PREFECT_API_URL.value()


@dataclass
class World:
    """One run's database URL, home folder and SMTP server."""

    url: str
    home: Path
    smtp: SMTPServer
    extra_env: dict[str, str] = field(default_factory=dict)
    runs: int = 0
    _engine: Engine | None = field(default=None, repr=False)

    def env(self, **extra: str) -> dict[str, str]:
        """The environment of a flow process of this world."""
        return dict(os.environ) | {
            "TUIJIAN_DATABASE_URL": self.url, "TUIJIAN_HOME": str(self.home),
            "TUIJIAN_SMTP_HOST": "127.0.0.1", "TUIJIAN_SMTP_PORT": str(self.smtp.port),
            "TUIJIAN_SMTP_SECURITY": "none", "PREFECT_API_URL": api_url(),
            "PREFECT_HOME": str(self.home / "prefect-client"), "PREFECT_LOGGING_LEVEL": "WARNING",
        } | self.extra_env | extra

    def session(self) -> Session:
        """A session on this world's database."""
        if self._engine is None:
            self._engine = engine(self.url)
        return Session(self._engine)

    def dispose(self) -> None:
        """Close this world's connections (before its database is copied or dropped)."""
        if self._engine is not None:
            self._engine.dispose()
            self._engine = None

    def claimed_run(self, unit: str = UNIT) -> str | None:
        """The flow run id that holds the unit's stage in this world."""
        with self.session() as s:
            return s.exec(select(Stage.flow_run_id).where(Stage.unit_code == unit)).one()

    def approval_code(self, official: str) -> str:
        """The newest one-time code mailed to an official (read from the outbox)."""
        with self.session() as s:
            bodies = s.exec(select(Message.body_text).where(Message.kind == "approval_request")
                            .order_by(Message.id.desc())).all()
        for body in bodies:
            if f"--official {official} --code" in body:
                return CODE.search(body).group(1)
        raise AssertionError(f"no approval request mailed to {official}")

    def references(self, unit: str = UNIT) -> list[str]:
        """The references of the applications filed with a unit, in filing order."""
        with self.session() as s:
            return list(s.exec(select(Application.reference).where(Application.unit_code == unit)
                               .order_by(Application.id)))


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


def start(world: World, unit: str = UNIT, **extra: str) -> subprocess.Popen:
    """Start the stage flow of `unit` in a fresh process of this world (output to its log file)."""
    world.runs += 1
    log = (world.home / f"flow-process-{world.runs}.log").open("w")
    proc = subprocess.Popen([sys.executable, "-m", "tests.support.stage_driver", SLUG, unit], cwd=ROOT,
                            env=world.env(**extra), stdout=log, stderr=subprocess.STDOUT)
    proc.log_path = Path(log.name)  # type: ignore[attr-defined]
    log.close()
    return proc


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


def drive(proc: subprocess.Popen, world: World, unit: str = UNIT, answer: Answer = default_answer,
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

"""The stage flow the production way: a real `prefect server start`, the work pool and the stage
deployment registered with `prefect deploy` from deployments/prefect.yaml, a real process
worker, and the officials answering through `POST /api/flow_runs/{id}/resume`.

A deployed run SUSPENDS while it waits (its process exits); each resume reschedules it and
the worker starts it again from the top. Both databases (the Prefect server's and ours) are
SQLite files, or both PostgreSQL (throwaway databases, dropped afterwards).
"""

import asyncio
import os
import re
import time
import uuid
from collections.abc import Callable
from pathlib import Path

import httpx
import pytest
from prefect.client.orchestration import get_client
from prefect.client.schemas.objects import State, StateType
from prefect.deployments import run_deployment
from prefect.settings import PREFECT_API_URL, temporary_settings
from sqlmodel import select

from core.clock import parse_local
from core.db import session_scope
from core.mailsink import MailSink
from core.prefect_server import PrefectServer, free_port, pg_server_db_url, start_server
from core.prefect_worker import Worker, create_work_pool, deploy, start_worker
from models import Entry, Message, Stage
from tasks.campaigns import campaign_config, get_campaign
from tasks.chain import set_clock
from tasks.score_input import scores_input_model
from tests.conftest import MINI_CAMPAIGN
from tests.support import databases
from tests.support.factories import file_application

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[2]
WAIT_S = 120.0


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def backend(request) -> tuple[str, str | None]:
    """Our database (installed with the mini campaign) and, for PostgreSQL, the server's database URL."""
    app_url = request.getfixturevalue(f"{request.param}_db")
    databases.install(MINI_CAMPAIGN)
    if request.param == "sqlite":
        return app_url, None
    name = f"tj_pf_{os.getpid()}_{uuid.uuid4().hex[:8]}"
    databases.pg_create(name)
    request.addfinalizer(lambda: databases.pg_drop(name))
    return app_url, pg_server_db_url(name)


@pytest.fixture
def server(backend, tmp_path) -> PrefectServer:
    with start_server(tmp_path / "prefect-server", database_url=backend[1]) as running:
        with temporary_settings({PREFECT_API_URL: running.api_url}):
            yield running


@pytest.fixture
def sink(tmp_path) -> MailSink:
    with MailSink(tmp_path / "mail", free_port()) as running:
        yield running


@pytest.fixture
def worker(server, backend, sink, tmp_path) -> Worker:
    """The work pool, the stage deployment (`prefect deploy`) and a process worker for it."""
    deploying = without_home(tmp_path)
    create_work_pool(server.api_url, env=deploying)
    deploy(server.api_url, ["stage"], env=deploying)
    env = deploying | {"TUIJIAN_HOME": str(ROOT), "TUIJIAN_DATABASE_URL": backend[0],
                       "TUIJIAN_OUT_DIR": str(tmp_path / "out"), "TUIJIAN_SMTP_HOST": sink.host,
                       "TUIJIAN_SMTP_PORT": str(sink.port), "TUIJIAN_SMTP_SECURITY": "none"}
    with start_worker(server.api_url, tmp_path / "worker.log", env=env, query_seconds=1) as running:
        yield running


@pytest.fixture
def bare_server(tmp_path) -> PrefectServer:
    """A server on its own SQLite database, for what needs no app database."""
    with start_server(tmp_path / "prefect-server") as running:
        with temporary_settings({PREFECT_API_URL: running.api_url}):
            yield running


def without_home(tmp_path: Path) -> dict[str, str]:
    """The deploying shell: no TUIJIAN_HOME, so the pull step keeps `{{ $TUIJIAN_HOME }}` for the worker."""
    return {k: v for k, v in os.environ.items() if k != "TUIJIAN_HOME"} | {"PREFECT_HOME": str(tmp_path / "pc")}


def file_two_centres() -> list[str]:
    """File two experience centres with 乙市 (110200) before its deadline, then move the clock past it."""
    with session_scope() as session:
        set_clock(session, "mini-test", parse_local("2031-06-01 09:00"))
        refs = [file_application(session, "mini-test", "110200", "experience_centre").reference for _ in range(2)]
        set_clock(session, "mini-test", parse_local("2031-06-10 18:00"))
    return refs


def wait_for_state(run_id: str, worker: Worker, what: str, ok: Callable[[State], bool]) -> State:
    """Poll the server until the run's state passes `ok`; fail with the worker's log if it ends first."""
    deadline = time.monotonic() + WAIT_S
    state = None
    with get_client(sync_client=True) as client:
        while time.monotonic() < deadline:
            state = client.read_flow_run(uuid.UUID(run_id)).state
            if state is not None and ok(state):
                return state
            if state is not None and state.is_final():
                break
            time.sleep(0.5)  # polling the server; nothing is asserted about how long it took
    raise AssertionError(f"the run never {what}; last state {state!r}\n--- worker log ---\n{worker.log_tail()}")


def waiting_for(kind: str) -> Callable[[State], bool]:
    """A state test: suspended for an input whose key starts with `kind`."""
    def ok(state: State) -> bool:
        details = state.state_details
        return state.type == StateType.PAUSED and bool(details.run_input_keyset) and \
            (details.pause_key or "").startswith(kind)
    return ok


def resume(server: PrefectServer, run_id: str, run_input: dict) -> dict:
    """Answer a waiting run the way the UI does; the body says whether the server took it.

    A 503 (the server's SQLite briefly locked) is retried, as Prefect's own client does.
    """
    for attempt in range(5):
        response = httpx.post(f"{server.api_url}/flow_runs/{run_id}/resume", json={"run_input": run_input},
                              timeout=30)
        if response.status_code != 503:
            break
        time.sleep(0.5 * 2**attempt)
    assert response.is_success, response.text
    return response.json()


def scores_for(refs: list[str]) -> dict:
    """c2-e1's scores: the first centre ahead of the second (checked against the campaign's form)."""
    rows = [{"reference": ref, "demo": 90 - 20 * i, "innovation": 85 - 20 * i, "conflict": False, "note": ""}
            for i, ref in enumerate(refs)]
    value = {"expert": "c2-e1", "rows": rows, "sheets_imported": False}
    with session_scope() as session:
        scores_input_model(campaign_config(get_campaign(session, "mini-test")).rubric).model_validate(value)
    return value


def approval_code(official_email: str) -> str:
    """The one-time code mailed (queued in our outbox) to an official."""
    with session_scope() as session:
        bodies = session.exec(select(Message.body_text).where(
            Message.kind == "approval_request", Message.recipient == official_email)).all()
    assert len(bodies) == 1, bodies
    return re.search(r"--code ([A-Z2-9]{10})", bodies[0]).group(1)


def test_stage_deployment_suspends_resumes_and_forwards_through_a_worker(server, worker, sink):
    refs = file_two_centres()
    run = run_deployment("stage/stage", parameters={"campaign": "mini-test", "unit": "110200"}, timeout=0)
    run_id = str(run.id)
    assert run.deployment_id is not None

    state = wait_for_state(run_id, worker, "waited for scores", waiting_for("scores"))
    assert state.name == "Suspended"  # deployed: the process let go while the expert thinks
    assert resume(server, run_id, scores_for(refs))["status"] == "ACCEPT"

    wait_for_state(run_id, worker, "waited for approval", waiting_for("approval"))
    refused = resume(server, run_id, {"official": "c2-off", "code": "X", "decision": "maybe"})
    assert refused["status"] == "REJECT"  # HTTP 200 all the same: only the body tells
    wait_for_state(run_id, worker, "stayed suspended", waiting_for("approval"))
    code = approval_code("c2-off@example.org")
    assert resume(server, run_id, {"official": "c2-off", "code": code, "decision": "approve"})["status"] == "ACCEPT"

    wait_for_state(run_id, worker, "completed", lambda s: s.type == StateType.COMPLETED)
    with session_scope() as session:
        stage = session.exec(select(Stage).where(Stage.unit_code == "110200")).one()
        assert (stage.state, stage.flow_run_id) == ("closed", run_id)
        at_city = {e.id: e for e in session.exec(select(Entry).where(Entry.unit_code == "110200"))}
        up = session.exec(select(Entry).where(Entry.unit_code == "110000")).all()
    selected = [e for e in at_city.values() if e.status == "selected"]
    assert len(selected) == 1 and selected[0].rank == 1  # 乙市 may send one experience centre
    assert [(e.source_entry_id, e.from_unit_code) for e in up] == [(selected[0].id, "110200")]
    mailed = {r.recipient for r in sink.records()}
    assert {"c2-off@example.org", "p-con@example.org"} <= mailed  # approval request, then the letter upward
    kept = asyncio.run(inputs_kept(run_id))  # read once on resume, then deleted: the code is not kept
    assert "suspended-approval-r0-i1-schema" in kept and "suspended-scores-r0-i0-response" in kept, sorted(kept)
    assert not [k for k in kept if k.startswith("suspended-approval") and k.endswith("-response")], sorted(kept)
    assert code not in "".join(kept.values())


async def inputs_kept(run_id: str) -> dict[str, str]:
    """The flow run inputs Prefect keeps for a run, by key."""
    from tests.support.prefect_traces import inputs_of

    async with get_client() as client:
        return {i.key: i.value for i in await inputs_of(client, uuid.UUID(run_id))}


def test_prefect_deploy_all_registers_every_deployment_as_the_yaml_says(bare_server, tmp_path):
    env = without_home(tmp_path)
    create_work_pool(bare_server.api_url, env=env)
    deploy(bare_server.api_url, env=env)  # --all, from the repository root
    with get_client(sync_client=True) as client:
        pool = client.read_work_pool("tuijian")
        found = {d.name: d for d in client.read_deployments()}
    assert pool.type == "process"
    assert set(found) == {"stage", "campaign", "intake", "reminders-daily", "deliver-mail", "publicity"}
    assert all(d.work_pool_name == "tuijian" for d in found.values())
    (daily,) = found["reminders-daily"].schedules
    assert (daily.schedule.cron, daily.schedule.timezone, daily.active) == ("0 9 * * *", "Asia/Shanghai", True)
    assert found["campaign"].parameters == {"advance_clock": False, "max_parallel": 32}
    # deployed from a shell without TUIJIAN_HOME, the directory is the *worker's* TUIJIAN_HOME
    pull = [{"prefect.deployments.steps.set_working_directory": {"directory": "{{ $TUIJIAN_HOME }}"}}]
    assert {n: d.pull_steps for n, d in found.items()} == dict.fromkeys(found, pull)

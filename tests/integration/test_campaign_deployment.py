"""The campaign flow from its deployment: it starts every stage through the stage deployment,
so the stages run on the worker and suspend while people think (no process held).

A real `prefect server start`, the deployments registered with `prefect deploy`, a real
process worker; the demo's simulated experts and officials answer through the API.
"""

import asyncio
import time
import uuid

import pytest
from prefect.client.orchestration import get_client
from prefect.deployments import run_deployment
from sqlmodel import select

from core.clock import parse_local
from core.db import session_scope
from core.prefect_worker import create_work_pool, deploy, start_worker
from models import Stage
from tasks.chain import set_clock
from tasks.simulate import Actors
from tests.integration.test_server_worker import ROOT, backend, server, sink, without_home  # noqa: F401
from tests.support.factories import file_application

pytestmark = pytest.mark.slow
WAIT_S = 600.0


@pytest.fixture
def worker(server, backend, sink, tmp_path):  # noqa: F811
    """The work pool, the stage and campaign deployments, and a process worker for both."""
    deploying = without_home(tmp_path)
    create_work_pool(server.api_url, env=deploying)
    deploy(server.api_url, ["stage", "campaign"], env=deploying)
    env = deploying | {"TUIJIAN_HOME": str(ROOT), "TUIJIAN_DATABASE_URL": backend[0],
                       "TUIJIAN_OUT_DIR": str(tmp_path / "out"), "TUIJIAN_SMTP_HOST": sink.host,
                       "TUIJIAN_SMTP_PORT": str(sink.port), "TUIJIAN_SMTP_SECURITY": "none"}
    with start_worker(server.api_url, tmp_path / "worker.log", env=env, query_seconds=1) as running:
        yield running


async def _runs(ids: list[str]) -> dict[str, object]:
    async with get_client() as client:
        return {i: await client.read_flow_run(uuid.UUID(i)) for i in ids}


def test_the_campaign_deployment_runs_its_stages_on_the_worker(server, worker, sink):  # noqa: F811
    with session_scope() as s:
        set_clock(s, "mini-test", parse_local("2031-06-01 09:00"))
        for unit, direction in (("110100", "experience_centre"), ("110200", "experience_centre"),
                                ("110200", "platform")):
            file_application(s, "mini-test", unit, direction, region=unit)
    run = run_deployment("campaign/campaign", parameters={"slug": "mini-test", "advance_clock": True,
                                                          "poll_seconds": 0.5}, timeout=0)
    people = Actors("mini-test", sink.folder)
    deadline = time.monotonic() + WAIT_S
    suspended = set()
    while True:
        state = asyncio.run(_runs([str(run.id)]))[str(run.id)].state
        if state is not None and state.is_final():
            break
        assert time.monotonic() < deadline, f"the campaign run is still {state!r}\n{worker.log_tail()}"
        waiting = asyncio.run(_waiting())
        suspended |= {r.id for r in waiting if r.state.name == "Suspended"}
        asyncio.run(people.act_once())
        time.sleep(1)
    assert state.is_completed(), f"{state!r}\n{worker.log_tail()}"
    with session_scope() as s:
        stages = {st.unit_code: (st.state, st.flow_run_id) for st in s.exec(select(Stage))}
    assert {u: st for u, (st, _) in stages.items()} == dict.fromkeys(stages, "closed")
    runs = asyncio.run(_runs([rid for _, rid in stages.values()]))
    assert all(r.deployment_id is not None for r in runs.values())  # every stage ran from its deployment
    assert {r.id for r in runs.values()} & suspended  # and let go of its process while it waited


async def _waiting():
    from prefect.client.schemas.filters import (
        FlowFilter,
        FlowFilterName,
        FlowRunFilter,
        FlowRunFilterState,
        FlowRunFilterStateType,
    )
    from prefect.client.schemas.objects import StateType

    async with get_client() as client:
        flt = FlowRunFilter(state=FlowRunFilterState(type=FlowRunFilterStateType(any_=[StateType.PAUSED])))
        return await client.read_flow_runs(flow_filter=FlowFilter(name=FlowFilterName(any_=["stage"])),
                                           flow_run_filter=flt)

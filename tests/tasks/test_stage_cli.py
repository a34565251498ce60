"""`tuijian stage run --deployment`: one run per need, through a deployment on the session's
Prefect test server (no worker: the runs stay scheduled, the test plays what a worker would)."""

import asyncio
import uuid

import pytest
from prefect.client.orchestration import get_client
from prefect.states import Crashed, Running
from sqlmodel import select
from typer.testing import CliRunner

from cli.main import app
from core.clock import parse_local
from core.db import session_scope
from models import Stage
from tasks.chain import set_clock

pytestmark = pytest.mark.prefect


@pytest.fixture
def deployment(prefect_server) -> str:
    """A deployment of the stage flow (name unique to the test)."""
    from flows.stage import stage

    name = f"key-{uuid.uuid4().hex[:8]}"

    async def create() -> None:
        async with get_client() as client:
            flow_id = await client.create_flow(stage)
            await client.create_deployment(flow_id=flow_id, name=name, entrypoint="flows/stage.py:stage")

    asyncio.run(create())
    return f"stage/{name}"


def _start(deployment: str) -> str:
    done = CliRunner().invoke(app, ["stage", "run", "110200", "--campaign", "mini-test", "--deployment", deployment])
    assert done.exit_code == 0, done.output
    return done.output.rsplit("(", 1)[1].split(")", 1)[0]


def _set_state(run_id: str, state) -> None:
    async def go() -> None:
        async with get_client() as client:
            await client.set_flow_run_state(uuid.UUID(run_id), state, force=True)

    asyncio.run(go())


def _stage_update(**values) -> None:
    with session_scope() as s:
        row = s.exec(select(Stage).where(Stage.unit_code == "110200")).one()
        for key, value in values.items():
            setattr(row, key, value)
        s.add(row)


def test_a_new_run_only_when_the_stage_needs_one(mini_campaign, deployment):
    with session_scope() as s:
        set_clock(s, "mini-test", parse_local("2031-06-10 18:00"))  # 乙市's deadline has passed
    first = _start(deployment)
    assert _start(deployment) == first  # a double click: the same run
    _stage_update(flow_run_id=first, state="collecting")  # the worker's run claimed the stage
    _set_state(first, Running())
    assert _start(deployment) == first  # still running: not started twice
    _set_state(first, Crashed(message="the worker's machine went down"))
    second = _start(deployment)
    assert second != first  # crashed: the coordinator starts it again and gets a new run
    _stage_update(flow_run_id=second)
    _set_state(second, Crashed(message="locked out"))
    third = _start(deployment)
    assert third not in (first, second)
    _stage_update(round=1)  # an unlock begins a new round before the claimed run ended
    assert _start(deployment) not in (first, second, third)

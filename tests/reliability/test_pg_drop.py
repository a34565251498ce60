"""PostgreSQL connections dropped in the middle of a stage (pg_terminate_backend on the app
database, from another connection, just before a step commits): the step fails cleanly and
leaves nothing behind (each task is one transaction); running the stage again completes it,
and the result equals an undisturbed run's. Connections dropped *between* two steps are not
even noticed (the pool checks a connection before lending it)."""

import json

import pytest
from prefect.client.orchestration import get_client

from tests.reliability.test_kill_stage import comparable, reference
from tests.support.stage_runs import flush_mail, run_stage
from tests.support.world import World

pytestmark = [pytest.mark.postgres, pytest.mark.prefect]

DROPS = ("record_scores_input:1", "write_documents:1", "forward_list:1")


@pytest.fixture
def db(postgres_db):
    """These tests only make sense on PostgreSQL."""
    return postgres_db


def fail_once(world: World, point: str) -> None:
    """Run the stage until its connections are dropped at `point`; it must fail without a trace."""
    before = world.home / "before-drop.json"
    code, log = run_stage(world, TUIJIAN_FAULT_AT=f"{point}:before:drop", TUIJIAN_FAULT_PICTURE=str(before))
    assert code == 1, f"{point}: the stage should have failed\n{log}"
    assert "terminating connection due to administrator command" in log
    assert comparable(world) == json.loads(before.read_text()), f"{point}: partial write"
    with get_client(sync_client=True) as client:
        assert client.read_flow_run(world.claimed_run()).state.is_failed()  # failed, not left running


def test_dropped_connections_fail_a_step_cleanly_and_a_rerun_completes(worlds):
    expected, _mail, _points = reference(worlds)
    world = worlds.make("dropped")
    for point in DROPS:
        fail_once(world, point)
    code, log = run_stage(world, TUIJIAN_FAULT_AT="notify_and_close:1:after:drop")
    assert code == 0, log  # dropped between two steps: the next one reconnects
    flush_mail(world)
    assert comparable(world) == expected

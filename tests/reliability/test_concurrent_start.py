"""Ten coordinators start the same stage at the same moment (ten flow runs in ten threads):
exactly one run does the work; the nine others are told it is already running (Conflict,
"已在运行 / already running") and change nothing. The one run then completes, and forwards
each selected entry exactly once."""

import asyncio
import threading

import pytest
from prefect.client.orchestration import get_client
from sqlmodel import select

from core.db import session_scope
from core.errors import Conflict
from models import Entry, Stage
from tests.support.people import answer_until
from tests.support.world import UNIT, World, prepare_campaign

pytestmark = pytest.mark.prefect
COORDINATORS = 10


def start_together(n: int) -> tuple[list[threading.Thread], list[dict]]:
    """Start the stage flow n times at once, each in its own thread, released by one barrier."""
    from flows.stage import stage

    barrier, boxes = threading.Barrier(n), [{} for _ in range(n)]

    def coordinator(box: dict) -> None:
        barrier.wait()
        try:
            box["result"] = asyncio.run(stage("mini-test", UNIT))
        except BaseException as exc:  # kept for the test to inspect
            box["error"] = exc

    threads = [threading.Thread(target=coordinator, args=(box,), daemon=True) for box in boxes]
    for t in threads:
        t.start()
    return threads, boxes


def test_ten_coordinators_starting_one_stage_run_it_once(db, prefect_server, smtp_server, tmp_path):
    prepare_campaign(tmp_path)
    threads, boxes = start_together(COORDINATORS)
    world = World(db, tmp_path, smtp_server)
    # nobody answers yet: the winner waits for scores while the nine others arrive and are refused
    answer_until(lambda: sum("error" in b for b in boxes) == COORDINATORS - 1, world, answer=lambda *_: None)
    answer_until(lambda: not any(t.is_alive() for t in threads), world)
    world.dispose()
    errors = [b["error"] for b in boxes if "error" in b]
    assert [b["result"] for b in boxes if "result" in b] == ["closed"]
    assert len(errors) == COORDINATORS - 1
    assert all(isinstance(e, Conflict) and "已在运行" in e.zh and "already running" in e.en for e in errors), errors
    with session_scope() as s:
        stage = s.exec(select(Stage).where(Stage.unit_code == UNIT)).one()
        selected = s.exec(select(Entry).where(Entry.unit_code == UNIT, Entry.status == "selected")).all()
        upward = s.exec(select(Entry).where(Entry.unit_code == "110000")).all()
    assert stage.state == "closed" and stage.inputs_seen == 2  # one scores input, one approval
    assert sorted(e.source_entry_id for e in upward) == sorted(e.id for e in selected) and selected
    with get_client(sync_client=True) as client:
        assert client.read_flow_run(stage.flow_run_id).state.is_completed()

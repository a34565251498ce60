"""Ten coordinators start the same stage at the same moment (ten flow runs in ten threads):
exactly one run does the work; the nine others are told it is already running (Conflict,
"已在运行 / already running") and change nothing. The one run then completes, and forwards
each selected entry exactly once.

A stage claimed by an earlier run is taken over only when Prefect says that run is over (or
has never heard of it): while Prefect cannot be asked (unreachable, or answering 5xx) the start
is refused, since the earlier run may be alive."""

import asyncio
import threading
import uuid
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from prefect.client.orchestration import get_client
from prefect.settings import PREFECT_API_URL, PREFECT_CLIENT_MAX_RETRIES, temporary_settings
from sqlmodel import select

from core.db import session_scope
from core.errors import Conflict
from models import Entry, Stage
from tasks.stage_tasks import _open
from tests.support.people import answer_until
from tests.support.smtp import free_port
from tests.support.world import SLUG, UNIT, World, prepare_campaign

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


class _Unavailable(BaseHTTPRequestHandler):
    def do_GET(self) -> None:  # noqa: N802 (the handler's API)
        self.send_response(503)
        self.end_headers()

    def log_message(self, *args) -> None:
        pass


@contextmanager
def prefect_away(how: str):
    """The URL of a Prefect API that cannot answer: nothing listening, or a server answering 503."""
    if how == "closed port":
        yield f"http://127.0.0.1:{free_port()}/api"
        return
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Unavailable)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/api"
    finally:
        server.shutdown()
        server.server_close()


def claimed(run: str | None = None) -> Stage:
    """The unit's stage (after setting its claiming run, if given)."""
    with session_scope() as s:
        stage = s.exec(select(Stage).where(Stage.unit_code == UNIT)).one()
        if run is not None:
            stage.flow_run_id = run
            s.add(stage)
        return stage


@pytest.mark.parametrize("how", ["closed port", "503"])
def test_no_take_over_while_prefect_cannot_say_the_earlier_run_is_over(db, prefect_server, tmp_path, how):
    prepare_campaign(tmp_path)
    earlier, later = str(uuid.uuid4()), str(uuid.uuid4())
    claimed(earlier)  # a run the session's Prefect server has never seen
    with prefect_away(how) as url, temporary_settings({PREFECT_API_URL: url, PREFECT_CLIENT_MAX_RETRIES: 0}):
        with pytest.raises(Conflict) as refused, session_scope() as s:
            _open(s, SLUG, UNIT, later)
    assert "Prefect" in refused.value.zh and earlier in refused.value.zh and earlier in refused.value.en
    stage = claimed()
    assert (stage.flow_run_id, stage.state) == (earlier, "open")  # nothing changed
    with session_scope() as s:  # Prefect answers again: it never knew that run, so it is over
        _open(s, SLUG, UNIT, later)
    stage = claimed()
    assert (stage.flow_run_id, stage.state) == (later, "collecting")

"""The Prefect server is restarted while a stage waits for approval: the approval, given to the
restarted server, still resumes the stage, which then completes.

A real `prefect server start` (core/prefect_server.py) with its own PREFECT_HOME and port; the
stage runs in its own process and *pauses* in process, polling the API. The server is stopped
while it waits; the server comes back on the same home and port, and the official's approval
resumes the run.

Prefect's client retries a refused connection 5 times (2 + 4 + ... + 32 s), so it rides out a
restart shorter than about a minute by itself; after that its pause loop dies and the run
fails. tasks/inputs.py then keeps polling until the server is back. The flow process here
gets PREFECT_CLIENT_MAX_RETRIES=1 so that this longer outage happens within seconds, and the
test waits until the process has logged that it saw the server gone and kept waiting.
"""

import time

import pytest
from prefect.settings import PREFECT_API_URL, temporary_settings
from sqlmodel import select

from core.prefect_server import free_port, start_server
from models import Entry, Stage
from tests.support.people import answer_until, scores_only, waiting_for
from tests.support.stage_runs import drive, start
from tests.support.world import UNIT

pytestmark = [pytest.mark.prefect, pytest.mark.slow]


@pytest.fixture
def db(sqlite_db):
    """The app database does not matter here: SQLite."""
    return sqlite_db


def wait_for_text(path, text: str, proc, timeout: float = 120) -> None:
    """Wait until the flow process writes `text` to its log (failing if it exits first)."""
    deadline = time.monotonic() + timeout
    while text not in path.read_text(errors="replace"):
        assert proc.poll() is None, f"the flow process exited ({proc.returncode}):\n{path.read_text()[-4000:]}"
        assert time.monotonic() < deadline, f"never logged {text!r}:\n{path.read_text()[-4000:]}"
        time.sleep(0.2)  # polling a log file; nothing is asserted about timing


def test_a_server_restart_while_waiting_for_approval_loses_nothing(worlds, tmp_path):
    home, port = tmp_path / "prefect-server", free_port()
    server = start_server(home, port)
    world = worlds.make("restart", PREFECT_API_URL=server.api_url, PREFECT_CLIENT_MAX_RETRIES="1")
    try:
        with temporary_settings({PREFECT_API_URL: server.api_url}):
            proc = start(world)
            answer_until(lambda: waiting_for("approval"), world, answer=scores_only)
            server.stop()
            wait_for_text(proc.log_path, "暂不可达", proc)
            server = start_server(home, port)
            code, log = drive(proc, world)
    finally:
        server.stop()
    assert code == 0, log
    with world.session() as s:
        assert s.exec(select(Stage.state).where(Stage.unit_code == UNIT)).one() == "closed"
        assert len(s.exec(select(Entry).where(Entry.unit_code == "110000")).all()) == 2

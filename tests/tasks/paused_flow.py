"""A tiny flow that waits for a stage's ScoresInput, run in a thread until it is PAUSED.

Used with the session's `prefect_server` fixture, the way an official's resume would reach
a stage flow: `with paused_scores_flow(stage_id) as run: ...; run.join()`.
"""

import threading
import time
import uuid
from contextlib import contextmanager
from dataclasses import dataclass, field

from prefect import flow
from prefect.client.orchestration import get_client
from prefect.client.schemas.filters import FlowRunFilter, FlowRunFilterName
from prefect.flow_runs import pause_flow_run

from tasks.score_input import scores_input_for_stage


@flow(persist_result=False)
def wait_for_scores(stage_id: int) -> dict:
    """Pause for a ScoresInput and return what came in."""
    model = scores_input_for_stage(stage_id).with_initial_data(description="评分 / scores")
    value = pause_flow_run(wait_for_input=model, timeout=120, poll_interval=1)
    return value.model_dump(mode="json")


@dataclass
class PausedRun:
    """A flow run waiting in a thread; `result` is filled in when it returns."""

    name: str
    id: str = ""
    result: list = field(default_factory=list)
    thread: threading.Thread | None = None

    def join(self) -> dict:
        """Wait for the flow to finish and return its value."""
        self.thread.join(timeout=120)
        assert not self.thread.is_alive(), "the flow did not continue"
        return self.result[0]


def state_of(name: str):
    """The newest state of the flow run called `name` (None before it exists)."""
    with get_client(sync_client=True) as client:
        runs = client.read_flow_runs(flow_run_filter=FlowRunFilter(name=FlowRunFilterName(any_=[name])))
    return (str(runs[0].id), runs[0].state) if runs else (None, None)


@contextmanager
def paused_scores_flow(stage_id: int):
    """Start the flow in a thread and yield it once the server reports it PAUSED."""
    run = PausedRun(name=f"scores-{uuid.uuid4().hex[:10]}")
    target = wait_for_scores.with_options(flow_run_name=run.name)
    run.thread = threading.Thread(target=lambda: run.result.append(target(stage_id)), daemon=True)
    run.thread.start()
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline:
        run.id, state = state_of(run.name)
        if state is not None and state.is_paused():
            break
        time.sleep(0.2)  # polling the server for the pause; not a timing assertion
    else:
        raise AssertionError("the flow never paused")
    yield run

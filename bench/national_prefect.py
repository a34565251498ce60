"""Real-time figures from the Prefect API after a run: counts, and per stage run the phases.

The stage flow's task runs carry real wall-clock start and end times (the campaign's own
audit log is on the simulated clock and cannot be used). Per stage run:
- trigger → awaiting approval: `open_stage` start → first `request_approval` end; at expert
  units the experts' turn (first `prepare_scoring` end → last `record_scores_input` start)
  is reported separately and left out of `system` time;
- approval → done: last `record_approval` start → `notify_and_close` end (documents
  written, entries forwarded, mail queued);
- official's turn: first `request_approval` end → last `record_approval` start.
"""

import time
from dataclasses import dataclass
from datetime import UTC, datetime

import httpx

PAGE = 200
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


@dataclass(frozen=True)
class TaskTimes:
    """One task run: its task's name and real start/end."""

    flow_run_id: str
    task: str
    start: datetime | None
    end: datetime | None


def _when(value: str | None) -> datetime | None:
    return None if not value else datetime.fromisoformat(value.replace("Z", "+00:00"))


def count(api_url: str, kind: str) -> int:
    """How many flow_runs / task_runs the server holds."""
    return int(httpx.post(f"{api_url}/{kind}/count", json={}, timeout=60).json())


def settle_counts(api_url: str, *, quiet_s: float = 3.0, limit_s: float = 300.0) -> tuple[int, int, float]:
    """Wait until the server has recorded everything (counts unchanged for `quiet_s`); return
    (flow runs, task runs, seconds waited) — the server records task runs asynchronously."""
    started = time.monotonic()
    last = (count(api_url, "flow_runs"), count(api_url, "task_runs"))
    while time.monotonic() - started < limit_s:
        time.sleep(quiet_s)
        now = (count(api_url, "flow_runs"), count(api_url, "task_runs"))
        if now == last:
            break
        last = now
    return last[0], last[1], round(time.monotonic() - started - quiet_s, 1)


def read_all(api_url: str, kind: str, body: dict | None = None) -> list[dict]:
    """Every flow run or task run matching `body`, page by page."""
    out: list[dict] = []
    with httpx.Client(timeout=120) as client:
        while True:
            page = client.post(f"{api_url}/{kind}/filter",
                               json={**(body or {}), "limit": PAGE, "offset": len(out), "sort": "ID_DESC"})
            page.raise_for_status()
            rows = page.json()
            out += rows
            if len(rows) < PAGE:
                return out


def stage_runs(api_url: str) -> dict[str, dict]:
    """The stage flow runs by id: {id: {"unit", "state", "start", "end"}}."""
    rows = read_all(api_url, "flow_runs", {"flows": {"name": {"any_": ["stage"]}}})
    return {r["id"]: {"unit": (r.get("parameters") or {}).get("unit"), "state": r.get("state_type"),
                      "start": _when(r.get("start_time")), "end": _when(r.get("end_time"))} for r in rows}


def task_times(api_url: str, flow_run_ids: list[str]) -> list[TaskTimes]:
    """The task runs of the given flow runs with their real start and end."""
    out = []
    for i in range(0, len(flow_run_ids), 100):
        rows = read_all(api_url, "task_runs", {"flow_runs": {"id": {"any_": flow_run_ids[i:i + 100]}}})
        out += [TaskTimes(r["flow_run_id"], r["name"].rsplit("-", 1)[0], _when(r.get("start_time")),
                          _when(r.get("end_time"))) for r in rows]
    return out


def _span(a: datetime | None, b: datetime | None) -> float | None:
    return None if a is None or b is None else (b - a).total_seconds()


def stage_phases(tasks: list[TaskTimes]) -> dict[str, float | None]:
    """The phases of one stage run (seconds; None where the run did not get there)."""
    runs: dict[str, list[TaskTimes]] = {}
    for t in sorted(tasks, key=lambda t: (t.start is None, t.start or EPOCH)):
        runs.setdefault(t.task, []).append(t)

    def first(name: str, attr: str) -> datetime | None:
        return getattr(runs[name][0], attr) if name in runs else None

    def last(name: str, attr: str) -> datetime | None:
        return getattr(runs[name][-1], attr) if name in runs else None

    opened, awaiting = first("open_stage", "start"), first("request_approval", "end")
    experts = _span(first("prepare_scoring", "end"), last("record_scores_input", "start"))
    to_awaiting = _span(opened, awaiting)
    return {
        "trigger_to_awaiting_s": to_awaiting,
        "experts_turn_s": experts,
        "trigger_to_awaiting_system_s": None if to_awaiting is None else to_awaiting - (experts or 0.0),
        "officials_turn_s": _span(awaiting, last("record_approval", "start")),
        "approval_to_done_s": _span(last("record_approval", "start"), last("notify_and_close", "end")),
        "empty_close_s": _span(opened, last("review_stage", "end")) if awaiting is None else None,
    }


def percentiles(values: list[float]) -> dict[str, float | int | None]:
    """count, median, p95 (nearest rank) and max, rounded to milliseconds."""
    if not values:
        return {"n": 0, "median": None, "p95": None, "max": None}
    ordered = sorted(values)
    mid = len(ordered) // 2
    median = ordered[mid] if len(ordered) % 2 else (ordered[mid - 1] + ordered[mid]) / 2
    p95 = ordered[max(0, -(-95 * len(ordered) // 100) - 1)]
    return {"n": len(ordered), "median": round(median, 3), "p95": round(p95, 3), "max": round(ordered[-1], 3)}


def latency_table(phases: list[tuple[str, dict[str, float | None]]]) -> dict[str, dict]:
    """Per phase, overall and per level: median/p95/max over the stage runs that reached it."""
    out: dict[str, dict] = {}
    names = ("trigger_to_awaiting_system_s", "trigger_to_awaiting_s", "experts_turn_s", "officials_turn_s",
             "approval_to_done_s", "empty_close_s")
    for name in names:
        levels: dict[str, list[float]] = {}
        for level, p in phases:
            if p.get(name) is not None:
                levels.setdefault(level, []).append(p[name])
        every = [v for vs in levels.values() for v in vs]
        out[name] = {"all": percentiles(every), **{lv: percentiles(vs) for lv, vs in sorted(levels.items())}}
    return out

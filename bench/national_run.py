"""The orchestrated run, as `make demo` does it: SMTP sink, Prefect server, campaign flow with the
simulated experts and officials (`tasks.rehearsal.run_chain`), then what the Prefect API says."""

import asyncio
import os
import statistics
import time
import warnings
from dataclasses import dataclass
from pathlib import Path

from bench import national_prefect as api
from bench.national_probe import MemorySampler, descendants, pg_backend_pids


@dataclass
class Services:
    """The SMTP sink (a thread of this process) and the Prefect server (a subprocess group)."""

    sink: object
    server: object
    started_s: float

    def stop(self) -> None:
        """Stop both."""
        self.sink.stop()
        self.server.stop()


def start_services(home: Path, smtp_port: int, prefect_db_url: str | None) -> Services:
    """Start the sink on `smtp_port` and a Prefect server (SQLite under `home`, or PostgreSQL)."""
    from core.mailsink import start_mailsink
    from core.prefect_server import start_server
    from core.settings import get_settings

    started = time.perf_counter()
    sink = start_mailsink(home / "out" / "mail", port=smtp_port)
    server = start_server(home / "var" / "prefect", database_url=prefect_db_url)
    os.environ["PREFECT_API_URL"] = server.api_url
    os.environ["TUIJIAN_PREFECT_UI_URL"] = server.ui_url
    get_settings().prefect_ui_url = server.ui_url
    return Services(sink, server, round(time.perf_counter() - started, 1))


def sampler_for(services: Services, pg_databases: list[str]) -> MemorySampler:
    """A memory sampler over this process, the Prefect server's tree and our PostgreSQL backends."""
    server_pid = services.server.process.pid

    def bench() -> list[int]:
        server = set(descendants(server_pid))
        return [p for p in descendants(os.getpid()) if p not in server]

    groups = {"bench_process_with_smtp_sink": bench, "prefect_server": lambda: descendants(server_pid)}
    if pg_databases:
        groups["postgresql_backends"] = pg_backend_pids(pg_databases)
    return MemorySampler(groups, private_only=("postgresql_backends",))


def run_orchestrated(slug: str, mail_dir: Path, parallel: int, sampler: MemorySampler,
                     time_limit: float | None = None) -> dict:
    """Run the whole chain through Prefect (stopped after `time_limit` seconds if given); return wall
    time, stages closed, failures and the memory figures."""
    from tasks.rehearsal import run_chain, stage_counts

    async def chain():
        try:
            return await asyncio.wait_for(run_chain(slug, mail_dir, max_parallel=parallel, greedy_unit=None),
                                          time_limit)
        except TimeoutError:
            return None

    sampler.start()
    started = time.perf_counter()
    try:
        result = asyncio.run(chain())
    finally:
        seconds = time.perf_counter() - started
        memory = sampler.stop()
    counts = stage_counts(slug)
    return {"seconds": round(seconds, 2), "completed": result is not None,
            "stages_closed": counts.get("closed", 0), "stage_states": counts,
            "failed": result.failed if result else {}, "inputs_sent": result.inputs_sent if result else None,
            "memory": memory}


def prefect_figures(api_url: str, levels: dict[str, str]) -> dict:
    """Counts (after the server caught up), and per-stage latencies from task-run times."""
    flow_runs, task_runs, lag = api.settle_counts(api_url)
    runs = api.stage_runs(api_url)
    tasks = api.task_times(api_url, list(runs))
    by_run: dict[str, list[api.TaskTimes]] = {}
    for t in tasks:
        by_run.setdefault(t.flow_run_id, []).append(t)
    phases = [(levels.get(r["unit"], "?"), api.stage_phases(by_run.get(rid, []))) for rid, r in runs.items()]
    return {"flow_runs": flow_runs, "task_runs": task_runs, "stage_flow_runs": len(runs),
            "recording_lag_s": lag, "stage_states": _states(runs), "latency_s": api.latency_table(phases)}


def _states(runs: dict[str, dict]) -> dict[str, int]:
    out: dict[str, int] = {}
    for r in runs.values():
        out[r["state"]] = out.get(r["state"], 0) + 1
    return out


def overview_ms(slug: str, rounds: int = 10) -> dict:
    """GET /c/<slug> of the dashboard (as bench/dashboard.py times it) on the current database."""
    warnings.filterwarnings("ignore", message=".*httpx.*")
    from fastapi.testclient import TestClient

    from tasks.dashboard_app import create_app

    client = TestClient(create_app())
    first = _timed(lambda: client.get(f"/c/{slug}"))
    times = [_timed(lambda: client.get(f"/c/{slug}")) for _ in range(rounds)]
    status = client.get(f"/c/{slug}").status_code
    return {"first_ms": first, "median_ms": statistics.median(times), "max_ms": max(times),
            "rounds": rounds, "status": status}


def _timed(fn) -> float:
    start = time.perf_counter()
    fn()
    return round(1000 * (time.perf_counter() - start), 1)

"""Single-stage mode: one district with N entries, through the real stage flow and Prefect.

The national campaign is installed in full (its size is part of what every step reads); N
applications are filed at a district of a demonstration city; the clock moves past the
district's deadline; the stage flow runs in this process while the simulated official
answers through Prefect's API. Repeated on distinct districts. The phases come from the
flow's task runs (see bench/national_prefect.py). While the stage waits for its official,
the processes of this benchmark are counted: a waiting stage must hold none of its own.
"""

import argparse
import asyncio
import os
import statistics
import time
from datetime import timedelta
from pathlib import Path

from bench import national_prefect as api
from bench import national_report as report
from bench.national_campaign import SLUG, write_campaign
from bench.national_probe import descendants


def districts_to_time(config, count: int) -> list[str]:
    """The first `count` districts of demonstration cities (in campaign order)."""
    picked = [u.code for u in config.units if u.level == "district" and u.parent and config.demo_city(u.parent)]
    return picked[:count]


def prepare(home: Path, provinces: int | None, max_districts: int | None, entries: int, repeat: int,
            seed: int) -> tuple[list[str], dict]:
    """Install the campaign and file `entries` applications at each unit to time."""
    from bench.national_intake import file_records, records_for_unit
    from core.clock import parse_local
    from core.db import init_db, session_scope
    from tasks.campaigns import campaign_config, load_and_install
    from tasks.chain import set_clock

    init_db()
    with session_scope() as session:
        campaign = load_and_install(session, write_campaign(home / "campaigns", provinces, max_districts),
                                    actor="bench")
        set_clock(session, SLUG, parse_local("2023-08-10 09:00"))
        config = campaign_config(campaign)
    units = districts_to_time(config, repeat)
    records = [r for i, code in enumerate(units)
               for r in records_for_unit(config, code, entries, seed + i, start=1 + i * entries)]
    filed = file_records(SLUG, records, home / "intake")
    with session_scope() as session:
        set_clock(session, SLUG, config.unit(units[0]).deadline + timedelta(minutes=1))
    return units, {"units": len(config.units), "filed": filed.applications, "intake_s": round(filed.seconds, 1)}


async def drive(unit: str, mail_dir: Path, server_pid: int) -> tuple[str, int | None]:
    """Run one stage flow with the simulated official; return its state and the processes counted
    (this benchmark's own tree, Prefect server excluded) while it waited for approval."""
    from prefect.client.orchestration import get_client

    from flows.stage import stage
    from tasks.simulate import Actors
    from tasks.waiting import waiting_stage_runs

    actors = Actors(SLUG, mail_dir)
    run = asyncio.create_task(stage(campaign=SLUG, unit=unit))
    waiting_processes = None
    async with get_client() as client:  # one client for every poll and answer, as run_chain does
        while not run.done():
            if waiting_processes is None and await waiting_stage_runs(SLUG, client):
                server = set(descendants(server_pid))
                waiting_processes = len([p for p in descendants(os.getpid()) if p not in server])
            await actors.act_once(client)
            await asyncio.sleep(0.2)
    return run.result(), waiting_processes


def run_single(args: argparse.Namespace, home: Path, databases: dict[str, str]) -> dict:
    """Time `args.repeat` single stages of `args.single_stage` entries; return the results mapping."""
    from bench.national_run import start_services
    from core.prefect_server import pg_server_db_url
    from core.settings import get_settings

    units, facts = prepare(home, args.provinces, args.max_districts, args.single_stage, args.repeat, args.seed)
    prefect_url = pg_server_db_url(databases["prefect"]) if databases else None
    services = start_services(home, get_settings().smtp_port, prefect_url)
    runs = []
    try:
        for unit in units:
            started = time.perf_counter()
            state, processes = asyncio.run(drive(unit, home / "out" / "mail", services.server.process.pid))
            runs.append({"unit": unit, "state": state, "wall_s": round(time.perf_counter() - started, 2),
                         "processes_while_waiting": processes})
        api.settle_counts(services.server.api_url)
        flow_runs = api.stage_runs(services.server.api_url)
        by_unit = {r["unit"]: rid for rid, r in flow_runs.items()}
        for run in runs:
            tasks = api.task_times(services.server.api_url, [by_unit[run["unit"]]])
            run |= {k: v for k, v in api.stage_phases(tasks).items() if v is not None}
    finally:
        services.stop()
    return assemble(args, facts, runs)


def assemble(args: argparse.Namespace, facts: dict, runs: list[dict]) -> dict:
    """The results mapping and the printed summary of the single-stage mode."""
    phases = ("trigger_to_awaiting_s", "approval_to_done_s", "officials_turn_s")
    summary = {p: api.percentiles([r[p] for r in runs if p in r]) for p in phases}
    targets = report.single_targets(summary)
    lines = [f"单环节基准 / single stage · {args.backend} · {args.single_stage} 条 entries × {len(runs)} 次 runs"]
    lines += [f"  {r['unit']}: 触发→待审批 trigger → awaiting {r.get('trigger_to_awaiting_s', 0):.2f} s; "
              f"审批→完成 approval → done {r.get('approval_to_done_s', 0):.2f} s; "
              f"processes while waiting {r['processes_while_waiting']}" for r in runs]
    lines += [f"目标 / target {k}: median {v['measured']} s ≤ {v['limit']} s → {'met' if v['met'] else 'NOT met'}"
              for k, v in targets.items()]
    return {"benchmark": "single-stage", "backend": args.backend, "machine": report.machine(),
            "parameters": {"entries": args.single_stage, "repeat": args.repeat, "provinces": args.provinces,
                           "seed": args.seed},
            "campaign": facts, "runs": runs, "latency_s": summary, "targets": targets,
            "waiting_note": "stages run without a deployment pause in this process (no process of their own); "
                            "from a deployment they suspend and their process exits",
            "summary": lines, "median_wall_s": statistics.median(r["wall_s"] for r in runs)}

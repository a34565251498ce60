"""The national run, step by step: campaign, intake, snapshot for the floor, the orchestrated chain,
the Prefect figures, sizes, the dashboard, then the floor on the snapshot."""

import argparse
import asyncio
import os
import sqlite3
import time
from collections import Counter
from pathlib import Path

from bench import national_report as report
from bench.national_campaign import SLUG, write_campaign
from bench.national_probe import folder_size, pg_size, sqlite_size

CLOCK_START = "2023-08-10 09:00"


def install(home: Path, args: argparse.Namespace) -> tuple[dict, dict]:
    """Create the schema, install the national campaign, file the applications; return facts."""
    from bench.national_intake import file_records, skewed_records
    from core.clock import parse_local
    from core.db import init_db, session_scope
    from tasks.campaigns import campaign_config, load_and_install
    from tasks.chain import set_clock

    started = time.perf_counter()
    path = write_campaign(home / "campaigns", args.provinces, args.max_districts)
    init_db()
    with session_scope() as session:
        campaign = load_and_install(session, path, actor="bench")
        set_clock(session, SLUG, parse_local(CLOCK_START))
        config = campaign_config(campaign)
    levels = Counter(u.level for u in config.units)
    facts = {"units": len(config.units), "levels": dict(levels), "file": str(path),
             "taking_filings": sum(u.accepts_applications for u in config.units),
             "install_s": round(time.perf_counter() - started, 1)}
    records = skewed_records(config, args.applications, args.seed)
    filed = file_records(SLUG, records, home / "intake")
    cities = Counter(u.parent if u.level == "district" else u.code for u in map(config.unit, (r["unit"] for r in records)))
    intake = {"applications": filed.applications, "units_with_filings": filed.units_with_filings,
              "units_without_filings": facts["taking_filings"] - filed.units_with_filings,
              "top_units": filed.top_units, "top_cities": cities.most_common(8), "seconds": round(filed.seconds, 1)}
    return facts, intake


def snapshot(backend: str, home: Path, databases: dict[str, str]) -> str:
    """Copy the app database as it stands (before the chain) for the floor; return its URL."""
    from core.db import get_engine
    from core.settings import get_settings

    get_engine().dispose()
    if backend == "postgres":
        from bench.national import pg_admin, pg_url

        pg_admin(f'CREATE DATABASE "{databases["floor"]}" TEMPLATE "{databases["app"]}"')
        return pg_url(databases["floor"])
    target = home / "floor" / "var" / "tuijian.db"
    target.parent.mkdir(parents=True, exist_ok=True)
    with sqlite3.connect(get_settings().db_url.split("///", 1)[1]) as src, sqlite3.connect(target) as dst:
        src.backup(dst)
    return f"sqlite:///{target}"


def levels_of() -> dict[str, str]:
    """Unit code → level, from the installed campaign."""
    from core.db import session_scope
    from tasks.campaigns import campaign_config, get_campaign

    with session_scope() as session:
        return {u.code: u.level for u in campaign_config(get_campaign(session, SLUG)).units}


def sizes(backend: str, home: Path, databases: dict[str, str]) -> dict:
    """App and Prefect database sizes, documents and mail written."""
    from core.settings import get_settings

    if backend == "postgres":
        app, prefect = pg_size(databases["app"]), pg_size(databases["prefect"])
    else:
        app = sqlite_size(Path(get_settings().db_url.split("///", 1)[1]))
        prefect = sqlite_size(home / "var" / "prefect" / "prefect.db")
    files, size = folder_size(home / "out" / SLUG)
    mail = len(list((home / "out" / "mail").glob("*.eml")))
    return {"app_bytes": app, "prefect_bytes": prefect, "documents": files, "documents_bytes": size,
            "mail_files": mail}


def run_floor(home: Path, url: str, time_limit: float | None) -> dict:
    """The floor on the snapshot: its own home, database and SMTP sink; outcome per level."""
    from bench.national import free_port
    from bench.national_floor import deliver_all, floor
    from core.mailsink import start_mailsink
    from core.settings import get_settings
    from tasks.chain import level_rows

    os.environ.update({"TUIJIAN_HOME": str(home / "floor"), "TUIJIAN_DATABASE_URL": url,
                       "TUIJIAN_SMTP_PORT": str(free_port())})
    get_settings.cache_clear()
    sink = start_mailsink(home / "floor" / "out" / "mail", port=get_settings().smtp_port)
    try:
        result = floor(SLUG, time_limit)
        result["delivery"] = asyncio.run(deliver_all(time_limit))
    finally:
        sink.stop()
    result["outcome"] = [list(r) for r in level_rows(SLUG)]
    return result


def run_national(args: argparse.Namespace, home: Path, databases: dict[str, str]) -> dict:
    """The whole national benchmark; return the results mapping."""
    from bench.national_run import (
        overview_ms,
        prefect_figures,
        run_orchestrated,
        sampler_for,
        start_services,
    )
    from core.settings import get_settings
    from tasks.chain import level_rows

    started = time.perf_counter()
    campaign, intake = install(home, args)
    floor_url = snapshot(args.backend, home, databases)
    prefect_url = None
    if args.backend == "postgres":
        from core.prefect_server import pg_server_db_url

        prefect_url = pg_server_db_url(databases["prefect"])
    services = start_services(home, get_settings().smtp_port, prefect_url)
    try:
        sampler = sampler_for(services, [databases["app"], databases["prefect"]] if databases else [])
        chain = run_orchestrated(SLUG, home / "out" / "mail", args.parallel, sampler, args.time_limit)
        collect_started = time.perf_counter()
        figures = prefect_figures(services.server.api_url, levels_of())
        collect_s = time.perf_counter() - collect_started
        outcome = [list(r) for r in level_rows(SLUG)]
        overview = overview_ms(SLUG)
        measured_sizes = sizes(args.backend, home, databases)
    finally:
        services.stop()
    total = time.perf_counter() - started
    floor = run_floor(home, floor_url, args.time_limit)
    return assemble(args, campaign, intake, services.started_s, chain, figures, collect_s, outcome,
                    overview, measured_sizes, floor, total)


def assemble(args, campaign, intake, services_s, chain, figures, collect_s, outcome, overview, sizes_,
             floor, total) -> dict:
    """The results mapping, with the ratios and the targets."""
    memory = chain.pop("memory")
    result = {
        "benchmark": "national", "backend": args.backend, "machine": report.machine(),
        "parameters": {"applications": args.applications, "provinces": args.provinces,
                       "max_districts": args.max_districts, "parallel": args.parallel, "seed": args.seed},
        "campaign": campaign, "intake": intake,
        "wall_time_s": {"total": round(total, 1), "services_start": services_s,
                        "campaign_install": campaign["install_s"], "intake": intake["seconds"],
                        "chain": chain["seconds"], "reading_prefect_api": round(collect_s, 1)},
        "chain": chain, "prefect": {k: v for k, v in figures.items() if k != "latency_s"},
        "latency_s": figures["latency_s"], "memory": memory,
        "memory_note": "the SMTP sink runs in the bench process (aiosmtpd thread), as in make demo",
        "database": sizes_, "outcome": outcome, "dashboard_overview": overview, "floor": floor,
    }
    floor["same_outcome"] = floor["outcome"] == outcome
    result |= ratios(chain, floor)
    result["targets"] = report.chain_targets(result)
    return result


def ratios(chain: dict, floor: dict) -> dict:
    """Orchestrated ÷ floor: on whole runs, the two wall times; when a time limit stopped either,
    the seconds per stage closed (both go level by level from the districts up)."""
    whole = chain["completed"] and floor["completed"]
    orchestrated = chain["seconds"] if whole else chain["seconds"] / max(chain["stages_closed"], 1)
    plain = floor["seconds"] if whole else floor["seconds"] / max(floor["stages"], 1)
    delivery = floor["delivery"]["seconds"] if whole else floor["delivery"]["seconds"] / max(floor["stages"], 1)
    return {"ratio_basis": "whole runs" if whole else "seconds per stage closed (a time limit stopped a run)",
            "ratio_orchestrated_to_floor": round(orchestrated / max(plain, 1e-6), 2),
            "ratio_with_delivery": round(orchestrated / max(plain + delivery, 1e-6), 2)}

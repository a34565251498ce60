"""The national benchmark (issue #8): the whole recommendation chain at national size, through Prefect.

Builds a campaign from the division data (every district → city → province → MIIT, the
直辖市 / 计划单列市 / 兵团 / central enterprises straight to MIIT), files N fictional applications
through the real intake, runs the chain exactly as `make demo` does (campaign flow, stage
flow runs, simulated experts and officials through Prefect's API, documents, mail to a
local SMTP sink), reads the real timings back from the Prefect API, measures memory and
database sizes, then does the same business work without Prefect (the floor) on a copy of
the database taken before the chain. Writes bench/results/<date>-<backend>[-size].json.

    make bench                                         # 20,000 applications, SQLite
    make bench ARGS="--backend postgres"               # app and Prefect server on PostgreSQL
    make bench ARGS="--applications 2000 --provinces 3"
    make bench ARGS="--single-stage 500"               # one stage with 500 entries
    make bench ARGS="--applications 150 --provinces 1 --max-districts 2"   # the CI size
"""

import argparse
import os
import shutil
import socket
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    """The command line."""
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--applications", type=int, default=20_000)
    parser.add_argument("--provinces", type=int, default=None, help="only the first N provinces (default: all)")
    parser.add_argument("--max-districts", type=int, default=None,
                        help="at most N districts per city (default: all; for quick checks)")
    parser.add_argument("--backend", choices=("sqlite", "postgres"), default="sqlite")
    parser.add_argument("--single-stage", type=int, default=0, metavar="ENTRIES",
                        help="time one stage with this many entries instead of the whole chain")
    parser.add_argument("--repeat", type=int, default=3, help="single-stage runs (distinct units)")
    parser.add_argument("--parallel", type=int, default=8, help="stages running at once (as make demo)")
    parser.add_argument("--seed", type=int, default=2023)
    parser.add_argument("--time-limit", type=float, default=None, metavar="SECONDS",
                        help="stop the chain (and the floor) after this long and report what was done")
    parser.add_argument("--home", type=Path, help="working folder (default: a temporary one, removed)")
    parser.add_argument("--keep", action="store_true", help="keep the working folder and databases")
    parser.add_argument("--results-dir", type=Path, default=None)
    return parser.parse_args(argv)


def free_port() -> int:
    """A TCP port nobody listens on right now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def prepare_env(home: Path, backend: str) -> dict[str, str]:
    """Point tuijian and the Prefect client at `home` (before anything reads the settings)."""
    names = {}
    if backend == "postgres":
        tag = f"{os.getpid()}_{int(time.time())}"
        names = {"app": f"tj_bench_app_{tag}", "floor": f"tj_bench_floor_{tag}", "prefect": f"tj_bench_prefect_{tag}"}
    os.environ.update({
        "TUIJIAN_HOME": str(home), "TUIJIAN_SMTP_PORT": str(free_port()), "TUIJIAN_SMTP_SECURITY": "none",
        "TUIJIAN_SMTP_HOST": "127.0.0.1", "PREFECT_HOME": str(home / "var" / "prefect-client"),
        "PREFECT_SERVER_ANALYTICS_ENABLED": "false", "DO_NOT_TRACK": "1",
    })
    os.environ.setdefault("PREFECT_LOGGING_LOGGERS_PREFECT_TASK_RUNS_LEVEL", "WARNING")  # as make demo
    for key in ("TUIJIAN_DATABASE_URL", "TUIJIAN_OUT_DIR", "PREFECT_API_URL"):
        os.environ.pop(key, None)
    if names:
        os.environ["TUIJIAN_DATABASE_URL"] = pg_url(names["app"])
    return names


def pg_url(name: str) -> str:
    """The psycopg URL of a database on the local PostgreSQL server."""
    return f"postgresql+psycopg://postgres@127.0.0.1:5432/{name}"


def pg_admin(sql: str) -> None:
    """Run one statement on the PostgreSQL server's maintenance database."""
    import psycopg

    with psycopg.connect("postgresql://postgres@127.0.0.1:5432/postgres", autocommit=True) as conn:
        conn.execute(sql)


def main(argv: list[str] | None = None) -> int:
    """Run the benchmark chosen on the command line; print the summary; write the results file."""
    args = parse_args(argv)
    home = (args.home or Path(tempfile.mkdtemp(prefix="tj-national-"))).resolve()
    home.mkdir(parents=True, exist_ok=True)
    databases = prepare_env(home, args.backend)
    for role, name in databases.items():
        if role != "floor":  # the floor's database is a copy of the app's, taken before the chain
            pg_admin(f'CREATE DATABASE "{name}"')
    try:
        if args.single_stage:
            from bench.national_single import run_single

            result, lines, label = run_single(args, home, databases), None, f"single-stage-{args.single_stage}"
        else:
            from bench.national_chain import run_national

            result, lines, label = run_national(args, home, databases), True, None
        return finish(args, result, label, lines)
    finally:
        cleanup(args, home, databases)


def finish(args: argparse.Namespace, result: dict, label: str | None, national: bool | None) -> int:
    """Print the summary and write the results file."""
    from bench import national_report as report

    label = label or report.size_label(args.applications, args.provinces, args.max_districts)
    path = report.write(result, report.results_path(args.results_dir or report.RESULTS, args.backend, label))
    for line in (report.summary_lines(result) if national else result["summary"]):
        print(line)
    print(f"结果文件 / results: {path}")
    return 0


def cleanup(args: argparse.Namespace, home: Path, databases: dict[str, str]) -> None:
    """Drop the throwaway databases and the working folder unless asked to keep them."""
    if args.keep:
        print(f"保留 / kept: {home} {sorted(databases.values())}")
        return
    for name in databases.values():
        pg_admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    if args.home is None:
        shutil.rmtree(home, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())

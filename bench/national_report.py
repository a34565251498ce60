"""The results file of a benchmark run, the targets of issue #8, and the summary printed at the end."""

import json
import os
import platform
import sys
from datetime import date
from pathlib import Path

RESULTS = Path(__file__).resolve().parent / "results"
FULL_SIZE = 20_000
TARGETS = {  # issue #8, on 2 cores and 24 GiB
    "chain_s": 600.0, "ratio": 3.0, "memory_mib": 2048.0, "overview_ms": 300.0,
    "single_trigger_to_awaiting_s": 3.0, "single_approval_to_done_s": 3.0,
}


def machine() -> dict:
    """What the figures were measured on (the machine is shared: the load average says how much)."""
    import prefect
    import sqlalchemy

    mem = next((int(line.split()[1]) for line in Path("/proc/meminfo").read_text().splitlines()
                if line.startswith("MemTotal:")), 0)
    return {"cpus": os.cpu_count(), "memory_gib": round(mem / 1024 / 1024, 1), "python": sys.version.split()[0],
            "prefect": prefect.__version__, "sqlalchemy": sqlalchemy.__version__,
            "platform": platform.platform(), "load_average": list(os.getloadavg())}


def results_path(folder: Path, backend: str, label: str = "") -> Path:
    """bench/results/<date>-<backend>[-label].json."""
    return folder / f"{date.today().isoformat()}-{backend}{'-' + label if label else ''}.json"


def size_label(applications: int, provinces: int | None, max_districts: int | None = None) -> str:
    """'' for the full national run, else e.g. '2000a-3p' or '150a-1p-2d'."""
    if applications == FULL_SIZE and provinces is None and max_districts is None:
        return ""
    return f"{applications}a-{provinces or 'all'}p" + (f"-{max_districts}d" if max_districts else "")


def check(measured: float | None, limit: float) -> dict:
    """A target line: measured, limit, met (None when not measured)."""
    return {"measured": measured, "limit": limit, "met": None if measured is None else measured <= limit}


def chain_targets(result: dict) -> dict:
    """The national run's targets (the 10-minute one holds for the full size only)."""
    p, chain = result["parameters"], result["chain"]
    full = p["applications"] >= FULL_SIZE and p["provinces"] is None and p["max_districts"] is None
    seconds = chain["seconds"] if chain["completed"] else None  # a stopped run has no total
    return {
        "chain_s" + ("" if full else "_not_full_size"): check(seconds, TARGETS["chain_s"]),
        "ratio": check(result["ratio_orchestrated_to_floor"], TARGETS["ratio"]),
        "memory_mib": check(result["memory"]["total_peak_rss_mib"], TARGETS["memory_mib"]),
        "overview_ms": check(result["dashboard_overview"]["median_ms"], TARGETS["overview_ms"]),
    }


def single_targets(summary: dict) -> dict:
    """The single-stage targets, on the median of the repeated runs."""
    return {"trigger_to_awaiting_s": check(summary["trigger_to_awaiting_s"]["median"],
                                           TARGETS["single_trigger_to_awaiting_s"]),
            "approval_to_done_s": check(summary["approval_to_done_s"]["median"],
                                        TARGETS["single_approval_to_done_s"])}


def write(result: dict, path: Path) -> Path:
    """Write the results file (UTF-8 JSON, stable key order)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(result, ensure_ascii=False, indent=2, default=str) + "\n", encoding="utf-8")
    return path


def _fmt(p: dict) -> str:
    if not p or not p.get("n"):
        return "—"
    return f"median {p['median']:.2f} s · p95 {p['p95']:.2f} s · max {p['max']:.2f} s (n={p['n']})"


def summary_lines(result: dict) -> list[str]:
    """The human summary of a national run."""
    lat, mem = result["latency_s"], result["memory"]
    lines = [
        f"全国基准 / national benchmark · {result['backend']} · {result['parameters']['applications']} 份申报 "
        f"applications · {result['campaign']['units']} 个单位 units",
        f"总用时 / total wall time: {result['wall_time_s']['total']:.0f} s "
        f"(intake {result['intake']['seconds']:.0f} s, chain {result['chain']['seconds']:.0f} s, "
        f"{result['chain']['stages_closed']}/{result['campaign']['units']} stages closed"
        f"{'' if result['chain']['completed'] else ', STOPPED by the time limit'}; "
        f"failed {len(result['chain']['failed'])})",
        f"流程运行 / flow runs: {result['prefect']['flow_runs']}, 任务运行 / task runs: {result['prefect']['task_runs']} "
        f"(server caught up {result['prefect']['recording_lag_s']} s after the chain)",
        f"触发→待审批 / trigger → awaiting approval (system): {_fmt(lat['trigger_to_awaiting_system_s']['all'])}",
        f"审批→完成 / approval → forwarded, documents, mail queued: {_fmt(lat['approval_to_done_s']['all'])}",
        f"无申报环节 / empty stage trigger → closed: {_fmt(lat['empty_close_s']['all'])}",
        f"峰值内存 / peak RSS (all processes together): {mem['total_peak_rss_mib']:.0f} MiB {mem['peak_rss_mib']}",
        f"链路期间 CPU / CPU seconds during the chain: {mem['cpu_s']}",
        f"数据库 / databases: app {result['database']['app_bytes'] / 2**20:.1f} MiB, "
        f"Prefect {result['database']['prefect_bytes'] / 2**20:.1f} MiB",
        f"看板总览 / dashboard overview: median {result['dashboard_overview']['median_ms']} ms",
        f"下限 / floor (no Prefect): {result['floor']['seconds']:.0f} s (+ mail delivery "
        f"{result['floor']['delivery']['seconds']:.0f} s); orchestrated ÷ floor = "
        f"{result['ratio_orchestrated_to_floor']} (with delivery {result['ratio_with_delivery']}; "
        f"{result['ratio_basis']}); same outcome: {result['floor']['same_outcome']}",
    ]
    verdict = {True: "met", False: "NOT met", None: "not measured"}
    lines += [f"目标 / target {k}: {v['measured']} ≤ {v['limit']} → {verdict[v['met']]}"
              for k, v in result["targets"].items()]
    return lines

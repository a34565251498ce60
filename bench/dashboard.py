"""Benchmark: the dashboard overview for a national-size campaign.

Builds a synthetic campaign (~3,400 units: ministry, provinces, cities, districts,
municipalities, 计划单列市, central enterprises; ~20,000 entries inserted in bulk) in a
fresh database, then times GET /c/<slug> through FastAPI's TestClient.

    .venv/bin/python bench/dashboard.py                 # SQLite file in a temp folder
    .venv/bin/python bench/dashboard.py --url postgresql://postgres@127.0.0.1:5432/tj_bench
    .venv/bin/python bench/dashboard.py --keep /tmp/national   # keep the database to look at
"""

import argparse
import os
import random
import statistics
import sys
import tempfile
import time
import warnings
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

SLUG = "bench-national"
STATES = ("open", "collecting", "reviewing", "scoring", "awaiting_approval", "approved",
          "forwarded", "closed")


def unit_specs(provinces: int, cities: int, districts: int, direct: int, central: int) -> list[dict]:
    """The chain: ministry → provinces → cities → districts, plus direct units and central enterprises."""
    units = [_unit("M", "工业和信息化部", "ministry", None, "2031-09-08T17:00:00", applications=False)]
    for p in range(provinces):
        pcode = f"{11 + p:02d}0000"
        units.append(_unit(pcode, f"第{p + 1}省", "province", "M", "2031-08-31T17:00:00",
                           applications=False, child_quotas={"experience_centre": {"base": 2}}))
        for c in range(cities):
            ccode = f"{11 + p:02d}{c + 1:02d}00"
            units.append(_unit(ccode, f"第{p + 1}省第{c + 1}市", "city", pcode, "2031-08-29T17:00:00",
                               child_quotas={"experience_centre": {"base": 3}}))
            units.extend(_unit(f"{ccode[:4]}{d + 1:02d}", f"第{p + 1}省第{c + 1}市第{d + 1}区", "district",
                               ccode, "2031-08-25T17:00:00") for d in range(districts))
    for m in range(direct):
        mcode = f"D{m + 1:02d}000"
        units.append(_unit(mcode, f"直报市{m + 1}", "municipality", "M", "2031-09-01T17:00:00",
                           direct=True, quotas={"experience_centre": {"base": 5}}))
        units.extend(_unit(f"D{m + 1:02d}{d + 1:03d}", f"直报市{m + 1}第{d + 1}区", "district", mcode,
                           "2031-08-28T17:00:00") for d in range(districts * 2))
    units.extend(_unit(f"CE{e + 1:03d}", f"中央企业{e + 1}", "central_enterprise", "M",
                       "2031-09-01T17:00:00", direct=True) for e in range(central))
    return units


def _unit(code, name, level, parent, deadline, *, applications=True, direct=False, **quotas) -> dict:
    spec = {"code": code, "name": name, "level": level, "deadline": deadline,
            "accepts_applications": applications, "direct_to_ministry": direct, **quotas}
    return spec if parent is None else {**spec, "parent": parent}


def campaign_raw(units: list[dict]) -> dict:
    """A campaign mapping like a campaign.toml, with the synthetic units."""
    return {
        "slug": SLUG, "name": "全国规模基准测试（虚构）", "year": 2031, "notice_no": "基准〔2031〕1号",
        "notice_title": "基准测试通知", "summary_title": "2031年基准推荐项目汇总表",
        "directions": {
            "platform": {"name": "用户过亿信息消费大平台", "form": "platform"},
            "experience_centre": {"name": "信息消费体验中心", "form": "experience_centre",
                                  "demo_city_extra": 2},
        },
        "rubric": {"example": True, "criteria": [{"key": "demo", "name": "示范性", "weight": 1}]},
        "units": units,
    }


def fill(session, campaign_id: int, units: list[dict], entries_target: int, seed: int) -> int:
    """Insert applications at receiving units and their forwarded entries upward, in bulk."""
    from sqlalchemy import insert

    from core.clock import parse_local
    from models import Application, Entry

    rng = random.Random(seed)
    parents = {u["code"]: u.get("parent") for u in units}
    has_children = set(parents.values())
    leaves = [u["code"] for u in units if u["accepts_applications"] and u["code"] not in has_children]
    filed_at = parse_local("2031-08-20 10:00")
    apps, entries, n_app = [], [], 0
    while len(entries) < entries_target:
        n_app += 1
        code, direction = rng.choice(leaves), rng.choice(("platform", "experience_centre"))
        apps.append({"id": n_app, "campaign_id": campaign_id, "direction": direction, "unit_code": code,
                     "dedup_key": f"{n_app:064d}", "reference": f"B{n_app:08d}", "filed_at": filed_at,
                     "enterprise_name": f"企业{n_app}", "project_name": f"项目{n_app}"})
        while code is not None and len(entries) < entries_target:
            status = rng.choice(("received", "eligible", "selected", "not_selected", "returned"))
            entries.append({"campaign_id": campaign_id, "application_id": n_app, "unit_code": code,
                            "direction": direction, "arrived_at": filed_at, "status": status,
                            "quota_kind": "base" if status == "selected" else None})
            if status != "selected" or rng.random() < 0.3:
                break
            code = parents[code]
    session.execute(insert(Application), apps)
    session.execute(insert(Entry), entries)
    return len(entries)


def set_stages(session, campaign_id: int, seed: int) -> None:
    """Give every stage a plausible state (some late, some awaiting approval)."""
    from sqlmodel import select

    from core.clock import parse_local
    from models import Stage

    rng = random.Random(seed)
    for stage in session.exec(select(Stage).where(Stage.campaign_id == campaign_id)):
        stage.state = rng.choice(STATES)
        if stage.state == "awaiting_approval":
            stage.awaiting_since = parse_local("2031-08-26 09:00")
        session.add(stage)


def build(url: str, scale: dict, entries: int, seed: int) -> tuple[int, int]:
    """Migrate a fresh database, install the synthetic campaign and fill it; return (units, entries)."""
    from sqlalchemy import text

    from core.campaign import parse_campaign
    from core.clock import parse_local
    from core.db import init_db, session_scope
    from tasks.campaigns import install_campaign

    init_db(url)
    units = unit_specs(**scale)
    # The synthetic chain has no people or letters: validate its shape, skip the content checks.
    config = parse_campaign(campaign_raw(units), check=lambda _config: [])
    with session_scope() as session:
        campaign = install_campaign(session, config, actor="bench")
        campaign.clock = parse_local("2031-08-27 12:00")
        n = fill(session, campaign.id, units, entries, seed)
        set_stages(session, campaign.id, seed)
    with session_scope() as session:  # what autovacuum / a nightly ANALYZE would have done
        session.execute(text("ANALYZE"))
    return len(units), n


def measure(rounds: int) -> dict:
    """Time the overview page and its two halves (queries, render)."""
    warnings.filterwarnings("ignore", message=".*httpx.*")  # starlette's notice about its TestClient
    from fastapi.testclient import TestClient

    from core.db import session_scope
    from tasks.dashboard_app import create_app
    from tasks.status import load_status

    client = TestClient(create_app())
    first = _timed(lambda: client.get(f"/c/{SLUG}"))
    times, cpu = [], []
    for _ in range(rounds):
        started = time.process_time()
        times.append(_timed(lambda: client.get(f"/c/{SLUG}")))
        cpu.append(round(1000 * (time.process_time() - started), 1))
    response = client.get(f"/c/{SLUG}")
    assert response.status_code == 200, response.text[:500]

    def query():
        with session_scope() as session:
            return load_status(session, SLUG)

    query_ms = statistics.median(_timed(query) for _ in range(5))
    return {"first_ms": first, "median_ms": statistics.median(times), "max_ms": max(times),
            "cpu_ms": statistics.median(cpu),
            "min_ms": min(times), "query_ms": query_ms, "bytes": len(response.content)}


def _timed(fn) -> float:
    start = time.perf_counter()
    fn()
    return round(1000 * (time.perf_counter() - start), 1)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--url", help="database URL (default: a SQLite file in a temp folder)")
    parser.add_argument("--keep", type=Path, help="folder for the SQLite database, kept afterwards")
    parser.add_argument("--entries", type=int, default=20000)
    parser.add_argument("--rounds", type=int, default=20)
    parser.add_argument("--seed", type=int, default=2023)
    args = parser.parse_args()
    home = args.keep or Path(tempfile.mkdtemp(prefix="tj-bench-"))
    (home / "var").mkdir(parents=True, exist_ok=True)
    os.environ["TUIJIAN_HOME"] = str(home)
    url = args.url or f"sqlite:///{home / 'var' / 'tuijian.db'}"
    os.environ["TUIJIAN_DATABASE_URL"] = url
    scale = {"provinces": 26, "cities": 12, "districts": 9, "direct": 9, "central": 97}
    started = time.perf_counter()
    units, entries = build(url, scale, args.entries, args.seed)
    print(f"built {units} units, {entries} entries in {time.perf_counter() - started:.1f} s ({url})")
    result = measure(args.rounds)
    print(f"overview GET /c/{SLUG}: first {result['first_ms']} ms, median {result['median_ms']} ms, "
          f"min {result['min_ms']} ms, max {result['max_ms']} ms over {args.rounds} requests "
          f"(CPU {result['cpu_ms']} ms per request, median); "
          f"status queries {result['query_ms']} ms; page {result['bytes'] / 1024:.0f} KiB")


if __name__ == "__main__":
    main()

"""Fictional applications for the national benchmark, skewed like real life, filed by the real intake.

Each unit that takes filings draws a weight: demonstration cities' districts ×6, provincial
capitals' (division code xx01) ×4, central enterprises ×1.5, the 兵团 ×2, everybody ×1; times a
log-normal factor (σ = 1). So many districts get a few applications, some none, and a few
cities hundreds. 5% are 大平台 (few platforms have 1亿 monthly users). Every record is valid:
flawed files are refused at intake and never reach the chain, so they would only add noise.
"""

import math
import random
import time
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

from core.campaign import CampaignConfig, UnitSpec

PLATFORM_SHARE = 0.05
BATCH = 500
LEVEL_WEIGHT = {"central_enterprise": 1.5, "corps": 2.0}


@dataclass(frozen=True)
class Filed:
    """What the intake did: how many, where, how long."""

    applications: int
    units_with_filings: int
    top_units: list[tuple[str, int]]
    seconds: float


def unit_weight(config: CampaignConfig, unit: UnitSpec, rng: random.Random) -> float:
    """How likely an application is to be filed at `unit` (see the module docstring)."""
    city = unit.code if unit.level != "district" else (unit.parent or "")
    factor = 6.0 if config.demo_city(city) is not None else 4.0 if city[2:4] == "01" else 1.0
    return LEVEL_WEIGHT.get(unit.level, 1.0) * factor * math.exp(rng.gauss(0.0, 1.0))


def skewed_records(config: CampaignConfig, count: int, seed: int) -> list[dict]:
    """`count` valid fictional intake records spread over the receiving units with the skew above."""
    from tasks.synthetic import make_record

    rng = random.Random(seed)
    units = [u for u in config.units if u.accepts_applications]
    weights = [unit_weight(config, u, rng) for u in units]
    taken: set[str] = set()
    records = []
    for n, target in enumerate(rng.choices(units, weights=weights, k=count), start=1):
        direction = "platform" if rng.random() < PLATFORM_SHARE else "experience_centre"
        records.append(make_record(config, rng, n=n, unit=target, direction=direction, taken=taken))
    return records


def records_for_unit(config: CampaignConfig, unit_code: str, count: int, seed: int,
                     start: int = 1) -> list[dict]:
    """`count` valid fictional records all filed at one unit, numbered from `start` (single-stage mode)."""
    from tasks.synthetic import make_record

    rng, taken = random.Random(seed), set()
    target = config.unit(unit_code)
    return [make_record(config, rng, n=n, unit=target, taken=taken,
                        direction="platform" if rng.random() < PLATFORM_SHARE else "experience_centre")
            for n in range(start, start + count)]


def file_records(slug: str, records: list[dict], folder: Path) -> Filed:
    """Write the attachments and file the records through the real intake, BATCH per transaction."""
    from core.db import session_scope
    from tasks.intake import file_applications
    from tasks.synthetic_files import write_attachments

    started = time.perf_counter()
    folder.mkdir(parents=True, exist_ok=True)
    for record in records:
        write_attachments(record, folder)
    for i in range(0, len(records), BATCH):
        with session_scope() as session:
            file_applications(session, records[i:i + BATCH], campaign_slug=slug, base_dir=folder,
                              actor="bench-intake")
    per_unit = Counter(str(r["unit"]) for r in records)
    return Filed(len(records), len(per_unit), per_unit.most_common(5), time.perf_counter() - started)

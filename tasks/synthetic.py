"""Clearly fictional applications for the demo and the benchmark.

`generate_applications(config, count=, seed=)` returns intake records (the JSON schema of
docs/intake.md) spread over the units that accept applications, both directions, with
realistic numbers and valid 统一社会信用代码 registered in the receiving unit's region. About
`invalid_ratio` of them are wrong the way real applicants get it wrong; those carry a
`_flaw` key naming the mistake (stripped when written). `write_intake_files` (in
`tasks.synthetic_files`) writes them as JSON and xlsx intake files with attachment files.
"""

import random
from datetime import date, timedelta
from decimal import Decimal

from stdnum.cn import uscc as uscc_number

from core.campaign import CampaignConfig, Direction, UnitSpec
from models.forms import OWNERSHIP
from tasks import synthetic_text as words
from tasks.synthetic_files import write_intake_files
from tasks.synthetic_flaws import FLAWS, apply_flaw, fits, usable_flaws

__all__ = ["DEFAULT_SKEW", "FLAWS", "generate_applications", "make_uscc", "region_prefix",
           "write_intake_files"]

USCC_ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
DEFAULT_SKEW = {"city": 4.0, "district": 3.0, "municipality": 1.5, "separately_planned_city": 1.0,
                "corps": 0.3, "central_enterprise": 1.0, "province": 0.5}
CENTRAL_REGION = "1101"  # central enterprises are mostly registered in Beijing


def generate_applications(config: CampaignConfig, *, count: int, seed: int, invalid_ratio: float = 0.1,
                          skew: dict[str, float] | None = None, platform_share: float = 0.3) -> list[dict]:
    """Return `count` fictional intake records, about `invalid_ratio` of them flawed."""
    rng = random.Random(seed)
    units = [u for u in config.units if u.accepts_applications]
    weights = [(skew or DEFAULT_SKEW).get(u.level, 1.0) for u in units]
    taken: set[str] = set()
    records = []
    for n in range(1, count + 1):
        unit = rng.choices(units, weights=weights)[0]
        direction = _pick_direction(config, rng, platform_share)
        records.append(make_record(config, rng, n=n, unit=unit, direction=direction, taken=taken))
    spoil(config, rng, records, round(count * invalid_ratio))
    return records


def spoil(config: CampaignConfig, rng: random.Random, records: list[dict], k: int) -> None:
    """Give `k` records one flaw each, cycling through the flaws (duplicates last)."""
    order = usable_flaws(config)
    plan = sorted((order[i % len(order)] for i in range(k)), key=lambda f: f == "duplicate_project")
    free = list(range(len(records)))
    rng.shuffle(free)
    for flaw in plan:
        index = next((i for i in free if fits(config, records, i, flaw)), None)
        if index is None:
            flaw, index = "missing_declaration", free[0] if free else None
        if index is None:
            return
        free.remove(index)
        apply_flaw(config, rng, records, index, flaw)


def _pick_direction(config: CampaignConfig, rng: random.Random, platform_share: float) -> str:
    platforms = [k for k, d in config.directions.items() if d.form == "platform"]
    centres = [k for k, d in config.directions.items() if d.form != "platform"]
    pool = platforms if platforms and (not centres or rng.random() < platform_share) else centres
    return rng.choice(pool)


def region_prefix(config: CampaignConfig, unit: UnitSpec) -> str:
    """Return the division-code prefix an applicant of this unit is registered under."""
    if unit.region:
        return unit.region
    node: UnitSpec | None = unit
    while node is not None:
        if len(node.code) == 6 and node.code.isdigit():
            code = node.code
            while code.endswith("00") and len(code) > 2:
                code = code[:-2]
            return code
        node = config.unit(node.parent) if node.parent else None
    return CENTRAL_REGION


def division_code(rng: random.Random, prefix: str) -> str:
    """Complete a division-code prefix to six digits (e.g. 4201 → 420106)."""
    code = prefix[:6]
    if len(code) % 2:
        code += str(rng.randint(1, 9))
    while len(code) < 6:
        code += f"{rng.randint(1, 15):02d}"
    return code


def make_uscc(rng: random.Random, prefix: str) -> str:
    """Return a valid 统一社会信用代码 (enterprise, registered under `prefix`)."""
    body = "91" + division_code(rng, prefix) + "".join(rng.choice(USCC_ALPHABET) for _ in range(9))
    return body + uscc_number.calc_check_digit(body)


def make_record(config: CampaignConfig, rng: random.Random, *, n: int, unit: UnitSpec,
                direction: str, taken: set[str]) -> dict:
    """Return one valid fictional application filed to `unit` in `direction`."""
    spec = config.directions[direction]
    name, short = words.company_name(rng, taken)
    record = {"campaign": config.slug, "unit": unit.code, "direction": direction,
              **_enterprise(config, rng, n, unit, name, spec)}
    record |= _platform(config, rng, spec, short) if spec.form == "platform" else _centre(config, rng, spec, short, unit)
    record |= _project_common(rng, n, spec)
    record["attachments"] = [
        {"kind": "附1", "path": f"attachments/app-{n:05d}/附1-营业执照及资质证明（虚构）.pdf"},
        {"kind": "附2", "path": f"attachments/app-{n:05d}/附2-项目证明材料（虚构）.txt"},
        {"kind": "附3", "path": f"attachments/app-{n:05d}/附3-申报主体责任声明（虚构）.pdf"},
    ]
    return record


def _money(rng: random.Random, low: float, high: float) -> Decimal:
    return Decimal(str(round(rng.uniform(low, high), 2)))


def _enterprise(config: CampaignConfig, rng: random.Random, n: int, unit: UnitSpec, name: str,
                spec: Direction) -> dict:
    big = spec.form == "platform"
    revenue = _money(rng, 50_000, 3_000_000) if big else _money(rng, 2_000, 150_000)
    listed, exports, software = rng.random() < 0.2, rng.random() < 0.3, rng.random() < (0.7 if big else 0.3)
    ownership = rng.choice(OWNERSHIP[:-1]) if rng.random() > 0.05 else "其他"
    values = {
        "enterprise_name": name, "contact_name": words.person(rng), "contact_title": rng.choice(words.TITLES),
        "contact_mobile": words.mobile(rng), "contact_fax": words.landline(rng),
        "contact_email": f"contact{n}@example.com", "registered_capital": _money(rng, 500, 100_000),
        "legal_representative": words.person(rng),
        "registered_address": f"{unit.name}示例大道{rng.randint(1, 999)}号（虚构）",
        "office_address": f"{unit.name}样板路{rng.randint(1, 999)}号（虚构）",
        "uscc": make_uscc(rng, region_prefix(config, unit)), "ownership": ownership,
        "listed": listed, "exports": exports,
        "honours": "荣获省级“专精特新”企业称号（虚构）" if rng.random() < 0.6 else None,
        "rd_capability": f"拥有发明专利 {rng.randint(3, 200)} 项，参与制定标准 {rng.randint(0, 12)} 项（虚构）",
        "main_revenue": revenue, "rd_investment": (revenue * Decimal(str(rng.uniform(0.03, 0.15)))).quantize(Decimal("0.01")),
        "info_revenue": (revenue * Decimal(str(rng.uniform(0.4, 0.95)))).quantize(Decimal("0.01")),
        "rd_staff": rng.randint(200, 20_000) if big else rng.randint(10, 500),
        "is_software_enterprise": software,
        "profile": words.prose(rng, target=rng.randint(120, 260), limit=_limit(spec, "profile")),
    }
    if ownership == "其他":
        values["ownership_other"] = "民办非企业单位"
    if listed:
        values |= {"listing_date": date(rng.randint(2005, config.year - 2), rng.randint(1, 12), rng.randint(1, 28)),
                   "listing_place": rng.choice(words.EXCHANGES), "stock_code": f"{rng.choice(('600', '300', '688'))}{rng.randint(0, 999):03d}"}
    if exports:
        values["export_destinations"] = "、".join(rng.sample(words.DESTINATIONS, 2))
    if software:
        values |= {k: (revenue * Decimal(str(rng.uniform(0.05, 0.25)))).quantize(Decimal("0.01"))
                   for k in ("software_product_revenue", "it_service_revenue", "embedded_revenue")}
    return {k: v for k, v in values.items() if v is not None}


def _limit(spec: Direction, key: str) -> int:
    return min(spec.text_limits.get(key, 500), 500)


def _minimum(spec: Direction, key: str, fallback: Decimal) -> Decimal:
    return next((r.min for r in spec.rules if r.field == key and r.min is not None), fallback)


def _platform(config: CampaignConfig, rng: random.Random, spec: Direction, short: str) -> dict:
    mau = (_minimum(spec, "mau", Decimal(1)) * Decimal(str(rng.uniform(1.1, 6)))).quantize(Decimal("0.01"))
    return {"project_name": f"{short}{rng.choice(words.PLATFORM_WORDS)}（虚构）",
            "launch_date": date(rng.randint(2010, config.year - 2), rng.randint(1, 12), rng.randint(1, 28)),
            "mau": mau, "registered_users": (mau * Decimal(str(rng.uniform(1.5, 4)))).quantize(Decimal("0.01")),
            "investment": _money(rng, 5_000, 500_000), "sec_collaboration": words.prose(rng, target=150)}


def _centre(config: CampaignConfig, rng: random.Random, spec: Direction, short: str, unit: UnitSpec) -> dict:
    area = (max(_minimum(spec, "area", Decimal(300)), Decimal(300)) * Decimal(str(rng.uniform(1.05, 8)))).quantize(Decimal("0.1"))
    start = date(rng.randint(2016, config.year - 2), rng.randint(1, 12), rng.randint(1, 28))
    return {"project_name": f"{short}{rng.choice(words.CENTRE_WORDS)}（虚构）",
            "centre_address": f"{unit.name}体验路{rng.randint(1, 300)}号（虚构）", "area": area,
            "monthly_visitors": rng.randint(3_000, 300_000), "construction_start": start,
            "construction_end": start + timedelta(days=rng.randint(120, 720)),
            "investment": _money(rng, 300, 20_000), "sec_team": words.prose(rng, target=150)}


def _project_common(rng: random.Random, n: int, spec: Direction) -> dict:
    sections = ("sec_qualification", "sec_plan", "sec_innovation", "sec_replicability", "sec_scenarios",
                "sec_progress", "sec_next_steps")
    return {"leader_name": words.person(rng), "leader_title": rng.choice(words.TITLES),
            "leader_mobile": words.mobile(rng), "leader_email": f"leader{n}@example.org",
            "overview": words.prose(rng, target=rng.randint(150, 300), limit=_limit(spec, "overview")),
            **{key: words.prose(rng, target=rng.randint(150, 400)) for key in sections}}

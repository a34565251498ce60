"""A national campaign built from the division data: every district → its city → its province → MIIT.

The shape follows the 2023 notices (campaigns/2023-xinxi-xiaofei): provinces recommend to MIIT;
the 4 直辖市 and 5 计划单列市 report straight to MIIT with their districts below them; the 兵团 and
the central enterprises take filings and report straight to MIIT; 省直辖县级行政区划 report to
their province. Directions, rubric, demonstration cities (附件1) and the double track are the
2023 file's. Quotas (experience centres; platforms are 可报尽报 everywhere): district → city 3,
city → province 2 (a demonstration city 4 + its 2 extras), everybody → MIIT 5, like 广东 and
MIIT 四(二). Deadlines: districts 08-25 < cities 08-29 < direct units 08-31 < provinces 09-01
< MIIT 09-08, like 武汉 → 湖北 → MIIT. People are fictional (example.org).
"""

import csv
import tomllib
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DIVISIONS = ROOT / "tests" / "data" / "divisions"
CAMPAIGN_2023 = ROOT / "campaigns" / "2023-xinxi-xiaofei" / "campaign.toml"
SLUG = "national-bench"

MUNICIPALITIES = ("11", "12", "31", "50")
SEPARATELY_PLANNED = {"2102": "大连市", "3702": "青岛市", "3302": "宁波市", "3502": "厦门市", "4403": "深圳市"}
CORPS_CODE = "660000"  # as in the 2023 file: the 兵团 has no division code of its own
CENTRAL_ENTERPRISES = 98
EXPERTS = 5
DEADLINES = {"district": datetime(2023, 8, 25, 17, 30), "city": datetime(2023, 8, 29, 17, 30),
             "direct": datetime(2023, 8, 31, 17, 30), "province": datetime(2023, 9, 1, 17, 30),
             "ministry": datetime(2023, 9, 8, 17, 30)}
CENTRE = "experience_centre"


@dataclass(frozen=True)
class Divisions:
    """The three division tables: provinces, prefecture-level cities, county-level areas."""

    provinces: list[dict[str, str]]
    cities: list[dict[str, str]]
    areas: list[dict[str, str]]


def read_divisions(folder: Path = DIVISIONS) -> Divisions:
    """Read provinces.csv, cities.csv and areas.csv."""
    def rows(name: str) -> list[dict[str, str]]:
        with (folder / name).open(encoding="utf-8") as f:
            return list(csv.DictReader(f))

    return Divisions(rows("provinces.csv"), rows("cities.csv"), rows("areas.csv"))


def people(code: str, name: str, experts: int = 0) -> dict:
    """One official and one contact for a unit (and `experts` experts), all fictional."""
    key = code.lower()
    out = {"officials": [{"id": f"{key}-off", "name": f"{name}审批人（示例）", "title": "分管负责人（示例）",
                          "email": f"{key}-off@example.org"}],
           "contacts": [{"id": f"{key}-con", "name": f"{name}联系人（示例）", "email": f"{key}-con@example.org",
                         "phone": "010-55500000"}]}
    if experts:
        out["experts"] = [{"id": f"{key}-e{i}", "name": f"{name}专家{i}（示例）", "email": f"{key}-e{i}@example.org"}
                          for i in range(1, experts + 1)]
    return out


def unit(code: str, name: str, level: str, parent: str | None, deadline: datetime, **extra) -> dict:
    """One [[units]] table."""
    spec = {"code": code, "name": name, "level": level, "deadline": deadline, "review": "formal",
            **people(code, name, EXPERTS if extra.get("review") == "experts" else 0), **extra}
    return spec if parent is None else {**spec, "parent": parent}


def select_provinces(div: Divisions, limit: int | None) -> list[dict[str, str]]:
    """The ordinary provinces (not 直辖市) in code order, the first `limit` of them."""
    ordinary = [p for p in div.provinces if p["code"] not in MUNICIPALITIES]
    return ordinary if limit is None else ordinary[:limit]


def scaled(total: int, provinces: int | None, floor: int = 1) -> int:
    """How many of a kind of direct unit a run with `provinces` provinces keeps (all for a full run)."""
    if provinces is None or provinces >= 27:
        return total
    return min(total, max(floor, round(total * provinces / 27)))


def national_units(div: Divisions, demo_codes: set[str], provinces: int | None = None,
                   max_districts: int | None = None) -> list[dict]:
    """Every unit of the chain, top first (at most `max_districts` districts per city, for quick runs)."""
    units = [unit("MIIT", "工业和信息化部", "ministry", None, DEADLINES["ministry"], review="experts",
                  accepts_applications=False, organ="工业和信息化部",
                  child_quotas={CENTRE: {"base": 5}, "platform": {}},
                  quotas={CENTRE: {"min_score": 60}, "platform": {"min_score": 60}})]
    areas_of: dict[str, list[dict[str, str]]] = {}
    for a in div.areas:
        if a["code"] != a["cityCode"] + "00":  # 不设区的地级市 (东莞, 中山, 儋州) list themselves as an area
            areas_of.setdefault(a["cityCode"], []).append(a)
    areas_of = {city: areas[:max_districts] for city, areas in areas_of.items()}
    for p in select_provinces(div, provinces):
        units += province_units(div, p, areas_of, demo_codes)
    municipalities = [p for p in div.provinces if p["code"] in MUNICIPALITIES][:scaled(4, provinces)]
    for m in municipalities:
        code = m["code"] + "0000"
        units.append(unit(code, m["name"], "municipality", "MIIT", DEADLINES["direct"], direct_to_ministry=True,
                          accepts_applications=False, child_quotas={CENTRE: {"base": 3}}))
        units += districts(code, [a for c in div.cities if c["provinceCode"] == m["code"]
                                  for a in areas_of.get(c["code"], [])])
    for city_code, name in list(SEPARATELY_PLANNED.items())[:scaled(5, provinces)]:
        code = city_code + "00"
        units.append(unit(code, name, "separately_planned_city", "MIIT", DEADLINES["direct"],
                          direct_to_ministry=True, accepts_applications=False, child_quotas={CENTRE: {"base": 3}}))
        units += districts(code, areas_of.get(city_code, []))
    units.append(unit(CORPS_CODE, "新疆生产建设兵团", "corps", "MIIT", DEADLINES["direct"], direct_to_ministry=True))
    units += [unit(f"CE{n:03d}", f"中央企业示例集团{n:03d}（虚构）", "central_enterprise", "MIIT", DEADLINES["direct"],
                   direct_to_ministry=True) for n in range(1, scaled(CENTRAL_ENTERPRISES, provinces, 2) + 1)]
    return units


def province_units(div: Divisions, province: dict[str, str], areas_of: dict[str, list[dict[str, str]]],
                   demo_codes: set[str]) -> list[dict]:
    """A province, its cities and their districts (省直辖县 report to the province)."""
    pcode = province["code"] + "0000"
    out = [unit(pcode, province["name"], "province", "MIIT", DEADLINES["province"], review="experts",
                accepts_applications=False, child_quotas={CENTRE: {"base": 2}})]
    for c in div.cities:
        if c["provinceCode"] != province["code"] or c["code"] in SEPARATELY_PLANNED:
            continue
        areas = areas_of.get(c["code"], [])
        if c["name"] == "省直辖县级行政区划":
            out += districts(pcode, areas)
            continue
        code = c["code"] + "00"
        extra = {"quotas": {CENTRE: {"base": 4}}} if code in demo_codes else {}
        out.append(unit(code, c["name"], "city", pcode, DEADLINES["city"], accepts_applications=not areas,
                        child_quotas={CENTRE: {"base": 3}}, **extra))
        out += districts(code, areas)
    return out


def districts(parent: str, areas: list[dict[str, str]]) -> list[dict]:
    """County-level units filing to `parent`."""
    return [unit(a["code"], a["name"], "district", parent, DEADLINES["district"]) for a in areas]


def national_raw(units: list[dict], template: Path = CAMPAIGN_2023) -> dict:
    """The campaign mapping: the 2023 file's rules and wording with the national units."""
    base = tomllib.loads(template.read_text(encoding="utf-8"))
    keep = ("year", "notice_no", "notice_title", "summary_title", "remarks", "directions", "rubric",
            "reminders", "demonstration_cities", "online_system", "double_track", "publicity")
    return {"slug": SLUG, "name": "2023年新型信息消费示范项目申报（全国规模基准，虚构单位人员）",
            **{k: base[k] for k in keep if k in base}, "units": units}


def write_campaign(folder: Path, provinces: int | None = None, max_districts: int | None = None) -> Path:
    """Write the national campaign.toml under `folder`; return the file."""
    import tomlkit

    base = tomllib.loads(CAMPAIGN_2023.read_text(encoding="utf-8"))
    demo_codes = {c["code"] for c in base["demonstration_cities"]}
    raw = national_raw(national_units(read_divisions(), demo_codes, provinces, max_districts))
    path = folder / SLUG / "campaign.toml"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(tomlkit.dumps(raw), encoding="utf-8")
    return path

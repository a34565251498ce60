"""Plain factories for intake tests: valid fictional records and real intake files on disk."""

import json
import random
from datetime import date
from decimal import Decimal
from pathlib import Path

from sqlmodel import func, select

from core.db import session_scope
from models import Application, Attachment, AuditLog, Entry
from tasks.intake_sheet import write_intake_sheet
from tasks.synthetic import make_uscc
from tasks.synthetic_files import json_value

MODELS = (Application, Attachment, Entry, AuditLog)


def good_record(direction: str = "experience_centre", *, n: int = 1, unit: str = "110100",
                region: str = "110102", campaign: str | None = None) -> dict:
    """A valid application for the mini campaign (typed values, no attachments yet)."""
    values = {
        "unit": unit, "direction": direction,
        "enterprise_name": f"测试{n}号信息技术有限公司（虚构）", "contact_name": "张示例", "contact_title": "经理",
        "contact_mobile": "13800138000", "contact_fax": "010-62345678", "contact_email": f"c{n}@example.com",
        "registered_capital": Decimal("1000.5"), "legal_representative": "李示例",
        "registered_address": "甲市示例路1号（虚构）", "office_address": "甲市示例路2号（虚构）",
        "uscc": make_uscc(random.Random(n), region), "ownership": "民营企业", "listed": False, "exports": False,
        "rd_capability": "发明专利12项（虚构）", "main_revenue": Decimal("5000"), "rd_investment": Decimal("500.25"),
        "info_revenue": Decimal("3000"), "rd_staff": 50, "is_software_enterprise": False,
        "profile": "本单位为虚构的测试企业。", "project_name": f"测试{n}号项目（虚构）", "investment": Decimal("800"),
        "leader_name": "王示例", "leader_title": "总监", "leader_mobile": "13900139000",
        "leader_email": f"l{n}@example.org", "overview": "项目概述（虚构）。",
        **dict.fromkeys(("sec_qualification", "sec_plan", "sec_innovation", "sec_replicability",
                         "sec_scenarios", "sec_progress", "sec_next_steps"), "内容（虚构）。"),
    }
    if campaign:
        values["campaign"] = campaign
    if direction == "platform":
        return values | {"launch_date": date(2019, 3, 1), "registered_users": Decimal("3"),
                         "mau": Decimal("1.25"), "sec_collaboration": "产学研合作（虚构）。"}
    return values | {"centre_address": "甲市体验路3号（虚构）", "area": Decimal("800"), "monthly_visitors": 30000,
                     "construction_start": date(2021, 1, 1), "construction_end": date(2022, 6, 30),
                     "sec_team": "团队（虚构）。"}


def attach(record: dict, folder: Path, n: int, kinds: tuple[str, ...] = ("附1", "附3")) -> dict:
    """Write attachment files for a record under `folder` and list them (paths relative to it)."""
    refs = []
    for kind in kinds:
        rel = f"att/{n}/{kind}-材料.pdf"
        (folder / rel).parent.mkdir(parents=True, exist_ok=True)
        (folder / rel).write_bytes(f"%PDF-1.4 fictional {kind} of record {n}\n".encode())
        refs.append({"kind": kind, "path": rel})
    record["attachments"] = refs
    return record


def write_json(path: Path, records: list[dict]) -> Path:
    """Write records as a JSON intake file."""
    path.write_text(json.dumps(records, ensure_ascii=False, default=json_value), encoding="utf-8")
    return path


def write_xlsx(path: Path, config, records: list[dict]) -> Path:
    """Write records into the xlsx intake sheet."""
    return write_intake_sheet(config, path, records)


def counts() -> dict[str, int]:
    """Row counts of everything intake writes."""
    with session_scope() as s:
        return {m.__name__: s.exec(select(func.count()).select_from(m)).one() for m in MODELS}

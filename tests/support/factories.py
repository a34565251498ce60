"""Plain factory functions for tests: valid applications filed straight into the database."""

import hashlib
import itertools
from datetime import date
from decimal import Decimal

from sqlmodel import Session, select
from stdnum.cn import uscc as uscc_mod

from core.clock import campaign_now
from models import Application, Attachment, Campaign, Entry

_seq = itertools.count(1)


def make_uscc(region: str, serial: int) -> str:
    """A valid 统一社会信用代码 registered under a 6-digit region code."""
    body = f"91{region[:6]:0<6}{serial:09d}"[:17]
    body = body[:8] + "".join("0123456789ABCDEFGHJKLMNPQRTUWXY"[int(c) % 31] if c.isdigit() else c for c in body[8:])
    return body + uscc_mod.calc_check_digit(body)


def application_values(direction: str, *, region: str = "110200", n: int | None = None, **over) -> dict:
    """Every form field filled with plausible fictional values."""
    n = n if n is not None else next(_seq)
    values = {
        "enterprise_name": f"示例科技有限公司{n}（虚构）", "contact_name": "张三", "contact_title": "经理",
        "contact_mobile": "13800138000", "contact_fax": "010-12345678", "contact_email": f"apply{n}@example.org",
        "registered_capital": Decimal("1000"), "legal_representative": "李四",
        "registered_address": "某市某区某路1号", "office_address": "某市某区某路1号",
        "uscc": make_uscc(region, n), "ownership": "民营企业", "listed": False, "exports": False,
        "rd_capability": "专利10项", "main_revenue": Decimal("5000"), "rd_investment": Decimal("500"),
        "info_revenue": Decimal("3000"), "rd_staff": 50, "is_software_enterprise": False,
        "profile": "企业简介。", "project_name": f"示例项目{n}", "investment": Decimal("800"),
        "leader_name": "王五", "leader_title": "总监", "leader_mobile": "13900139000",
        "leader_email": f"lead{n}@example.org", "overview": "项目概述。",
        "sec_qualification": "资质", "sec_plan": "方案", "sec_innovation": "创新", "sec_replicability": "推广",
        "sec_scenarios": "场景", "sec_progress": "进展", "sec_next_steps": "计划",
    }
    if direction == "platform":
        values |= {"launch_date": date(2019, 1, 1), "registered_users": Decimal("3"), "mau": Decimal("1.5"),
                   "sec_collaboration": "产学研"}
    else:
        values |= {"centre_address": "某市某区某路2号", "area": Decimal("800"), "monthly_visitors": 30000,
                   "construction_start": date(2021, 1, 1), "construction_end": date(2022, 6, 30),
                   "sec_team": "团队"}
    return values | over


def file_application(session: Session, slug: str, unit: str, direction: str, **over) -> Application:
    """File one application straight to a unit (with its 附3) and its entry there."""
    campaign = session.exec(select(Campaign).where(Campaign.slug == slug)).one()
    values = application_values(direction, **over)
    now = campaign_now(campaign.clock)
    n = next(_seq)
    app = Application(campaign_id=campaign.id, direction=direction, unit_code=unit, filed_at=now,
                      dedup_key=hashlib.sha256(f"{values['uscc']}|{values['project_name']}".encode()).hexdigest(),
                      reference=f"T-{unit}-{n:06d}", **values)
    session.add(app)
    session.flush()
    session.add(Attachment(application_id=app.id, kind="附3", file_name="声明.pdf", size=3,
                           sha256=hashlib.sha256(b"abc").hexdigest()))
    session.add(Entry(campaign_id=campaign.id, application_id=app.id, unit_code=unit, direction=direction,
                      arrived_at=now, status="received"))
    session.flush()
    return app

"""Plain factory functions for status / dashboard / artifact tests: rows inserted directly.

`populate(slug)` puts the mini campaign into a known, mid-campaign state (clock 2031-06-12
09:00 Asia/Shanghai): 甲市 forwarded, 乙市 scoring and overdue, 甲省 awaiting approval,
the central enterprise collecting under an extension.
"""

import hashlib
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from itertools import count
from pathlib import Path

from openpyxl import Workbook
from sqlmodel import Session, select

from core.clock import parse_local
from core.db import session_scope
from models import Application, AuditLog, Campaign, Document, Entry, Score, Stage
from tasks.audit import record

EVIL = "<script>alert('x')</script>坏公司"
_refs = count(1)


def application(session: Session, campaign_id: int, *, unit_code: str, direction: str,
                enterprise: str, project: str) -> Application:
    """Insert one filed application."""
    n = next(_refs)
    app = Application(campaign_id=campaign_id, direction=direction, unit_code=unit_code,
                      dedup_key=hashlib.sha256(f"{n}{project}".encode()).hexdigest(),
                      reference=f"T{n:06d}", filed_at=parse_local("2031-06-01 10:00"),
                      enterprise_name=enterprise, project_name=project,
                      contact_name="联系人", contact_mobile="13800000000")
    session.add(app)
    session.flush()
    return app


def entry(session: Session, app: Application, unit_code: str, status: str, **fields) -> Entry:
    """Insert an application's entry at a unit (fields: score, rank, quota_kind, ...)."""
    row = Entry(campaign_id=app.campaign_id, application_id=app.id, unit_code=unit_code,
                direction=app.direction, arrived_at=parse_local("2031-06-02 10:00"),
                status=status, **fields)
    session.add(row)
    session.flush()
    return row


def stage(session: Session, campaign_id: int, unit_code: str, **fields) -> Stage:
    """Change a unit's stage columns (state, awaiting_since, extended_until, ...)."""
    row = session.exec(select(Stage).where(Stage.campaign_id == campaign_id,
                                           Stage.unit_code == unit_code)).one()
    row.sqlmodel_update(fields)
    session.add(row)
    session.flush()
    return row


def summary_xlsx(path: Path, unit_name: str, rows: list[tuple[str, str]]) -> Path:
    """Write a small real 汇总表 workbook."""
    wb = Workbook()
    ws = wb.active
    ws.append(["2031年测试示范项目推荐项目汇总表"])
    ws.append([f"推荐单位：{unit_name}"])
    ws.append(["序号", "项目单位", "项目名称", "项目联系人及电话", "备注"])
    for i, (enterprise, project) in enumerate(rows, 1):
        ws.append([i, enterprise, project, "联系人 13800000000", ""])
    path.parent.mkdir(parents=True, exist_ok=True)
    wb.save(path)
    return path


def document(session: Session, st: Stage, kind: str, path: Path, direction: str = "") -> Document:
    """Record a generated file as a Document of a stage."""
    doc = Document(campaign_id=st.campaign_id, stage_id=st.id, unit_code=st.unit_code, kind=kind,
                   direction=direction, path=str(path),
                   sha256=hashlib.sha256(path.read_bytes()).hexdigest(),
                   generated_at=parse_local("2031-06-09 16:00"))
    session.add(doc)
    session.flush()
    return doc


@dataclass
class Scene:
    campaign_id: int
    apps: dict[str, int] = field(default_factory=dict)
    entries: dict[str, int] = field(default_factory=dict)
    documents: dict[str, int] = field(default_factory=dict)
    stages: dict[str, int] = field(default_factory=dict)


def populate(slug: str, out_dir: Path, *, now: str = "2031-06-12 09:00") -> Scene:
    """Fill the mini campaign with a known mid-campaign state; return the ids made."""
    with session_scope() as s:
        campaign = s.exec(select(Campaign).where(Campaign.slug == slug)).one()
        campaign.clock = parse_local(now)
        s.add(campaign)
        scene = Scene(campaign.id)
        _city_a(s, scene, out_dir)
        _city_b(s, scene)
        _province(s, scene)
        _central(s, scene)
        return scene


def _city_a(s: Session, scene: Scene, out_dir: Path) -> None:
    cid = scene.campaign_id
    a = application(s, cid, unit_code="110100", direction="experience_centre",
                    enterprise="甲体验公司", project="甲体验中心")
    b = application(s, cid, unit_code="110100", direction="experience_centre",
                    enterprise="乙体验公司", project="乙体验中心")
    c = application(s, cid, unit_code="110100", direction="experience_centre",
                    enterprise="丙体验公司", project="丙体验中心")
    p = application(s, cid, unit_code="110100", direction="platform",
                    enterprise="甲平台公司", project="甲平台")
    scene.entries["a@110100"] = entry(s, a, "110100", "selected", rank=1, score=Decimal("91.5"),
                                      quota_kind="base").id
    scene.entries["b@110100"] = entry(s, b, "110100", "selected", rank=2, score=Decimal("88"),
                                      quota_kind="extra").id
    scene.entries["c@110100"] = entry(s, c, "110100", "returned", review_note="缺少附3责任声明").id
    entry(s, p, "110100", "selected", rank=1, quota_kind="base")
    st = stage(s, cid, "110100", state="forwarded", flow_run_id="0b6f1a8e-0000-4000-8000-000000000001")
    scene.stages["110100"] = st.id
    xlsx = summary_xlsx(out_dir / "110100-summary.xlsx", "甲市", [("甲体验公司", "甲体验中心")])
    scene.documents["summary@110100"] = document(s, st, "summary", xlsx, "experience_centre").id
    record(s, actor="c1-off", action="stage.approve", obj=st, at=parse_local("2031-06-09 15:00"),
           after={"state": "approved"}, campaign_id=cid)
    scene.apps.update(a=a.id, b=b.id, c=c.id, p=p.id)


def _city_b(s: Session, scene: Scene) -> None:
    cid = scene.campaign_id
    apps = [application(s, cid, unit_code="110200", direction="experience_centre",
                        enterprise=name, project=f"{name}中心") for name in (EVIL, "丁公司", "戊公司")]
    scene.entries["evil@110200"] = entry(s, apps[0], "110200", "eligible").id
    entry(s, apps[1], "110200", "eligible")
    entry(s, apps[2], "110200", "ineligible", review_note="面积不足200平方米")
    p = application(s, cid, unit_code="110200", direction="platform", enterprise="乙平台公司",
                    project="乙平台")
    entry(s, p, "110200", "eligible")
    for expert, value in (("c2-e1", Decimal("80")),):
        for criterion in ("demo", "innovation"):
            s.add(Score(entry_id=scene.entries["evil@110200"], expert_key=expert,
                        criterion=criterion, value=value, source="input",
                        recorded_at=parse_local("2031-06-11 10:00")))
    scene.stages["110200"] = stage(s, cid, "110200", state="scoring").id


def _province(s: Session, scene: Scene) -> None:
    cid = scene.campaign_id
    apps = {k: s.get(Application, scene.apps[k]) for k in ("a", "b", "p")}
    scene.entries["a@110000"] = entry(s, apps["a"], "110000", "selected", rank=1,
                                      score=Decimal("90"), quota_kind="base",
                                      from_unit_code="110100").id
    scene.entries["b@110000"] = entry(s, apps["b"], "110000", "received",
                                      passthrough="extra", origin_unit_code="110100",
                                      from_unit_code="110100").id
    scene.entries["p@110000"] = entry(s, apps["p"], "110000", "selected", rank=1,
                                      quota_kind="base", from_unit_code="110100").id
    scene.stages["110000"] = stage(s, cid, "110000", state="awaiting_approval", round=1,
                                   awaiting_since=parse_local("2031-06-11 10:00")).id


def _central(s: Session, scene: Scene) -> None:
    cid = scene.campaign_id
    p = application(s, cid, unit_code="CE01", direction="platform", enterprise="集团平台公司",
                    project="集团平台")
    entry(s, p, "CE01", "received")
    scene.stages["CE01"] = stage(s, cid, "CE01", state="collecting",
                                 extended_until=parse_local("2031-06-25 17:00")).id
    scene.stages["M"] = stage(s, cid, "M", state="open").id


def audit_rows(session: Session) -> list[AuditLog]:
    """Every audit row, oldest first."""
    return list(session.exec(select(AuditLog).order_by(AuditLog.seq)))


def when(text: str) -> datetime:
    """An Asia/Shanghai time as aware UTC."""
    return parse_local(text)

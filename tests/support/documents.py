"""Plain factory functions for document tests and sample documents: applications, entries,
scores and an approved stage, inserted directly (no flow needed)."""

import hashlib
from datetime import UTC, datetime
from decimal import Decimal
from itertools import count

from sqlmodel import Session, select

from models import Application, Campaign, ConflictOfInterest, Entry, Score, Stage

APPROVED_AT = datetime(2031, 6, 18, 7, 30, tzinfo=UTC)  # 2031-06-18 15:30 in Asia/Shanghai
_serial = count(1)


def campaign(session: Session, slug: str) -> Campaign:
    return session.exec(select(Campaign).where(Campaign.slug == slug)).one()


def stage(session: Session, slug: str, unit_code: str, *, approved_at: datetime | None = APPROVED_AT,
          approved_by: str = "p-off") -> Stage:
    """Return a unit's stage, marked approved at `approved_at`."""
    row = session.exec(select(Stage).where(Stage.campaign_id == campaign(session, slug).id,
                                           Stage.unit_code == unit_code)).one()
    row.state, row.approved_at, row.approved_by, row.round = "approved", approved_at, approved_by, 1
    session.add(row)
    session.flush()
    return row


def application(session: Session, slug: str, *, unit_code: str, direction: str, enterprise: str,
                project: str, contact: str = "张联系", mobile: str = "13800000000",
                reference: str | None = None) -> Application:
    n = next(_serial)
    app = Application(
        campaign_id=campaign(session, slug).id, direction=direction, unit_code=unit_code,
        dedup_key=hashlib.sha256(f"{slug}:{enterprise}:{project}:{n}".encode()).hexdigest(),
        reference=reference or f"T{n:06d}", filed_at=APPROVED_AT, enterprise_name=enterprise,
        project_name=project, contact_name=contact, contact_mobile=mobile,
        leader_name="李负责", leader_mobile="13900000000")
    session.add(app)
    session.flush()
    return app


def entry(session: Session, app: Application, *, unit_code: str, status: str = "selected",
          rank: int | None = None, quota_kind: str | None = "base", passthrough: str | None = None,
          origin: str | None = None, from_unit: str | None = None, score: str | None = None,
          provincial_title: bool = False, review_note: str | None = None,
          decision_note: str | None = None) -> Entry:
    row = Entry(campaign_id=app.campaign_id, application_id=app.id, unit_code=unit_code,
                direction=app.direction, from_unit_code=from_unit, passthrough=passthrough,
                origin_unit_code=origin, arrived_at=APPROVED_AT, status=status, rank=rank,
                quota_kind=quota_kind if status == "selected" else None,
                score=Decimal(score) if score else None, provincial_title=provincial_title,
                review_note=review_note, decision_note=decision_note)
    session.add(row)
    session.flush()
    return row


def scores(session: Session, row: Entry, by_expert: dict[str, dict[str, str]]) -> None:
    for expert, values in by_expert.items():
        for criterion, value in values.items():
            session.add(Score(entry_id=row.id, expert_key=expert, criterion=criterion,
                              value=Decimal(value), source="input", recorded_at=APPROVED_AT))
    session.flush()


def conflict(session: Session, row: Entry, expert: str, reason: str) -> None:
    session.add(ConflictOfInterest(entry_id=row.id, expert_key=expert, reason=reason))
    session.flush()


def mini_province(session: Session, slug: str = "mini-test") -> Stage:
    """甲省 (110000) of the mini campaign with a realistic mix of entries; returns its stage."""
    st = stage(session, slug, "110000")
    add = _adder(session, slug, "110000")
    b = add("platform", "乙市云端网络科技有限公司", "云端生活服务平台", rank=1, score="91.5", from_unit="110200")
    add("platform", "甲市星河互联网有限公司", "星河社交娱乐平台", rank=2, score="88", from_unit="110100")
    add("platform", "乙市落选科技有限公司", "落选资讯平台", status="not_selected", rank=3, score="70",
        from_unit="110200", decision_note="未入选（排名未进入推荐名额）")
    add("experience_centre", "甲市数字生活有限公司", "甲市数字生活体验中心", rank=1, score="90",
        from_unit="110100", provincial_title=True)
    add("experience_centre", "甲市额外体验有限公司", "甲市沉浸式体验街区", rank=None,
        quota_kind="extra", passthrough="extra", origin="110100", from_unit="110100")
    add("experience_centre", "乙市不合格有限公司", "乙市小型体验店", status="ineligible",
        quota_kind=None, from_unit="110200", review_note="体验中心面积不足200平方米")
    scores(session, b, {"p-e1": {"demo": "92", "innovation": "90"}, "p-e2": {"demo": "93", "innovation": "91"}})
    return st


def _adder(session: Session, slug: str, unit_code: str):
    def add(direction: str, enterprise: str, project: str, **kw) -> Entry:
        app = application(session, slug, unit_code=kw.get("from_unit") or unit_code,
                          direction=direction, enterprise=enterprise, project=project)
        return entry(session, app, unit_code=unit_code, **kw)
    return add


GD_SAMPLE = [  # (direction, from city, enterprise, project, rank, passthrough)
    ("platform", "440100", "广州示例云游网络科技有限公司", "云游生活服务平台", 1, None),
    ("platform", "440500", "汕头示例星联信息技术有限公司", "星联社交娱乐平台", 2, None),
    ("platform", "440600", "佛山示例智家科技有限公司", "智家家居消费服务平台", 3, None),
    ("experience_centre", "440100", "广州示例数字文旅有限公司", "广州天河数字生活信息消费体验中心", 1, None),
    ("experience_centre", "440600", "佛山示例岭南文化科技有限公司", "佛山岭南天地5G+XR沉浸式体验街区", 2, None),
    ("experience_centre", "440400", "珠海示例海岸数码有限公司", "珠海横琴智慧消费体验店", 3, None),
    ("experience_centre", "440100", "广州示例元境科技有限公司", "广州北京路元宇宙信息消费体验商圈", None, "extra"),
    ("experience_centre", "440600", "佛山示例千灯湖数字科技有限公司", "佛山千灯湖数字生活体验馆", None, "extra"),
]
WH_SAMPLE = [
    ("platform", "420106", "武汉示例江城网络科技有限公司", "江城生活服务平台", 1, "base"),
    ("experience_centre", "420102", "武汉示例光谷数字科技有限公司", "光谷数字消费体验中心", 1, "direct"),
    ("experience_centre", "420103", "武汉示例汉街文化传媒有限公司", "楚河汉街沉浸式信息消费体验街区", 2, "direct"),
    ("experience_centre", "420104", "武汉示例江汉智能科技有限公司", "江汉路智慧商圈体验店", 3, "base"),
]
DISTRICT_SAMPLE = [  # 江岸区 (420102) to 武汉: (direction, enterprise, project, rank)
    ("platform", "武汉示例江岸云联科技有限公司", "江岸云联生活服务平台", 1),
    ("experience_centre", "武汉示例光谷数字科技有限公司", "光谷数字消费体验中心", 1),
    ("experience_centre", "武汉示例江滩文旅科技有限公司", "汉口江滩数字文旅体验馆", 2),
]


def sample_2023(session: Session, slug: str = "2023-xinxi-xiaofei") -> list[Stage]:
    """Guangdong (one table, extras of Guangzhou and Foshan), Wuhan (one table, two special
    projects sent directly) and Wuhan's 江岸区 (a table per direction, as Wuhan asks), approved,
    with fictional applicants."""
    gd = stage(session, slug, "440000", approved_at=datetime(2023, 9, 5, 2, 0, tzinfo=UTC),
               approved_by="440000-off")
    for direction, city, enterprise, project, rank, through in GD_SAMPLE:
        app = application(session, slug, unit_code=city, direction=direction,
                          enterprise=enterprise, project=project, contact="王示例", mobile="13800138000")
        entry(session, app, unit_code="440000", rank=rank, quota_kind=through or "base",
              passthrough=through, origin=city if through else None, from_unit=city,
              provincial_title=False, score=None if through else str(95 - 3 * rank))
    wh = stage(session, slug, "420100", approved_at=datetime(2023, 8, 31, 8, 0, tzinfo=UTC),
               approved_by="420100-off")
    for direction, district, enterprise, project, rank, kind in WH_SAMPLE:
        app = application(session, slug, unit_code=district, direction=direction,
                          enterprise=enterprise, project=project, contact="陈示例", mobile="13900139000")
        entry(session, app, unit_code="420100", rank=rank, quota_kind=kind, from_unit=district,
              score=str(92 - 2 * rank))
    district = stage(session, slug, "420102", approved_at=datetime(2023, 8, 28, 8, 0, tzinfo=UTC),
                     approved_by="420102-off")
    for direction, enterprise, project, rank in DISTRICT_SAMPLE:
        app = application(session, slug, unit_code="420102", direction=direction,
                          enterprise=enterprise, project=project, contact="周示例", mobile="13700137000")
        entry(session, app, unit_code="420102", rank=rank)
    return [gd, wh, district]

"""What one unit's page shows: its entries with applicants, scores, documents and audit trail.

A handful of queries per page, each bounded by the unit; the counts come from
`tasks.status.load_status(..., subtree=code)`.
"""

from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path

from sqlalchemy import and_, or_
from sqlmodel import Session, select

from core.errors import NotFound
from core.settings import get_settings
from models import Application, AuditLog, Document, Entry, Person, Score, Unit

ENTRY_STATE_NAMES = {
    "received": "已接收", "eligible": "审查通过", "ineligible": "不符合条件", "returned": "已退回",
    "selected": "已推荐", "not_selected": "未推荐",
}
QUOTA_KIND_NAMES = {"base": "推荐名额", "extra": "示范城市额外推荐", "direct": "特色项目直报"}
PASSTHROUGH_NAMES = {"extra": "示范城市额外推荐（不占本级名额）", "direct": "特色项目直报（不占本级名额）"}
DOCUMENT_KIND_NAMES = {"summary": "汇总表", "letter": "推荐函", "letter_html": "推荐函（网页预览）",
                       "export": "导出", "final_list": "最终名单"}
PREVIEW_KINDS = ("letter_html",)  # shown in the browser, not downloaded


@dataclass(slots=True)
class EntryRow:
    """An entry as the unit page lists it."""

    id: int
    direction: str
    status: str
    rank: int | None
    score: Decimal | None
    quota_kind: str | None
    passthrough: str | None
    from_unit_code: str | None
    origin_unit_code: str | None
    review_note: str | None
    decision_note: str | None
    reference: str
    enterprise: str | None
    project: str | None
    contact: str
    scores: list[tuple[str, str, Decimal]] = field(default_factory=list)

    @property
    def status_name(self) -> str:
        return ENTRY_STATE_NAMES.get(self.status, self.status)

    @property
    def decision(self) -> str:
        if self.passthrough:
            return PASSTHROUGH_NAMES.get(self.passthrough, self.passthrough)
        return QUOTA_KIND_NAMES.get(self.quota_kind or "", "") if self.status == "selected" else ""


def unit_entries(session: Session, campaign_id: int, unit_code: str) -> list[EntryRow]:
    """Entries at a unit with their applications, ranked first, each with its expert scores."""
    query = (select(Entry, Application)
             .join(Application, Application.id == Entry.application_id)
             .where(Entry.campaign_id == campaign_id, Entry.unit_code == unit_code))
    rows = [_entry_row(e, a) for e, a in session.exec(query)]
    rows.sort(key=lambda r: (r.direction, r.rank is None, r.rank or 0,
                             -(r.score or Decimal(-1)), r.id))
    by_id = {r.id: r for r in rows}
    if by_id:
        scores = select(Score).where(Score.entry_id.in_(by_id)).order_by(
            Score.entry_id, Score.expert_key, Score.criterion)
        for score in session.exec(scores):
            by_id[score.entry_id].scores.append((score.expert_key, score.criterion, score.value))
    return rows


def _entry_row(e: Entry, a: Application) -> EntryRow:
    contact = " ".join(p for p in (a.contact_name, a.contact_mobile) if p)
    return EntryRow(id=e.id, direction=e.direction, status=e.status, rank=e.rank, score=e.score,
                    quota_kind=e.quota_kind, passthrough=e.passthrough,
                    from_unit_code=e.from_unit_code, origin_unit_code=e.origin_unit_code,
                    review_note=e.review_note, decision_note=e.decision_note,
                    reference=a.reference, enterprise=a.enterprise_name, project=a.project_name,
                    contact=contact)


def unit_documents(session: Session, stage_id: int | None) -> list[Document]:
    """The documents generated for a stage, by kind and direction."""
    if stage_id is None:
        return []
    query = select(Document).where(Document.stage_id == stage_id).order_by(
        Document.kind, Document.direction)
    return list(session.exec(query))


def unit_audit(session: Session, campaign_id: int, *, unit_code: str, stage_id: int | None,
               entry_ids: list[int], limit: int = 200) -> list[AuditLog]:
    """The newest audit rows about the unit, its stage or its entries."""
    about = [and_(AuditLog.object_type == "unit", AuditLog.object_id == unit_code)]
    if stage_id is not None:
        about.append(and_(AuditLog.object_type == "stage", AuditLog.object_id == str(stage_id)))
    if entry_ids:
        about.append(and_(AuditLog.object_type == "entry",
                          AuditLog.object_id.in_([str(i) for i in entry_ids])))
    query = (select(AuditLog).where(AuditLog.campaign_id == campaign_id, or_(*about))
             .order_by(AuditLog.seq.desc()).limit(limit))
    return list(session.exec(query))


def unit_names(session: Session, campaign_id: int, codes: list[str]) -> dict[str, str]:
    """Names of units by code (for breadcrumbs and 'from' columns)."""
    if not codes:
        return {}
    query = select(Unit.code, Unit.name).where(Unit.campaign_id == campaign_id, Unit.code.in_(codes))
    return dict(session.exec(query).all())


def person_names(session: Session, campaign_id: int, keys: set[str]) -> dict[str, str]:
    """Names of people (experts, officials, contacts) by key."""
    if not keys:
        return {}
    query = select(Person.key, Person.name).where(Person.campaign_id == campaign_id,
                                                  Person.key.in_(sorted(keys)))
    return dict(session.exec(query).all())


def document_file(session: Session, campaign_id: int, document_id: int) -> tuple[Document, Path]:
    """Return a recorded document and its file; raise NotFound for any other id or a lost file."""
    doc = session.get(Document, document_id)
    if doc is None or doc.campaign_id != campaign_id:
        raise NotFound(f"未找到文件 {document_id}", f"no document {document_id}")
    path = Path(doc.path)
    if not path.is_absolute():
        path = get_settings().home / path
    if not path.is_file():
        raise NotFound(f"文件已不存在：{path.name}", f"the file is gone: {path.name}")
    return doc, path

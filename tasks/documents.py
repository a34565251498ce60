"""A stage's documents: 汇总表 (one, or one per direction), 推荐函 (.docx and .html) and the
coordinators' export, written under <output_dir>/<campaign>/<unit code>-<unit name>/, each
recorded as a Document row (upsert on stage, kind, direction) and listed in manifest.json.

Regenerating an unchanged stage gives byte-identical files: every date inside them (core
properties, zip member stamps, the letter's 成文日期) comes from Stage.approved_at.
"""

from dataclasses import dataclass
from pathlib import Path

from sqlmodel import Session, select

from core.clock import campaign_now, local
from models import Document
from tasks.audit import record
from tasks.doc_files import safe_component, sha256_hex, write_atomic
from tasks.document_data import StageData, contact_line, load_stage_data, remark
from tasks.export import build_export_workbook, load_export_inputs
from tasks.letter import cn_number, letter_content, letter_html
from tasks.letter_docx import build_letter_docx
from tasks.letter_number import allocate_letter_number
from tasks.manifest import campaign_dir, write_manifest
from tasks.summary_table import (
    Section,
    SummaryRow,
    TableSpec,
    build_summary_workbook,
    table_specs,
    workbook_bytes,
)

LETTER_DOCX, LETTER_HTML, EXPORT = "推荐函.docx", "推荐函.html", "评审明细.xlsx"


@dataclass(frozen=True)
class GeneratedFile:
    kind: str  # summary | letter | letter_html | export
    direction: str
    name: str
    data: bytes


def unit_dir(data: StageData) -> Path:
    """The folder of a unit's documents: <campaign dir>/<code>-<name>."""
    return campaign_dir(data.campaign) / safe_component(f"{data.unit.code}-{data.unit.name}")


def summary_sections(data: StageData, spec: TableSpec) -> list[Section]:
    """The rows of one summary table, grouped by direction when it holds several."""
    keys = [spec.direction] if spec.direction else list(data.config.directions)
    sections = []
    for i, key in enumerate(keys, 1):
        rows = [SummaryRow(r.app.enterprise_name or "", r.app.project_name or "", contact_line(r.app),
                           remark(r.entry, data.config.remarks, data.unit_name(r.entry.origin_unit_code)))
                for r in data.recommended(key)]
        heading = f"{cn_number(i)}、{data.config.directions[key].name}" if len(keys) > 1 else None
        sections.append(Section(heading, rows))
    return sections


def render_files(session: Session, data: StageData) -> list[GeneratedFile]:
    """Build every document of a stage in memory (allocating the 发文字号 once)."""
    organ, when = data.unit.organ_name, data.when
    notes = data.parent.child_summary_notes if data.parent else []  # asked by the receiving unit
    files = []
    for spec in table_specs(data.config, data.unit):
        sheet = data.config.directions[spec.direction].name if spec.direction else "汇总表"
        wb = build_summary_workbook(title=spec.title, unit_name=data.unit.name, sheet=sheet,
                                    sections=summary_sections(data, spec), notes=notes)
        files.append(GeneratedFile("summary", spec.direction, spec.file_name,
                                   workbook_bytes(wb, when, title=spec.title, author=organ)))
    export = build_export_workbook(data, load_export_inputs(session, data))
    files.append(GeneratedFile("export", "", EXPORT, workbook_bytes(
        export, when, title=f"{data.unit.name}评审明细", author=organ)))
    if data.parent is not None:  # the top unit decides; it writes no 推荐函
        # last: allocating holds the unit's number sequence (SQLite: the write lock) until commit
        number = allocate_letter_number(session, data.stage, data.unit, local(when).year)
        content = letter_content(data, number.text)
        files.append(GeneratedFile("letter", "", LETTER_DOCX, build_letter_docx(content, when)))
        files.append(GeneratedFile("letter_html", "", LETTER_HTML, letter_html(content).encode("utf-8")))
    return files


def write_stage_documents(session: Session, stage_id: int) -> list[Document]:
    """Write a stage's documents, record them, and rewrite the campaign's manifest.json."""
    data = load_stage_data(session, stage_id)
    folder, now = unit_dir(data), campaign_now(data.campaign.clock)
    docs, changed = [], []
    for f in render_files(session, data):
        path = folder / f.name
        if not path.is_file() or path.read_bytes() != f.data:
            write_atomic(path, f.data)
        doc, is_new = _upsert(session, data, f, path, now)
        docs.append(doc)
        if is_new:
            changed.append({"kind": f.kind, "direction": f.direction, "sha256": doc.sha256})
    removed = _drop_stale(session, data, docs)
    if changed or removed:
        record(session, actor="system", action="documents.write", obj=data.stage, at=now,
               after={"documents": changed, "removed": removed}, campaign_id=data.campaign.id)
    session.flush()
    write_manifest(session, data.campaign.id)
    return docs


def _upsert(session: Session, data: StageData, f: GeneratedFile, path: Path, now) -> tuple[Document, bool]:
    doc = session.exec(select(Document).where(Document.stage_id == data.stage.id,
                                              Document.kind == f.kind, Document.direction == f.direction)).first()
    sha = sha256_hex(f.data)
    if doc is not None and doc.sha256 == sha and doc.path == str(path):
        return doc, False
    doc = doc or Document(campaign_id=data.campaign.id, stage_id=data.stage.id, unit_code=data.unit.code,
                          kind=f.kind, direction=f.direction, path="", sha256="", generated_at=now)
    doc.path, doc.sha256, doc.generated_at = str(path), sha, now
    session.add(doc)
    session.flush()
    return doc, True


def _drop_stale(session: Session, data: StageData, keep: list[Document]) -> list[str]:
    """Forget documents this stage no longer produces (e.g. after child_per_direction_tables changed)."""
    kept = {d.id for d in keep}
    stale = [d for d in session.exec(select(Document).where(Document.stage_id == data.stage.id))
             if d.id not in kept and d.kind in ("summary", "letter", "letter_html", "export")]
    for d in stale:
        if Path(d.path).parent == unit_dir(data):
            Path(d.path).unlink(missing_ok=True)
        session.delete(d)
    return [Path(d.path).name for d in stale]

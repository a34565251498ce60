"""A comparable picture of everything a stage run leaves behind: rows, documents, outbox, mail.

Two runs of the same stage from the same starting database must leave equal pictures, however
often they were interrupted. Row ids are replaced by stable names (an entry is its application's
reference and its unit), flow run ids and one-time codes by placeholders, file paths are taken
relative to the run's home, so a disturbed run and an undisturbed one can be compared with ==.
"""

import hashlib
import json
import re
from pathlib import Path

from sqlalchemy import create_engine, text
from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from models import (
    Application,
    ApprovalCode,
    AuditLog,
    Document,
    Entry,
    LetterNumber,
    Message,
    Score,
    Stage,
)
from tasks.audit import verify_chain

UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")
CODE = re.compile(r"(?<![A-Z0-9])[A-HJ-NP-Z2-9]{10}(?![A-Z0-9])")


def engine(url: str) -> Engine:
    """A small engine of our own for reading another run's database (never the app's cached one)."""
    from core.db import normalise_url

    url = normalise_url(url)
    args = {"connect_args": {"timeout": 60}} if url.startswith("sqlite") else {"pool_size": 2, "pool_pre_ping": True}
    return create_engine(url, **args)


def _names(session: Session) -> tuple[dict[int, str], dict[int, str]]:
    refs = {a.id: a.reference for a in session.exec(select(Application))}
    entries = {e.id: f"{refs[e.application_id]}@{e.unit_code}" for e in session.exec(select(Entry))}
    return refs, entries


def _entry_rows(session: Session, refs: dict[int, str], names: dict[int, str]) -> list[tuple]:
    return sorted((names[e.id], e.status, e.rank, e.quota_kind, e.passthrough, e.origin_unit_code,
                   e.from_unit_code, names.get(e.source_entry_id), str(e.score), e.provincial_title,
                   e.review_note, e.decision_note, refs[e.application_id])
                  for e in session.exec(select(Entry)))


def _stage_rows(session: Session, names: dict[int, str]) -> list[tuple]:
    rows = []
    for s in session.exec(select(Stage)):
        proposal = [(names.get(p["entry"]), p.get("kind")) for p in (s.proposal or [])]
        rows.append((s.unit_code, s.state, s.round, s.approved_by, str(s.approved_at), s.failed_attempts,
                     s.inputs_seen, s.locked, proposal, str(s.closed_at)))
    return sorted(rows)


def _message_rows(session: Session) -> list[tuple]:
    return sorted((m.key, m.kind, m.recipient, m.status, m.subject, m.message_id, _digest(_plain(m.body_text)),
                   _digest(_plain(m.body_html or "")), [a.get("name") for a in m.attachments])
                  for m in session.exec(select(Message)))


def _plain(body: str) -> str:
    """A body with the run-specific parts (flow run ids, one-time codes) replaced by placeholders."""
    return CODE.sub("<code>", UUID.sub("<run>", body))


def _digest(body: str) -> str:
    return hashlib.sha256(body.encode()).hexdigest()[:16]


def _audit_rows(session: Session) -> list[tuple]:
    return [(r.seq, r.actor, r.action, r.object_type, r.before, _no_ids(r.after))
            for r in session.exec(select(AuditLog).order_by(AuditLog.seq))]


def _no_ids(after: dict | None) -> dict | None:
    """Audit details without row ids a rolled-back PostgreSQL sequence may skip, or file paths."""
    if after is None:
        return None
    return {k: v for k, v in after.items() if k not in ("entry", "entries_ids", "source")}


def database_picture(session: Session, home: Path) -> dict:
    """Everything in the database a stage run decides, with ids replaced by stable names."""
    refs, names = _names(session)
    return {
        "entries": _entry_rows(session, refs, names),
        "stages": _stage_rows(session, names),
        "scores": sorted((names[s.entry_id], s.expert_key, s.criterion, str(s.value), s.source)
                         for s in session.exec(select(Score))),
        "codes": sorted((c.official_key, c.round, c.used_at is not None)
                        for c in session.exec(select(ApprovalCode))),
        "documents": sorted((d.unit_code, d.kind, d.direction, _relative(d.path, home), d.sha256)
                            for d in session.exec(select(Document))),
        "letter_numbers": sorted((n.unit_code, n.year, n.number, n.text)
                                 for n in session.exec(select(LetterNumber))),
        "messages": _message_rows(session),
        "audit": _audit_rows(session),
        "audit_problems": verify_chain(session),
    }


def _relative(path: str, home: Path) -> str:
    p = Path(path)
    return p.relative_to(home).as_posix() if p.is_absolute() and p.is_relative_to(home) else p.as_posix()


def files_picture(home: Path) -> dict[str, str]:
    """Every file written under a run's output folder, by relative path, with its SHA-256.

    Experts' score sheets (评分表) are working files saved with the wall-clock time inside, so
    they are compared by their cell values instead of their bytes.
    """
    out = home / "out"
    if not out.exists():
        return {}
    return {p.relative_to(home).as_posix(): _cells_digest(p) if p.parent.name == "评分表"
            else hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(out.rglob("*")) if p.is_file()}


def _cells_digest(path: Path) -> str:
    from openpyxl import load_workbook

    wb = load_workbook(path)
    cells = [[ws.title, *[[c.value for c in row] for row in ws.iter_rows()]] for ws in wb.worksheets]
    return _digest(json.dumps(cells, ensure_ascii=False, default=str))


def picture(url: str, home: Path) -> dict:
    """The database and files of one run, ready to compare with another run's."""
    eng = engine(url)
    try:
        with Session(eng) as session:
            return {"db": database_picture(session, home), "files": files_picture(home)}
    finally:
        eng.dispose()


def row_counts(url: str) -> dict[str, int]:
    """Rows per table of a database (to show that a failed step wrote nothing)."""
    eng = engine(url)
    try:
        with eng.connect() as conn:
            tables = [t.name for t in Stage.metadata.sorted_tables]
            return {t: conn.execute(text(f'SELECT count(*) FROM "{t}"')).scalar_one() for t in tables}
    finally:
        eng.dispose()


def mail_picture(received: list) -> dict[str, list[tuple]]:
    """Delivered mail by Message-ID: every copy's subject, recipients, body and attachment digests."""
    copies: dict[str, list[tuple]] = {}
    for r in received:
        msg = r.message
        body = msg.get_body(("plain",)).get_content()
        files = sorted((part.get_filename(), hashlib.sha256(part.get_payload(decode=True)).hexdigest())
                       for part in msg.iter_attachments())
        copies.setdefault(msg["Message-ID"], []).append(
            (str(msg["Subject"]), tuple(sorted(r.rcpt_tos)), _digest(_plain(body)), tuple(files)))
    return copies


def tables_containing(url: str, needle: str) -> set[str]:
    """The tables (as `table.column`) where any stored value contains `needle`."""
    eng = engine(url)
    found = set()
    try:
        with eng.connect() as conn:
            for table in Stage.metadata.sorted_tables:
                for row in conn.execute(table.select()):
                    found |= {f"{table.name}.{col}" for col, value in row._mapping.items()
                              if value is not None and needle in str(value)}
    finally:
        eng.dispose()
    return found

"""Append to the audit log inside the caller's transaction, and verify the hash chain."""

import hashlib
import json
from datetime import datetime

from sqlalchemy import update
from sqlmodel import Session, select

from core.clock import to_utc
from models import AuditHead, AuditLog


def record(session: Session, *, actor: str, action: str, obj: object | tuple[str, object],
           at: datetime, before: dict | None = None, after: dict | None = None,
           campaign_id: int | None = None) -> AuditLog:
    """Append one audit row in the caller's transaction (committed with the change it records)."""
    object_type, object_id = obj if isinstance(obj, tuple) else (type(obj).__name__.lower(), obj.id)
    head = _lock_head(session)
    row = AuditLog(at=to_utc(at), campaign_id=campaign_id, actor=actor, action=action,
                   object_type=object_type, object_id=str(object_id), before=_plain(before),
                   after=_plain(after), seq=head.seq, prev_hash=head.hash, hash="")
    row.hash = row_hash(row)
    head.hash = row.hash
    session.add(row)
    session.add(head)
    session.flush()
    return row


def _lock_head(session: Session) -> AuditHead:
    """Take the chain's write lock (an UPDATE) and return the head, creating it once."""
    result = session.exec(update(AuditHead).where(AuditHead.id == 1).values(seq=AuditHead.seq + 1))
    if result.rowcount == 0:
        session.add(AuditHead(id=1, seq=1))
        session.flush()
    head = session.exec(select(AuditHead).where(AuditHead.id == 1)).one()
    session.refresh(head)
    return head


def row_hash(row: AuditLog) -> str:
    """Hash a row's content together with the previous row's hash."""
    body = json.dumps([row.seq, row.prev_hash, to_utc(row.at).isoformat(), row.campaign_id,
                       row.actor, row.action, row.object_type, row.object_id, row.before,
                       row.after], ensure_ascii=False, sort_keys=True, default=str)
    return hashlib.sha256(body.encode()).hexdigest()


def verify_chain(session: Session) -> list[str]:
    """Return the problems found walking the chain (empty when intact)."""
    problems, prev = [], "0" * 64
    expected_seq = 1
    for row in session.exec(select(AuditLog).order_by(AuditLog.seq)):
        if row.seq != expected_seq:
            problems.append(f"gap before seq {row.seq} (expected {expected_seq})")
        if row.prev_hash != prev:
            problems.append(f"seq {row.seq}: previous hash does not match")
        if row_hash(row) != row.hash:
            problems.append(f"seq {row.seq}: content does not match its hash")
        prev, expected_seq = row.hash, row.seq + 1
    head = session.get(AuditHead, 1)
    if head is not None and head.hash != prev:
        problems.append("the newest row is not the chain's head (rows removed at the end)")
    return problems


def _plain(value: dict | None) -> dict | None:
    return None if value is None else json.loads(json.dumps(value, ensure_ascii=False, default=str))

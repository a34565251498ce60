"""Append to the audit log inside the caller's transaction, and verify the hash chain.

Each row carries two times: `at`, the campaign's clock (which a rehearsal moves), and
`recorded_at`, the machine's own wall clock (UTC) when the row was written, which no one
moves. Both are in the row's hash; rows written before `recorded_at` existed hash without it.
"""

import hashlib
import json
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import update
from sqlalchemy.orm.util import identity_key
from sqlmodel import Session, select

from core.clock import to_utc
from models import AuditHead, AuditLog


@dataclass(frozen=True)
class AuditEvent:
    """One row to append: who did what to which object, when, with before/after."""

    actor: str
    action: str
    obj: object | tuple[str, object]
    at: datetime
    before: dict | None = None
    after: dict | None = None
    campaign_id: int | None = None


def record(session: Session, *, actor: str, action: str, obj: object | tuple[str, object],
           at: datetime, before: dict | None = None, after: dict | None = None,
           campaign_id: int | None = None) -> AuditLog:
    """Append one audit row in the caller's transaction (committed with the change it records)."""
    return record_many(session, [AuditEvent(actor, action, obj, at, before, after, campaign_id)])[0]


def record_many(session: Session, events: list[AuditEvent]) -> list[AuditLog]:
    """Append rows in order under one lock of the chain's head (the caller's transaction)."""
    if not events:
        return []
    seq, prev = _take_seqs(session, len(events))
    written = datetime.now(UTC)  # the wall clock, whatever the campaign's clock says
    rows = []
    for offset, event in enumerate(events):
        obj = event.obj
        object_type, object_id = obj if isinstance(obj, tuple) else (type(obj).__name__.lower(), obj.id)
        row = AuditLog(at=to_utc(event.at), recorded_at=written, campaign_id=event.campaign_id, actor=event.actor,
                       action=event.action, object_type=object_type, object_id=str(object_id),
                       before=_plain(event.before), after=_plain(event.after), seq=seq + offset,
                       prev_hash=prev, hash="")
        row.hash = prev = row_hash(row)
        rows.append(row)
    session.add_all(rows)
    session.execute(update(AuditHead).where(AuditHead.id == 1).values(hash=prev)
                    .execution_options(synchronize_session=False))
    session.flush()
    if (head := session.identity_map.get(identity_key(AuditHead, 1))) is not None:
        session.expire(head)  # the UPDATEs above bypassed it
    return rows


def _take_seqs(session: Session, count: int) -> tuple[int, str]:
    """Take the chain's write lock (an UPDATE) for `count` rows; return (first seq, previous hash)."""
    taken = session.execute(update(AuditHead).where(AuditHead.id == 1).values(seq=AuditHead.seq + count)
                            .returning(AuditHead.seq, AuditHead.hash)
                            .execution_options(synchronize_session=False)).first()
    if taken is None:  # the very first row: create the head
        session.add(AuditHead(id=1, seq=count))
        session.flush()
        return 1, "0" * 64
    return taken.seq - count + 1, taken.hash


def row_hash(row: AuditLog) -> str:
    """Hash a row's content together with the previous row's hash."""
    content = [row.seq, row.prev_hash, to_utc(row.at).isoformat(), row.campaign_id,
               row.actor, row.action, row.object_type, row.object_id, row.before, row.after]
    if row.recorded_at is not None:  # rows written before the column existed hash without it
        content.append(to_utc(row.recorded_at).isoformat())
    body = json.dumps(content, ensure_ascii=False, sort_keys=True, default=str)
    return hashlib.sha256(body.encode()).hexdigest()


def verify_chain(session: Session) -> list[str]:
    """Return the problems found walking the chain, first bad row first (empty when intact)."""
    problems, prev = [], "0" * 64
    expected_seq = 1
    for row in session.exec(select(AuditLog).order_by(AuditLog.seq)):
        if row.seq != expected_seq:
            problems.append(f"第 {row.seq} 条之前缺少记录 / gap before seq {row.seq} (expected {expected_seq})")
        if row.prev_hash != prev:
            problems.append(f"第 {row.seq} 条与前一条不衔接 / seq {row.seq}: previous hash does not match")
        if row_hash(row) != row.hash:
            problems.append(f"第 {row.seq} 条内容被改动 / seq {row.seq}: content does not match its hash")
        prev, expected_seq = row.hash, row.seq + 1
    head = session.get(AuditHead, 1)
    if head is not None and head.hash != prev:
        problems.append("最新一条不是链头（末尾记录被删除）/ the newest row is not the chain's head "
                        "(rows removed at the end)")
    return problems


def _plain(value: dict | None) -> dict | None:
    return None if value is None else json.loads(json.dumps(value, ensure_ascii=False, default=str))

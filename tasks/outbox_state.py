"""Row transitions of the outbox: claim with a lease, then mark sent, failed or deferred.

Every transition is one conditional UPDATE, so two deliverers (processes or coroutines)
never both claim a row: the claim only succeeds while the row is due, and it pushes
`next_attempt_at` to the end of the lease. `attempts` doubles as the claim token: a
deliverer marks a row only if nobody re-claimed it after its lease ran out.
"""

from datetime import datetime, timedelta

from sqlalchemy import case, func, or_, update
from sqlmodel import Session, select

from models import Message
from tasks.instant import as_utc

LEASE = timedelta(minutes=5)
BACKOFF_FIRST = timedelta(seconds=30)
BACKOFF_FACTOR = 4
BACKOFF_CAP = timedelta(hours=1)
RESPONSE_MAX = 500
# Someone is waiting on these (an official for the one-time code, a parent unit for a lockout
# or an overdue approval): they go before result notices and stage-closed mail.
URGENT_KINDS = ("approval_request", "lockout", "escalation")


def backoff(attempts: int) -> timedelta:
    """Wait before the next try after `attempts` failed tries: 30 s, 2 min, 8 min, 32 min, 1 h."""
    seconds = BACKOFF_FIRST.total_seconds() * BACKOFF_FACTOR ** min(max(attempts - 1, 0), 16)
    return min(timedelta(seconds=seconds), BACKOFF_CAP)


def _due(now: datetime):
    return or_(Message.next_attempt_at.is_(None), Message.next_attempt_at <= as_utc(now))


def due_ids(session: Session, now: datetime, *, limit: int | None = None,
            campaign_id: int | None = None) -> list[int]:
    """Return the ids of messages that may be tried now: urgent kinds first, then oldest first."""
    urgent = case((Message.kind.in_(URGENT_KINDS), 0), else_=1)
    query = (select(Message.id).where(Message.status.in_(("pending", "sending")), _due(now))
             .order_by(urgent, Message.id))
    if campaign_id is not None:
        query = query.where(Message.campaign_id == campaign_id)
    if limit is not None:
        query = query.limit(limit)
    return list(session.exec(query))


def claim(session: Session, pk: int, now: datetime, lease: timedelta = LEASE) -> int | None:
    """Mark a due row `sending` until the lease ends; return the attempt number, or None if taken."""
    result = session.exec(
        update(Message)
        .where(Message.id == pk, Message.status.in_(("pending", "sending")), _due(now))
        .values(status="sending", attempts=Message.attempts + 1,
                next_attempt_at=as_utc(now) + lease)
    )
    if result.rowcount != 1:
        return None
    return session.exec(select(Message.attempts).where(Message.id == pk)).one()


def _mark(session: Session, pk: int, attempt: int, **values) -> bool:
    result = session.exec(
        update(Message)
        .where(Message.id == pk, Message.status == "sending", Message.attempts == attempt)
        .values(**values)
    )
    return result.rowcount == 1


def mark_sent(session: Session, pk: int, attempt: int, now: datetime, response: str) -> bool:
    """Record the server's acceptance of a claimed row."""
    return _mark(session, pk, attempt, status="sent", sent_at=as_utc(now), next_attempt_at=None,
                 smtp_response=response[:RESPONSE_MAX], last_error=None)


def mark_failed(session: Session, pk: int, attempt: int, error: str,
                response: str | None = None) -> bool:
    """Record a permanent refusal (e.g. 550 on the recipient); the row is not tried again."""
    return _mark(session, pk, attempt, status="failed", next_attempt_at=None, last_error=error,
                 smtp_response=None if response is None else response[:RESPONSE_MAX])


def mark_deferred(session: Session, pk: int, attempt: int, now: datetime, error: str,
                  response: str | None = None) -> bool:
    """Put a claimed row back to `pending`, to be tried again after the back-off."""
    return _mark(session, pk, attempt, status="pending", last_error=error,
                 next_attempt_at=as_utc(now) + backoff(attempt),
                 smtp_response=None if response is None else response[:RESPONSE_MAX])


def defer_unclaimed(session: Session, ids: list[int], now: datetime, error: str) -> int:
    """Count a failed connection as an attempt of each due row; return how many were deferred."""
    deferred = 0
    for pk in ids:
        attempt = claim(session, pk, now)
        if attempt is not None and mark_deferred(session, pk, attempt, now, error):
            deferred += 1
    return deferred


def status_counts(session: Session, campaign_id: int | None = None) -> dict[str, int]:
    """Return the number of messages in each state."""
    query = select(Message.status, func.count()).group_by(Message.status)
    if campaign_id is not None:
        query = query.where(Message.campaign_id == campaign_id)
    return dict(session.exec(query).all())


def list_messages(session: Session, *, status: str | None = None, kind: str | None = None,
                  campaign_id: int | None = None, recipient: str | None = None,
                  limit: int | None = 200) -> list[Message]:
    """Return messages, newest first, filtered by state, kind, campaign and recipient."""
    query = select(Message).order_by(Message.id.desc())
    for column, value in ((Message.status, status), (Message.kind, kind),
                          (Message.campaign_id, campaign_id), (Message.recipient, recipient)):
        if value is not None:
            query = query.where(column == value)
    if limit is not None:
        query = query.limit(limit)
    return list(session.exec(query))

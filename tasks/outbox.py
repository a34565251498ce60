"""The outbox: queue messages in the caller's transaction, deliver them at least once.

Queueing. `enqueue` inserts a row with `INSERT ... ON CONFLICT (key) DO NOTHING` in the
caller's transaction, so a message exists exactly when the state change that caused it
was committed, and a re-run (same key) queues nothing new.

Delivery guarantee: at least once, with de-duplication by Message-ID. A deliverer first
claims a due row in its own committed transaction (`status = sending`, lease of five
minutes in `next_attempt_at`), then runs the SMTP transaction, then marks the row `sent`
(with the server's answer), `failed` (a 5xx refusal, never retried) or back to `pending`
(a 4xx answer or no connection, retried after 30 s, 2 min, 8 min ... at most hourly).
Two deliverers never send the same row at the same time: the claim is one conditional
UPDATE. If a deliverer dies between the server's acceptance and the `sent` mark, the row
stays `sending`; when its lease runs out the next run sends it again with the *same*
Message-ID (derived from the key) and the same Date, so the receiving side can discard the
copy. Only a message the server had accepted and that was not yet marked at the moment of
a crash can arrive twice, and then as the identical message; a crash between messages
(after a mark, before the next acceptance) duplicates nothing; no message is ever lost.
"""

import hashlib
import logging
from datetime import timedelta

from pydantic import BaseModel
from sqlalchemy.dialects import postgresql, sqlite
from sqlmodel import Session

from core.clock import real_now
from core.db import session_scope
from core.errors import TuijianError
from core.settings import get_settings
from models import Message
from tasks import outbox_state as state
from tasks import smtp
from tasks.mime import build_email, sender_address


def message_id_for(key: str, sender: str) -> str:
    """Return the deterministic Message-ID of a key: the same key always gives the same id."""
    domain = sender_address(sender)[1].rpartition("@")[2] or "localhost"
    return f"<{hashlib.sha256(key.encode()).hexdigest()[:40]}@{domain}>"


def enqueue(session: Session, *, key: str, kind: str, recipient: str, subject: str,
            body_text: str, body_html: str | None = None, recipient_name: str | None = None,
            attachments: list[dict] | None = None, campaign_id: int | None = None) -> Message | None:
    """Queue one message in the caller's transaction; return it, or None if the key exists."""
    values = {
        "key": key, "kind": kind, "recipient": recipient, "recipient_name": recipient_name,
        "subject": subject, "body_text": body_text, "body_html": body_html,
        "attachments": attachments or [], "campaign_id": campaign_id, "status": "pending",
        "attempts": 0, "message_id": message_id_for(key, get_settings().smtp_sender),
        "created_at": real_now(),
    }
    dialect = postgresql if session.get_bind().dialect.name == "postgresql" else sqlite
    statement = (dialect.insert(Message).values(**values)
                 .on_conflict_do_nothing(index_elements=["key"]).returning(Message))
    return session.scalars(statement).one_or_none()  # the new row as an object, without reading it back


class DeliveryReport(BaseModel):
    """What one delivery run did, and how many messages are still waiting."""

    sent: int = 0
    failed: int = 0
    deferred: int = 0
    pending: int = 0
    errors: list[str] = []

    @property
    def tried(self) -> int:
        """Messages this run took a turn at (sent, refused or put back)."""
        return self.sent + self.failed + self.deferred

    def add(self, outcome: smtp.Outcome) -> None:
        """Count one message's outcome."""
        setattr(self, outcome.status, getattr(self, outcome.status) + 1)
        if outcome.error:
            self.errors.append(outcome.error)


async def deliver_pending(*, limit: int | None = None, campaign_id: int | None = None,
                          lease: timedelta = state.LEASE) -> DeliveryReport:
    """Send every due message over one SMTP connection and report sent/failed/pending."""
    settings = get_settings()
    with session_scope() as session:
        ids = state.due_ids(session, real_now(), limit=limit, campaign_id=campaign_id)
    report = DeliveryReport()
    if ids:
        await _deliver(ids, report, lease)
    with session_scope() as session:
        counts = state.status_counts(session, campaign_id)
    report.pending = counts.get("pending", 0) + counts.get("sending", 0)
    _log_report(report, settings.smtp_host)
    return report


async def _deliver(ids: list[int], report: DeliveryReport, lease: timedelta) -> None:
    settings = get_settings()
    try:
        client = await smtp.connect(settings)
    except (smtp.aiosmtplib.SMTPException, OSError) as exc:
        error = smtp.describe(exc)
        with session_scope() as session:
            report.deferred += state.defer_unclaimed(session, ids, real_now(), error)
        report.errors.append(error)
        return
    try:
        for pk in ids:
            outcome = await _deliver_one(client, pk, lease)
            if outcome is not None:
                report.add(outcome)
            if outcome is not None and outcome.connection_lost:
                break
    finally:
        await smtp.close(client)


async def _deliver_one(client: smtp.aiosmtplib.SMTP, pk: int, lease: timedelta) -> smtp.Outcome | None:
    """Claim, send and mark one row; None when another deliverer holds it."""
    sender = get_settings().smtp_sender
    with session_scope() as session:
        attempt = state.claim(session, pk, real_now(), lease)
        if attempt is None:
            return None
        row = session.get(Message, pk)
        try:
            mail = build_email(row, sender)
        except TuijianError as exc:
            state.mark_failed(session, pk, attempt, f"{exc.zh} / {exc.en}")
            return smtp.Outcome("failed", error=f"{exc.zh} / {exc.en}")
        recipient = row.recipient
    outcome = await smtp.send(client, mail, sender=sender_address(sender)[1], recipient=recipient)
    _record(pk, attempt, outcome)
    return outcome


def _record(pk: int, attempt: int, outcome: smtp.Outcome) -> None:
    now = real_now()
    with session_scope() as session:
        if outcome.status == "sent":
            state.mark_sent(session, pk, attempt, now, outcome.response or "")
        elif outcome.status == "failed":
            state.mark_failed(session, pk, attempt, outcome.error or "", outcome.response)
        else:
            state.mark_deferred(session, pk, attempt, now, outcome.error or "", outcome.response)


def _log_report(report: DeliveryReport, host: str) -> None:
    from prefect.exceptions import MissingContextError
    from prefect.logging import get_logger, get_run_logger

    try:
        logger = get_run_logger()
    except MissingContextError:
        logger = get_logger("tuijian.outbox")
    # A deliverer that polls logs its empty rounds at DEBUG: each INFO line is a write to the Prefect API.
    logger.log(logging.INFO if report.tried else logging.DEBUG, "mail via %s: %d sent, %d failed, %d deferred, %d pending",
               host, report.sent, report.failed, report.deferred, report.pending)
    for error in report.errors:
        logger.warning("%s", error)

"""The outbox: idempotent queueing, claims with a lease, delivery over real SMTP (and TLS)."""

import asyncio
from datetime import timedelta

import pytest

from core.clock import real_now
from core.db import session_scope
from core.settings import get_settings
from models import Message
from tasks import outbox_state as state
from tasks.outbox import deliver_pending, enqueue, message_id_for
from tests.support import databases, smtp
from tests.support.smtp_tls import self_signed
from tests.tasks.outbox_factories import messages


def _queue(n: int, prefix: str = "t") -> None:
    with session_scope() as s:
        for i in range(n):
            enqueue(s, key=f"{prefix}:{i}", kind="test", recipient=f"r{i}@example.org",
                    recipient_name=f"收件人{i}", subject=f"测试邮件 {i} / test {i}",
                    body_text=f"正文 {i}", body_html=f"<p>正文 {i}</p>")


def test_backoff_grows_and_is_capped():
    assert [state.backoff(n).total_seconds() for n in (1, 2, 3, 4)] == [30, 120, 480, 1920]
    assert state.backoff(5) == state.backoff(50) == timedelta(hours=1)


def test_message_id_is_deterministic_per_key():
    a = message_id_for("stage:1:x", "tuijian@gov.example")
    assert a == message_id_for("stage:1:x", "推荐系统 <tuijian@gov.example>")
    assert a != message_id_for("stage:1:y", "tuijian@gov.example")
    assert a.startswith("<") and a.endswith("@gov.example>")


def test_enqueue_twice_with_one_key_queues_once(db):
    with session_scope() as s:
        first = enqueue(s, key="k1", kind="test", recipient="a@example.org", subject="主题",
                        body_text="正文")
        again = enqueue(s, key="k1", kind="test", recipient="b@example.org", subject="另一个",
                        body_text="另一个")
        assert first is not None and again is None
    with session_scope() as s:
        rows = messages(s)
        assert [(m.key, m.recipient, m.status) for m in rows] == [("k1", "a@example.org", "pending")]


def test_urgent_mail_goes_first_then_oldest_first(db):
    _queue(3, "notice")
    with session_scope() as s:
        enqueue(s, key="code", kind="approval_request", recipient="official@example.org", subject="审批码",
                body_text="码")
        enqueue(s, key="late", kind="test", recipient="r@example.org", subject="后来的", body_text="正文")
    with session_scope() as s:
        keys = {m.id: m.key for m in messages(s)}
        order = [keys[i] for i in state.due_ids(s, real_now())]
        assert order == ["code", "notice:0", "notice:1", "notice:2", "late"]
        assert [keys[i] for i in state.due_ids(s, real_now(), limit=2)] == ["code", "notice:0"]


def test_a_claim_excludes_others_until_its_lease_ends(db):
    _queue(1)
    now = real_now()
    with session_scope() as s:
        pk = messages(s)[0].id
        assert state.claim(s, pk, now) == 1
        assert state.claim(s, pk, now + timedelta(minutes=4)) is None
        assert state.due_ids(s, now) == []
        assert state.claim(s, pk, now + state.LEASE) == 2  # lease over: re-claimed
        assert state.mark_sent(s, pk, 1, now, "250 late") is False  # the first claimant lost it
        assert state.mark_sent(s, pk, 2, now, "250 OK") is True
    with session_scope() as s:
        row = s.get(Message, pk)
        assert (row.status, row.attempts, row.smtp_response) == ("sent", 2, "250 OK")


def test_deliver_pending_sends_each_message_and_records_the_answer(db, smtp_server):
    _queue(3)
    report = asyncio.run(deliver_pending())
    assert (report.sent, report.failed, report.pending) == (3, 0, 0)
    assert sorted(r.rcpt_tos[0] for r in smtp_server.messages) == [f"r{i}@example.org" for i in range(3)]
    with session_scope() as s:
        rows = messages(s)
        assert {m.status for m in rows} == {"sent"}
        assert all("accepted" in m.smtp_response for m in rows)
        ids = {m.message_id for m in rows}
    assert {r.message["Message-ID"] for r in smtp_server.messages} == ids
    assert asyncio.run(deliver_pending()).sent == 0


def test_two_deliverers_at_once_never_send_a_row_twice(db, smtp_server):
    _queue(8)

    async def both():
        return await asyncio.gather(deliver_pending(), deliver_pending())

    first, second = asyncio.run(both())
    assert first.sent + second.sent == 8
    assert sorted(r.rcpt_tos[0] for r in smtp_server.messages) == sorted(
        f"r{i}@example.org" for i in range(8))


def test_limit_and_campaign_filter(db, smtp_server):
    _queue(3)
    assert asyncio.run(deliver_pending(limit=2)).sent == 2
    assert asyncio.run(deliver_pending(campaign_id=999)).sent == 0
    assert asyncio.run(deliver_pending()).sent == 1


@pytest.fixture
def tls_files(tmp_path, monkeypatch):
    cert, key = self_signed(tmp_path)
    monkeypatch.setenv("SSL_CERT_FILE", cert)  # the client trusts our test certificate
    return cert, key


@pytest.mark.parametrize("security", ["starttls", "tls"])
def test_delivery_over_tls_with_login(sqlite_db, tls_files, monkeypatch, security):
    with smtp.running(security=security, cert=tls_files, login=("tuijian", "s3cret")) as server:
        for name, value in {"SMTP_PORT": server.port, "SMTP_SECURITY": security,
                            "SMTP_USERNAME": "tuijian", "SMTP_PASSWORD": "s3cret"}.items():
            monkeypatch.setenv(f"TUIJIAN_{name}", str(value))
        get_settings.cache_clear()
        _queue(2)
        report = asyncio.run(deliver_pending())
        assert (report.sent, report.deferred) == (2, 0)
        assert len(server.messages) == 2
        monkeypatch.setenv("TUIJIAN_SMTP_PASSWORD", "wrong")
        get_settings.cache_clear()
        _queue(1, prefix="bad")
        refused = asyncio.run(deliver_pending())
        assert (refused.sent, refused.deferred, refused.pending) == (0, 1, 1)
        assert "SMTPAuthenticationError" in refused.errors[0]
    get_settings.cache_clear()


@pytest.mark.prefect
def test_password_from_a_prefect_secret_block(sqlite_db, prefect_server, tls_files, monkeypatch):
    from prefect.blocks.system import Secret

    Secret(value="from-block").save("tuijian-smtp-test", overwrite=True)
    with smtp.running(security="starttls", cert=tls_files, login=("tuijian", "from-block")) as server:
        for name, value in {"SMTP_PORT": server.port, "SMTP_SECURITY": "starttls",
                            "SMTP_USERNAME": "tuijian",
                            "SMTP_PASSWORD_BLOCK": "tuijian-smtp-test"}.items():
            monkeypatch.setenv(f"TUIJIAN_{name}", str(value))
        monkeypatch.delenv("TUIJIAN_SMTP_PASSWORD", raising=False)
        get_settings.cache_clear()
        _queue(1)
        assert asyncio.run(deliver_pending()).sent == 1
        assert len(server.messages) == 1
    get_settings.cache_clear()


def test_postgres_and_sqlite_agree_on_due_rows(db):
    _queue(2)
    later = real_now() + timedelta(hours=2)
    with session_scope() as s:
        first, second = (m.id for m in messages(s))
        attempt = state.claim(s, first, real_now())
        state.mark_deferred(s, first, attempt, real_now(), "421 try later")
        assert state.due_ids(s, real_now()) == [second]
        assert state.due_ids(s, later) == [first, second]
        assert state.status_counts(s) == {"pending": 2}
    databases.dispose(db)


def test_outbox_show_previews_one_message_as_plain_text(sqlite_db):
    from typer.testing import CliRunner

    from cli.main import app

    _queue(1)
    with session_scope() as s:
        pk = messages(s)[0].id
    shown = CliRunner().invoke(app, ["outbox", "show", str(pk)])
    assert shown.exit_code == 0, shown.output
    assert "Subject: 测试邮件 0 / test 0" in shown.output and "正文 0" in shown.output
    missing = CliRunner().invoke(app, ["outbox", "show", "999"])
    assert missing.exit_code == 1 and "no message #999" in missing.output

"""The deliver_mail flow: delivers through Prefect; a relay outage raises for a retry later."""

import asyncio

import pytest

from core.db import session_scope
from core.settings import get_settings
from flows.deliver_mail import DeliveryPostponed, deliver_batch, deliver_mail
from tasks.outbox import enqueue
from tests.support import smtp
from tests.tasks.outbox_factories import messages


def _queue(n: int) -> None:
    with session_scope() as s:
        for i in range(n):
            enqueue(s, key=f"flow:{i}", kind="test", recipient=f"f{i}@example.org",
                    subject=f"流程邮件 {i}", body_text="正文")


@pytest.mark.prefect
def test_the_flow_delivers_pending_mail(sqlite_db, prefect_server, smtp_server):
    _queue(3)
    report = asyncio.run(deliver_mail())
    assert (report.sent, report.pending) == (3, 0)
    assert sorted(r.rcpt_tos[0] for r in smtp_server.messages) == [f"f{i}@example.org" for i in range(3)]


def test_an_outage_raises_so_that_prefect_retries(sqlite_db, monkeypatch):
    monkeypatch.setenv("TUIJIAN_SMTP_PORT", str(smtp.free_port()))
    get_settings.cache_clear()
    _queue(2)
    with pytest.raises(DeliveryPostponed) as raised:
        asyncio.run(deliver_batch.fn())
    assert "稍后重试" in raised.value.zh and raised.value.context["report"]["pending"] == 2
    with session_scope() as s:
        assert {m.status for m in messages(s)} == {"pending"}
    get_settings.cache_clear()

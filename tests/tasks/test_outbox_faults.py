"""Faults: the relay down for a while, one recipient refused, the deliverer killed mid-batch.

The guarantee under test (tasks/outbox.py): no message is lost; a message may reach the
server twice only if the deliverer died inside that message's SMTP exchange (accepted by
the server, not yet marked sent), and then both copies carry the same Message-ID (and
Date, subject, body). A deliverer killed between messages causes no duplicate at all.
"""

import asyncio
import json
import os
import signal
import subprocess
import sys
import threading
from datetime import timedelta
from pathlib import Path

from typer.testing import CliRunner

from cli.main import app
from core.clock import real_now
from core.db import session_scope
from core.settings import get_settings
from tasks.outbox import deliver_pending, enqueue
from tests.conftest import ROOT
from tests.support import smtp
from tests.tasks.outbox_factories import by_message_id, messages

TUIJIAN = str(Path(sys.executable).parent / "tuijian")


def _queue(n: int) -> None:
    with session_scope() as s:
        for i in range(n):
            enqueue(s, key=f"fault:{i}", kind="test", recipient=f"r{i}@example.org",
                    subject=f"第{i}封 / message {i}", body_text=f"正文 {i}")


def _later(minutes: int) -> str:
    return (real_now() + timedelta(minutes=minutes)).isoformat()


def test_an_outage_keeps_messages_pending_then_each_goes_out_once(db, monkeypatch):
    port = smtp.free_port()
    monkeypatch.setenv("TUIJIAN_SMTP_PORT", str(port))
    get_settings.cache_clear()
    _queue(4)
    down = asyncio.run(deliver_pending())
    assert (down.sent, down.deferred, down.pending) == (0, 4, 4)
    assert asyncio.run(deliver_pending()).deferred == 0  # backing off: nothing due yet
    with session_scope() as s:
        rows = messages(s)
        assert {(m.status, m.attempts) for m in rows} == {("pending", 1)}
        assert all("稍后重试" in m.last_error for m in rows)
    with smtp.running(port) as server:
        monkeypatch.setenv("TUIJIAN_NOW", _later(1))
        back = asyncio.run(deliver_pending())
        assert (back.sent, back.pending) == (4, 0)
        assert asyncio.run(deliver_pending()).sent == 0
        assert sorted(r.rcpt_tos[0] for r in server.messages) == [f"r{i}@example.org" for i in range(4)]
    get_settings.cache_clear()


def test_a_refused_recipient_fails_alone_and_the_outbox_shows_it(db, smtp_server):
    smtp_server.recorder.refuse = {"r1@example.org"}
    smtp_server.recorder.busy = {"r2@example.org"}
    _queue(4)
    report = asyncio.run(deliver_pending())
    assert (report.sent, report.failed, report.deferred, report.pending) == (2, 1, 1, 1)
    assert sorted(r.rcpt_tos[0] for r in smtp_server.messages) == ["r0@example.org", "r3@example.org"]
    listing = CliRunner().invoke(app, ["outbox", "--status", "failed", "--json"])
    assert listing.exit_code == 0, listing.output
    [failed] = json.loads(listing.output)["messages"]
    assert failed["recipient"] == "r1@example.org" and failed["smtp_response"].startswith("550")
    table = CliRunner().invoke(app, ["outbox"])
    assert "failed" in table.output and "550" in table.output and "451" in table.output
    with session_scope() as s:
        busy = messages(s, recipient="r2@example.org")[0]
        assert busy.status == "pending" and busy.smtp_response.startswith("451")
    assert asyncio.run(deliver_pending()).sent == 0  # failed is final; busy waits its back-off


def _send(env: dict) -> subprocess.CompletedProcess:
    return subprocess.run([TUIJIAN, "mail", "send"], cwd=ROOT, env=env, capture_output=True,
                          text=True, timeout=120)


def _kill_deliverer_when_three_arrived(smtp_server, hook: str) -> None:
    """Run `tuijian mail send` and SIGKILL it from the server's `hook` ("on_data": a message's
    data is in, before the 250; "on_mail": the next message begins) once 3 messages arrived."""
    started, holder = threading.Event(), {}

    def kill(_event) -> None:
        if len(smtp_server.messages) == 3:
            started.wait(60)
            holder["proc"].send_signal(signal.SIGKILL)
            holder["proc"].wait(60)

    setattr(smtp_server.recorder, hook, kill)
    holder["proc"] = subprocess.Popen([TUIJIAN, "mail", "send"], cwd=ROOT, env=dict(os.environ),
                                      stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    started.set()
    try:
        assert holder["proc"].wait(120) == -signal.SIGKILL
    finally:
        setattr(smtp_server.recorder, hook, None)


def test_a_deliverer_killed_mid_batch_loses_nothing(db, smtp_server):
    _queue(6)
    _kill_deliverer_when_three_arrived(smtp_server, "on_data")  # the 3rd message is in; no 250 yet
    with session_scope() as s:
        assert [m.status for m in messages(s)] == ["sent", "sent", "sending", "pending", "pending", "pending"]
        in_flight = messages(s)[2].message_id

    assert _send(dict(os.environ)).returncode == 0  # restart while the lease holds
    assert len(smtp_server.messages) == 6
    assert _send({**os.environ, "TUIJIAN_NOW": _later(6)}).returncode == 0  # lease over
    with session_scope() as s:
        assert {m.status for m in messages(s)} == {"sent"}
        assert messages(s)[2].attempts == 2

    copies = by_message_id(smtp_server.messages)
    assert len(copies) == 6  # every message arrived
    assert {mid: len(c) for mid, c in copies.items() if len(c) > 1} == {in_flight: 2}
    first, second = (r.message for r in copies[in_flight])
    for header in ("Subject", "Date", "To", "From"):
        assert first[header] == second[header]
    assert first.get_content() == second.get_content()


def test_a_deliverer_killed_between_messages_sends_none_twice(db, smtp_server):
    _queue(6)
    _kill_deliverer_when_three_arrived(smtp_server, "on_mail")  # the 3rd accepted and marked; the 4th starts
    with session_scope() as s:  # the 4th was claimed, never sent
        assert [m.status for m in messages(s)] == ["sent", "sent", "sent", "sending", "pending", "pending"]

    assert _send(dict(os.environ)).returncode == 0  # restart while the lease holds
    assert len(smtp_server.messages) == 5
    assert _send({**os.environ, "TUIJIAN_NOW": _later(6)}).returncode == 0  # lease over
    with session_scope() as s:
        assert {m.status for m in messages(s)} == {"sent"}
        assert [m.attempts for m in messages(s)] == [1, 1, 1, 2, 1, 1]
    copies = by_message_id(smtp_server.messages)
    assert len(copies) == len(smtp_server.messages) == 6  # every message, none twice

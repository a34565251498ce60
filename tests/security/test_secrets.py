"""No secret where it does not belong.

- The one-time approval code: not in the stage run's parameters, its task runs (inputs, cache
  keys, states, results), its logs, artifacts, flow run inputs (the official's answer is deleted
  from Prefect once recorded, accepted or refused) or persisted results, nor in any table other
  than the outbox's approval request (whose mail is the only place it is meant to be).
- The database password: masked in the settings' repr, never in a stage run's log or in what
  Prefect keeps of the run (parameters included).
- The SMTP password: only from the environment (or a Prefect Secret block: see
  tests/tasks/test_outbox.py::test_password_from_a_prefect_secret_block); never shown by the
  settings, never logged, never stored, even when the server refuses it.
- The repository holds no obvious secret (private keys, cloud keys, passwords in code or URLs).
- The dashboard binds to 127.0.0.1 unless told otherwise.
"""

import asyncio
import logging
import re
import secrets
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
from prefect.settings import PREFECT_LOCAL_STORAGE_PATH
from sqlmodel import select

from core.db import session_scope
from core.settings import Settings, get_settings
from models import AuditLog
from tasks.outbox import deliver_pending, enqueue
from tests.conftest import ROOT
from tests.support import databases, smtp
from tests.support.people import Answer, default_answer, mailed_code
from tests.support.prefect_traces import everything_prefect_keeps
from tests.support.stage_runs import run_stage
from tests.support.stage_state import tables_containing
from tests.support.world import Worlds, prepare_campaign


@pytest.fixture
def world(sqlite_db, tmp_path, prefect_server):
    """A copy of the prepared mini campaign for a stage run in its own process."""
    prepare_campaign(tmp_path)
    databases.dispose(sqlite_db)
    worlds = Worlds(sqlite_db, tmp_path)
    yield worlds.make("secrets")
    worlds.close()


def wrong_official_first() -> Answer:
    """The official's code typed under another unit's official id first (refused, the code not
    burnt), then the right answer."""
    tried: list[str] = []

    def answer(world, kind: str) -> dict | None:
        if kind == "approval" and not tried:
            tried.append(kind)
            return {"official": "c1-off", "code": world.approval_code("c2-off")}
        return default_answer(world, kind)

    return answer


@pytest.mark.prefect
def test_the_approval_code_stays_out_of_prefect_and_out_of_the_database(world):
    code, log = run_stage(world, answer=wrong_official_first(), PREFECT_LOGGING_LEVEL="DEBUG")  # logs all
    assert code == 0, log
    code = mailed_code(world.smtp.messages, "c2-off@example.org")
    kept = everything_prefect_keeps(world.claimed_run())
    assert "record_approval" in kept and "approval-r0" in kept  # we did read the approval's traces
    assert '"level":20' in kept  # and the run's INFO logs
    assert "paused-approval-r0-i1-schema" in kept  # and the run's inputs, up to the second wait
    with world.session() as s:
        refused = s.exec(select(AuditLog).where(AuditLog.action == "approval.refused.wrong_official")).all()
    assert [r.actor for r in refused] == ["c1-off"]  # the refusal happened, with the live code
    assert code not in kept and code not in log
    storage = Path(PREFECT_LOCAL_STORAGE_PATH.value())
    persisted = [p for p in storage.rglob("*") if p.is_file() and code.encode() in p.read_bytes()] \
        if storage.exists() else []
    assert persisted == []
    assert tables_containing(world.url, code) == {"message.body_text", "message.body_html"}


DB_PASSWORD = "pw-" + secrets.token_hex(8)  # PostgreSQL trusts 127.0.0.1 here, so any password connects


def test_the_database_password_is_masked_in_the_settings(monkeypatch):
    url = "postgresql+psycopg://postgres" + f":{DB_PASSWORD}@127.0.0.1:5432/tuijian"  # built, not written out
    monkeypatch.setenv("TUIJIAN_DATABASE_URL", url)
    settings = Settings()
    assert settings.db_url == url  # the engine still gets it whole
    shown = f"{settings!r} {settings} {settings.model_dump_json()} {settings.model_dump()}"
    assert DB_PASSWORD not in shown
    assert "postgres:***@127.0.0.1:5432/tuijian" in repr(settings)  # masked, still useful


@pytest.mark.postgres
@pytest.mark.prefect
def test_the_database_password_stays_out_of_the_stage_log_and_prefect(postgres_db, tmp_path, prefect_server):
    prepare_campaign(tmp_path)
    databases.dispose(postgres_db)
    worlds = Worlds(postgres_db, tmp_path)
    try:
        world = worlds.make("dbpw")
        world.url = world.url.replace("postgres@", f"postgres:{DB_PASSWORD}@")
        code, log = run_stage(world, PREFECT_LOGGING_LEVEL="DEBUG")
        assert code == 0, log
        kept = everything_prefect_keeps(world.claimed_run())
        assert '"parameters":{"campaign":"mini-test"' in kept.replace(" ", "")  # we read the parameters
        assert DB_PASSWORD not in log and DB_PASSWORD not in kept
        full_log = "".join(p.read_text(errors="replace") for p in world.home.glob("flow-process-*.log"))
        assert full_log and DB_PASSWORD not in full_log
    finally:
        worlds.close()


PASSWORD = secrets.token_urlsafe(12) + "-密码"  # a fresh one each run, never in the repository


@pytest.mark.filterwarnings("ignore:Requiring AUTH while not requiring TLS")
def test_the_smtp_password_is_never_shown_logged_or_stored(sqlite_db, monkeypatch, caplog):
    caplog.set_level(logging.DEBUG)
    with smtp.running(login=("tuijian", PASSWORD)) as server:
        for name, value in {"SMTP_PORT": server.port, "SMTP_SECURITY": "none", "SMTP_USERNAME": "tuijian",
                            "SMTP_PASSWORD": PASSWORD}.items():
            monkeypatch.setenv(f"TUIJIAN_{name}", str(value))
        get_settings.cache_clear()
        settings = get_settings()
        assert PASSWORD not in f"{settings!r} {settings} {settings.model_dump_json()}"
        with session_scope() as s:
            enqueue(s, key="secret:1", kind="test", recipient="a@example.org", subject="s", body_text="b")
        assert asyncio.run(deliver_pending()).sent == 1
        monkeypatch.setenv("TUIJIAN_SMTP_PASSWORD", PASSWORD + "-wrong")
        get_settings.cache_clear()
        with session_scope() as s:
            enqueue(s, key="secret:2", kind="test", recipient="a@example.org", subject="s", body_text="b")
        refused = asyncio.run(deliver_pending())
    get_settings.cache_clear()
    assert refused.deferred == 1 and "Authentication" in refused.errors[0]
    assert PASSWORD not in caplog.text and PASSWORD not in " ".join(refused.errors)
    assert tables_containing(sqlite_db, PASSWORD) == set()


SECRET_PATTERNS = {
    "private key": re.compile(r"-----BEGIN [A-Z ]*PRIVATE KEY-----"),
    "AWS key": re.compile(r"AKIA[0-9A-Z]{16}"),
    "password in a URL": re.compile(r"[a-z+]+://[^/\s:@\"']+:[^/\s@\"']+@"),
    "password in code": re.compile(r"(?i)\b(smtp_)?(password|passwd|secret|token|api_key)\s*[:=]\s*[\"'][^\"'\s]{4,}[\"']"),
}


def test_the_repository_holds_no_obvious_secret():
    files = subprocess.run(["git", "ls-files", "-z"], cwd=ROOT, capture_output=True, check=True).stdout
    found = []
    for name in filter(None, files.decode().split("\0")):
        path = ROOT / name
        if not path.is_file() or path.stat().st_size > 2_000_000:
            continue
        text = path.read_bytes().decode("utf-8", errors="ignore")
        found += [f"{name}: {what}" for what, pattern in SECRET_PATTERNS.items() if pattern.search(text)]
    assert found == []
    assert not [n for n in files.decode().split("\0") if Path(n).name in (".env", ".pgpass", ".netrc")]


def test_the_dashboard_binds_to_localhost_by_default(sqlite_db, tmp_path):
    assert Settings().dashboard_host == "127.0.0.1"
    port = smtp.free_port()
    tuijian = str(Path(sys.executable).with_name("tuijian"))
    log = (tmp_path / "dashboard.log").open("w")
    proc = subprocess.Popen([tuijian, "dashboard", "--port", str(port)], cwd=ROOT, stdout=log,
                            stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + 60
        while not _listening(port):
            assert proc.poll() is None and time.monotonic() < deadline, (tmp_path / "dashboard.log").read_text()
            time.sleep(0.2)  # waiting for the server to come up; not a timing assertion
        assert _bound_addresses(port) == {"127.0.0.1"}
    finally:
        proc.terminate()
        proc.wait(30)
        log.close()


def _listening(port: int) -> bool:
    with socket.socket() as s:
        return s.connect_ex(("127.0.0.1", port)) == 0


def _bound_addresses(port: int) -> set[str]:
    """The local addresses listening on `port`, from /proc/net/tcp and tcp6."""
    found = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        for line in Path(table).read_text().splitlines()[1:]:
            local, state = line.split()[1], line.split()[3]
            address, hex_port = local.split(":")
            if state == "0A" and int(hex_port, 16) == port:  # 0A: LISTEN
                found.add(socket.inet_ntop(socket.AF_INET, bytes.fromhex(address)[::-1])
                          if len(address) == 8 else f"v6:{address}")
    return found

"""Shared test fixtures: real databases (SQLite file, PostgreSQL), one Prefect test server
for the session, a real SMTP server (aiosmtpd on 127.0.0.1), and loaded campaigns.

Every test that touches the database gets a fresh one: a copy of a migrated SQLite file,
or a PostgreSQL database cloned from a migrated template (`CREATE DATABASE ... TEMPLATE`).
"""

import os
import shutil
import uuid
from pathlib import Path

os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
os.environ.setdefault("DO_NOT_TRACK", "1")
os.environ.setdefault("PREFECT_LOGGING_LEVEL", "WARNING")

import pytest  # noqa: E402

from tests.support import databases, smtp  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
MINI_CAMPAIGN = ROOT / "tests" / "data" / "mini-campaign.toml"
CAMPAIGN_2023 = ROOT / "campaigns" / "2023-xinxi-xiaofei"


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("tpl") / "template.db"
    databases.migrate(f"sqlite:///{path}")
    return path


@pytest.fixture(scope="session")
def pg_template():
    name = f"tj_tpl_{os.getpid()}_{uuid.uuid4().hex[:6]}"
    databases.pg_create(name)
    databases.migrate(databases.pg_url(name))
    databases.dispose(databases.pg_url(name))
    yield name
    databases.pg_drop(name)


@pytest.fixture
def sqlite_db(sqlite_template, tmp_path, monkeypatch) -> str:
    path = tmp_path / "var" / "tuijian.db"
    path.parent.mkdir(parents=True, exist_ok=True)
    shutil.copy(sqlite_template, path)
    url = f"sqlite:///{path}"
    databases.use(monkeypatch, url, tmp_path)
    yield url
    databases.dispose(url)


@pytest.fixture
def postgres_db(pg_template, tmp_path, monkeypatch) -> str:
    name = f"tj_{os.getpid()}_{uuid.uuid4().hex[:8]}"
    databases.pg_create(name, template=pg_template)
    url = databases.pg_url(name)
    databases.use(monkeypatch, url, tmp_path)
    yield url
    databases.dispose(url)
    databases.pg_drop(name)


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def db(request) -> str:
    """A fresh database on each backend in turn (the URL; settings already point at it)."""
    return request.getfixturevalue(f"{request.param}_db")


@pytest.fixture
def mini_campaign(sqlite_db):
    """The small made-up campaign, installed in a fresh SQLite database."""
    return databases.install(MINI_CAMPAIGN)


@pytest.fixture
def campaign_2023(sqlite_db):
    """The 2023 campaign, installed in a fresh SQLite database."""
    return databases.install(CAMPAIGN_2023)


@pytest.fixture(scope="session")
def prefect_server():
    """One Prefect test server for the whole session."""
    from prefect.testing.utilities import prefect_test_harness

    with prefect_test_harness(server_startup_timeout=120):
        yield


@pytest.fixture
def smtp_server(monkeypatch):
    """A real SMTP server on 127.0.0.1 (random port); settings point at it."""
    with smtp.running() as server:
        monkeypatch.setenv("TUIJIAN_SMTP_HOST", "127.0.0.1")
        monkeypatch.setenv("TUIJIAN_SMTP_PORT", str(server.port))
        monkeypatch.setenv("TUIJIAN_SMTP_SECURITY", "none")
        from core.settings import get_settings

        get_settings.cache_clear()
        yield server
        get_settings.cache_clear()

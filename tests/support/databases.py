"""Real databases for tests: migrate, create/drop PostgreSQL databases, point settings at one."""

from pathlib import Path

import psycopg

PG_ADMIN = "postgresql://postgres@127.0.0.1:5432/postgres"


def pg_url(name: str) -> str:
    return f"postgresql+psycopg://postgres@127.0.0.1:5432/{name}"


def pg_create(name: str, template: str | None = None) -> None:
    with psycopg.connect(PG_ADMIN, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"' + (f' TEMPLATE "{template}"' if template else ""))


def pg_drop(name: str) -> None:
    with psycopg.connect(PG_ADMIN, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def migrate(url: str) -> None:
    from core.db import init_db

    init_db(url)


def dispose(url: str) -> None:
    from core.db import engine_for, normalise_url

    engine_for(normalise_url(url)).dispose()
    engine_for.cache_clear()


def use(monkeypatch, url: str, home: Path) -> None:
    """Point tuijian's settings at a database and a home folder for var/ and out/."""
    from core.settings import get_settings

    monkeypatch.setenv("TUIJIAN_DATABASE_URL", url)
    monkeypatch.setenv("TUIJIAN_HOME", str(home))
    get_settings.cache_clear()


def install(path: Path) -> str:
    """Install a campaign file into the configured database; return its slug."""
    from core.db import session_scope
    from tasks.campaigns import load_and_install

    with session_scope() as session:
        return load_and_install(session, path).slug


def install_mini_with_ministry_minimum(tmp_path: Path, min_score: int = 60) -> None:
    """Install the mini campaign with a minimum score for the ministry's experience centres."""
    from tests.conftest import MINI_CAMPAIGN

    text = MINI_CAMPAIGN.read_text()
    marker = 'child_quotas = { experience_centre = { base = 2 } }\n'
    assert text.count(marker) == 1
    path = tmp_path / "campaign.toml"
    path.write_text(text.replace(marker, marker + f'quotas = {{ experience_centre = {{ min_score = {min_score} }} }}\n'))
    install(path)

"""The schema is owned by alembic: the migrations build exactly the models, and an older
database upgrades cleanly with its data intact."""

import hashlib
import uuid
from pathlib import Path

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import create_engine, inspect, text
from sqlmodel import SQLModel

import models  # noqa: F401  (registers every table)
from core.db import alembic_config, normalise_url
from tests.support import databases

VERSIONS = Path(__file__).resolve().parents[2] / "models" / "migrations" / "versions"
# Released revisions, pinned byte for byte: a released revision is never rewritten (a database
# already at it would silently miss the change); a schema change comes as a new revision.
RELEASED = {
    "0001_initial_schema.py": "a3b3c9f5534784e105544a647f234a8dc9701c52b29a7783bb7d40bed65d2b97",
    "0002_audit_append_only.py": "42470adf832a161defcb6f8453b6cc66f01d27f4a4592556580d68aa76416968",
    "0003_letter_numbers_scans_wall_clock.py": "d5aba8bd033934e1670593cdbcfa2ec5bab26efd01ccd8ed10b7b9b8fd981646",
}


def test_released_revisions_are_never_rewritten():
    actual = {name: hashlib.sha256((VERSIONS / name).read_bytes()).hexdigest() for name in RELEASED}
    assert actual == RELEASED
    revisions = sorted(p.name[:4] for p in VERSIONS.glob("[0-9][0-9][0-9][0-9]_*.py"))
    assert revisions == [f"{n:04d}" for n in range(1, len(revisions) + 1)], "one revision per number, none missing"


def test_migrations_build_exactly_the_models(db):
    engine = create_engine(normalise_url(db))
    with engine.connect() as conn:
        diffs = compare_metadata(MigrationContext.configure(conn), SQLModel.metadata)
    engine.dispose()
    assert diffs == []


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def empty_url(request, tmp_path):
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'old.db'}"
        return
    name = f"tj_mig_{uuid.uuid4().hex[:8]}"
    databases.pg_create(name)
    yield databases.pg_url(name)
    databases.pg_drop(name)


def test_a_database_of_the_first_release_upgrades_with_its_data(empty_url):
    command.upgrade(alembic_config(empty_url), "0001")
    engine = create_engine(normalise_url(empty_url))
    with engine.begin() as conn:
        conn.execute(text("INSERT INTO campaign (slug, name, year, config, config_sha256, loaded_at) "
                          "VALUES ('old', '旧活动', 2022, '{}', 'x', CURRENT_TIMESTAMP)"))
    command.upgrade(alembic_config(empty_url), "head")
    with engine.connect() as conn:
        assert conn.execute(text("SELECT name FROM campaign WHERE slug = 'old'")).scalar_one() == "旧活动"
        assert "auditlog" in inspect(conn).get_table_names()
    with engine.begin() as conn:  # the upgrade made the audit log append-only
        conn.execute(text("INSERT INTO auditlog (at, actor, action, object_type, object_id, seq, prev_hash, hash) "
                          "VALUES (CURRENT_TIMESTAMP, 'a', 'b', 'c', '1', 1, 'p', 'h')"))
    with pytest.raises(Exception, match="append-only"), engine.begin() as conn:
        conn.execute(text("DELETE FROM auditlog"))
    engine.dispose()


def test_0004_turns_free_text_honours_into_the_other_part_and_back(empty_url):
    import json

    command.upgrade(alembic_config(empty_url), "0003")
    engine = create_engine(normalise_url(empty_url))
    with engine.begin() as conn:
        conn.execute(text("INSERT INTO campaign (slug, name, year, config, config_sha256, loaded_at) "
                          "VALUES ('old', '旧活动', 2022, '{}', 'x', CURRENT_TIMESTAMP)"))
        for n, honours in enumerate(["省级“专精特新”企业（虚构）", None], start=1):
            conn.execute(text("INSERT INTO application (campaign_id, direction, unit_code, dedup_key, reference, "
                              "filed_at, honours) SELECT id, 'platform', '110100', :key, :ref, CURRENT_TIMESTAMP, "
                              ":honours FROM campaign"), {"key": f"k{n}", "ref": f"r{n}", "honours": honours})
    command.upgrade(alembic_config(empty_url), "head")
    query = text("SELECT honours FROM application ORDER BY reference")
    with engine.connect() as conn:
        first, second = conn.execute(query).scalars().all()
    assert json.loads(first) == {"other": "省级“专精特新”企业（虚构）"} and second is None
    with engine.begin() as conn:
        conn.execute(text("UPDATE application SET honours = :h WHERE reference = 'r2'"),
                     {"h": json.dumps({"high_tech": {"level": "国家级", "year": 2020}, "other": "另有"})})
    command.downgrade(alembic_config(empty_url), "0003")
    with engine.connect() as conn:
        assert conn.execute(query).scalars().all() == ["省级“专精特新”企业（虚构）", "高新技术企业（国家级，2020年）；另有"]
    engine.dispose()

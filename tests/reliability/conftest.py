"""Fixtures of the reliability tests: one prepared starting point, copied into as many worlds
(database + home + SMTP server) as a test needs, on SQLite and on PostgreSQL."""

import shutil
from pathlib import Path

import pytest
from sqlmodel import select

from core.clock import parse_local
from core.db import session_scope
from models import Application
from tasks.chain import set_clock
from tests.conftest import MINI_CAMPAIGN
from tests.support import databases
from tests.support.factories import file_application
from tests.support.smtp import SMTPServer
from tests.support.world import SLUG, UNIT, World

pytestmark = pytest.mark.prefect


def prepare_campaign() -> list[str]:
    """The mini campaign with three experience centres and one platform filed with 乙市 (110200),
    and the campaign clock just past 乙市's deadline; return the references."""
    databases.install(MINI_CAMPAIGN)
    with session_scope() as s:
        set_clock(s, SLUG, parse_local("2031-06-01 09:00"))
        for direction in ("experience_centre", "experience_centre", "experience_centre", "platform"):
            file_application(s, SLUG, UNIT, direction)
        set_clock(s, SLUG, parse_local("2031-06-10 18:00"))
    with session_scope() as s:
        return list(s.exec(select(Application.reference).order_by(Application.id)))


class Worlds:
    """Copies of one prepared database, each with its own home folder and SMTP server."""

    def __init__(self, url: str, tmp_path: Path) -> None:
        self.url, self.tmp_path, self.made = url, tmp_path, []

    def make(self, name: str, **extra_env: str) -> World:
        """A fresh copy of the starting point."""
        home = self.tmp_path / name
        (home / "var").mkdir(parents=True)
        if self.url.startswith("sqlite"):
            target = home / "var" / "tuijian.db"
            shutil.copy(self.url.split("///", 1)[1], target)
            url = f"sqlite:///{target}"
        else:
            source = self.url.rsplit("/", 1)[1]
            databases.pg_create(f"{source}_{name}", template=source)
            url = databases.pg_url(f"{source}_{name}")
        smtp = SMTPServer()
        smtp.start()
        world = World(url, home, smtp, dict(extra_env))
        self.made.append(world)
        return world

    def close(self) -> None:
        """Stop the SMTP servers, close connections, drop the PostgreSQL copies."""
        for world in self.made:
            world.smtp.stop()
            world.dispose()
            if not world.url.startswith("sqlite"):
                databases.pg_drop(world.url.rsplit("/", 1)[1])


@pytest.fixture
def worlds(db, tmp_path, prefect_server):
    """A factory of worlds copied from the prepared mini campaign (SQLite and PostgreSQL)."""
    prepare_campaign()
    databases.dispose(db)
    made = Worlds(db, tmp_path)
    yield made
    made.close()

"""A `World`: one run's own database, home folder and SMTP server.

The reliability tests copy one prepared starting point into several worlds, so that a
disturbed run and an undisturbed one can be compared.
"""

import os
import re
import shutil
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from core.clock import parse_local
from core.db import session_scope
from models import Application, Message, Stage
from tasks.chain import set_clock
from tests.support import databases
from tests.support.smtp import SMTPServer
from tests.support.stage_state import engine

ROOT = Path(__file__).resolve().parents[2]
SLUG = "mini-test"
UNIT = "110200"
CODE = re.compile(r"--code ([A-Z2-9]{8,32})")  # [approval] code_length
RUN_TIMEOUT_S = 180.0
MINI_CAMPAIGN = ROOT / "tests" / "data" / "mini-campaign.toml"


def api_url() -> str:
    """The Prefect API this test session talks to (the session's test server)."""
    from prefect.settings import PREFECT_API_URL

    return PREFECT_API_URL.value()


@dataclass
class World:
    """One run's database URL, home folder and SMTP server."""

    url: str
    home: Path
    smtp: SMTPServer
    extra_env: dict[str, str] = field(default_factory=dict)
    runs: int = 0
    forks: object | None = None  # a tests.support.fork_server.ForkServer, or None: new interpreters
    _engine: Engine | None = field(default=None, repr=False)

    def env(self, **extra: str) -> dict[str, str]:
        """The environment of a flow process of this world."""
        return dict(os.environ) | {
            "TUIJIAN_DATABASE_URL": self.url, "TUIJIAN_HOME": str(self.home),
            "TUIJIAN_SMTP_HOST": "127.0.0.1", "TUIJIAN_SMTP_PORT": str(self.smtp.port),
            "TUIJIAN_SMTP_SECURITY": "none", "PREFECT_API_URL": api_url(),
            "PREFECT_HOME": str(self.home / "prefect-client"), "PREFECT_LOGGING_LEVEL": "WARNING",
        } | self.extra_env | extra

    def session(self) -> Session:
        """A session on this world's database."""
        if self._engine is None:
            self._engine = engine(self.url)
        return Session(self._engine)

    def dispose(self) -> None:
        """Close this world's connections (before its database is copied or dropped)."""
        if self._engine is not None:
            self._engine.dispose()
            self._engine = None

    def claimed_run(self, unit: str = UNIT) -> str | None:
        """The flow run id that holds the unit's stage in this world."""
        with self.session() as s:
            return s.exec(select(Stage.flow_run_id).where(Stage.unit_code == unit)).one()

    def approval_code(self, official: str) -> str:
        """The newest one-time code mailed to an official (read from the outbox)."""
        with self.session() as s:
            bodies = s.exec(select(Message.body_text).where(Message.kind == "approval_request")
                            .order_by(Message.id.desc())).all()
        for body in bodies:
            if f"--official {official} --code" in body:
                return CODE.search(body).group(1)
        raise AssertionError(f"no approval request mailed to {official}")

    def references(self, unit: str = UNIT) -> list[str]:
        """The references of the applications filed with a unit, in filing order."""
        with self.session() as s:
            return list(s.exec(select(Application.reference).where(Application.unit_code == unit)
                               .order_by(Application.id)))


def prepare_campaign(folder: Path) -> list[str]:
    """The mini campaign with three experience centres and one platform filed with 乙市 (110200)
    through the real intake, and the campaign clock just past 乙市's deadline; return the
    references. The same every time (fixed values, references counted per database)."""
    from tasks.intake import intake_file
    from tests.tasks.intake_factories import attach, good_record, write_json

    databases.install(MINI_CAMPAIGN)
    with session_scope() as s:
        set_clock(s, SLUG, parse_local("2031-06-01 09:00"))
    records = [attach(good_record(d, n=n, unit=UNIT), folder, n)
               for n, d in enumerate(("experience_centre", "experience_centre", "experience_centre", "platform"), 1)]
    result = intake_file(write_json(folder / "applications.json", records))
    assert result.ok, result.errors
    with session_scope() as s:
        set_clock(s, SLUG, parse_local("2031-06-10 18:00"))
    return [f.reference for f in result.filed]


class Worlds:
    """Copies of one prepared database, each with its own home folder and SMTP server."""

    def __init__(self, url: str, tmp_path: Path, forks: object | None = None) -> None:
        self.url, self.tmp_path, self.forks, self.made = url, tmp_path, forks, []

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
        world = World(url, home, smtp, dict(extra_env), forks=None if extra_env else self.forks)
        self.made.append(world)
        return world

    def close(self) -> None:
        """Stop the SMTP servers, close connections, drop the PostgreSQL copies."""
        for world in self.made:
            world.smtp.stop()
            world.dispose()
            if not world.url.startswith("sqlite"):
                databases.pg_drop(world.url.rsplit("/", 1)[1])

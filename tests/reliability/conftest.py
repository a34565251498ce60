"""Fixtures of the reliability tests: one prepared starting point, copied into as many worlds
(database + home + SMTP server) as a test needs, on SQLite and on PostgreSQL."""

import pytest

from tests.support import databases
from tests.support.world import Worlds, prepare_campaign


@pytest.fixture
def worlds(db, tmp_path, prefect_server):
    """A factory of worlds copied from the prepared mini campaign (SQLite and PostgreSQL)."""
    prepare_campaign()
    databases.dispose(db)
    made = Worlds(db, tmp_path)
    yield made
    made.close()

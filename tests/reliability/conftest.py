"""Fixtures of the reliability tests: one prepared starting point, copied into as many worlds
(database + home + SMTP server) as a test needs, on SQLite and on PostgreSQL."""

import os

import pytest

from tests.support import databases
from tests.support.fork_server import ForkServer
from tests.support.world import Worlds, api_url, prepare_campaign


@pytest.fixture(scope="session")
def fork_server(prefect_server, tmp_path_factory):
    """One fork server for the session's flow processes (Prefect imported once)."""
    server = ForkServer(dict(os.environ) | {"PREFECT_API_URL": api_url(), "PREFECT_LOGGING_LEVEL": "WARNING",
                                            "PREFECT_HOME": str(tmp_path_factory.mktemp("flow-processes"))})
    yield server
    server.close()


@pytest.fixture
def worlds(db, tmp_path, prefect_server, fork_server):
    """A factory of worlds copied from the prepared mini campaign (SQLite and PostgreSQL)."""
    prepare_campaign(tmp_path)
    databases.dispose(db)
    made = Worlds(db, tmp_path, fork_server)
    yield made
    made.close()

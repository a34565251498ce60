"""core.prefect_server: the environment it gives the server, and a real `prefect server start`."""

import os
import socket
from pathlib import Path

import httpx
import pytest

from core.prefect_server import (
    ServerFailed,
    client_env,
    free_port,
    pg_server_db_url,
    server_env,
    start_server,
)


def test_server_env_points_server_and_ui_at_our_port_without_telemetry(tmp_path):
    base = {"PATH": "/bin", "PREFECT_API_URL": "http://elsewhere/api", "PREFECT_PROFILE": "x"}
    env = server_env(tmp_path, 4321, base=base)
    assert env["PREFECT_HOME"] == str(tmp_path) and env["PATH"] == "/bin"
    assert (env["PREFECT_SERVER_API_HOST"], env["PREFECT_SERVER_API_PORT"]) == ("127.0.0.1", "4321")
    assert env["PREFECT_UI_API_URL"] == "http://127.0.0.1:4321/api"
    assert (env["PREFECT_SERVER_ANALYTICS_ENABLED"], env["DO_NOT_TRACK"]) == ("false", "1")
    assert "PREFECT_API_URL" not in env and "PREFECT_PROFILE" not in env
    assert "PREFECT_API_DATABASE_CONNECTION_URL" not in env


def test_server_env_takes_a_postgres_database():
    url = pg_server_db_url("tj_pf_x")
    assert url == "postgresql+asyncpg://postgres@127.0.0.1:5432/tj_pf_x"
    env = server_env(Path("/"), 1, database_url=url, base={"PREFECT_API_DATABASE_CONNECTION_URL": "sqlite://old"})
    assert env["PREFECT_API_DATABASE_CONNECTION_URL"] == url


def test_client_env_names_the_api():
    env = client_env("http://127.0.0.1:9/api", {"KEEP": "1"})
    assert env == {"KEEP": "1", "PREFECT_API_URL": "http://127.0.0.1:9/api",
                   "PREFECT_SERVER_ANALYTICS_ENABLED": "false", "DO_NOT_TRACK": "1"}


@pytest.mark.slow
def test_a_real_server_starts_serves_the_ui_for_its_port_and_stops_completely(tmp_path):
    server = start_server(tmp_path / "home")
    try:
        assert httpx.get(f"{server.api_url}/health").json() is True
        settings = httpx.get(f"{server.ui_url}/ui-settings").json()
        assert settings["api_url"] == server.api_url  # the UI calls this port, not 4200
        assert (tmp_path / "home" / "prefect.db").is_file()  # its own database under its home
    finally:
        code = server.stop()
    assert code is not None and not server.alive()
    with pytest.raises(ProcessLookupError):
        os.killpg(server.process.pid, 0)  # nothing of the group is left
    with pytest.raises(httpx.TransportError):
        httpx.get(f"{server.api_url}/health", timeout=2)
    assert "prefect config set PREFECT_API_URL" in server.log_path.read_text()


@pytest.mark.slow
def test_a_server_that_cannot_bind_fails_with_its_log(tmp_path):
    port = free_port()
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", port))
        taken.listen()
        with pytest.raises(ServerFailed) as failed:
            start_server(tmp_path / "home", port, timeout=90)
    assert "exited" in failed.value.en
    assert failed.value.context["log"]

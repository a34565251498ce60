"""A real `prefect server start` in a subprocess: for the demo, the integration tests and operators.

The server runs in its own process group on 127.0.0.1, with its own PREFECT_HOME (its SQLite
database, profiles and the log file `server.log` live there) or a PostgreSQL database, and
telemetry off. `start_server()` returns once `GET /api/health` answers; `stop()` ends the
whole group (uvicorn and the services it spawned) and waits for it.
"""

import os
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO

import httpx

from core.errors import TuijianError

HOST = "127.0.0.1"
STARTUP_TIMEOUT_S = 120.0
STOP_TIMEOUT_S = 20.0


class ServerFailed(TuijianError):
    """The Prefect server did not come up (it exited or never answered its health check)."""


def free_port(host: str = HOST) -> int:
    """Return a TCP port nobody listens on right now."""
    with socket.socket() as s:
        s.bind((host, 0))
        return s.getsockname()[1]


def pg_server_db_url(database: str, host: str = HOST, port: int = 5432, user: str = "postgres") -> str:
    """The asyncpg URL Prefect's server wants for a PostgreSQL database."""
    return f"postgresql+asyncpg://{user}@{host}:{port}/{database}"


def default_home() -> Path:
    """The server's PREFECT_HOME when none is given: `<TUIJIAN_HOME>/var/prefect`."""
    from core.settings import get_settings

    return get_settings().var_dir / "prefect"


def prefect_executable() -> list[str]:
    """The command that runs the Prefect CLI of this interpreter's environment."""
    script = Path(sys.executable).with_name("prefect")
    return [str(script)] if script.exists() else [sys.executable, "-m", "prefect"]


def server_env(home: Path, port: int, database_url: str | None = None,
               base: dict[str, str] | None = None) -> dict[str, str]:
    """The environment of a server process: its home, host/port (the UI too), no telemetry."""
    env = dict(os.environ if base is None else base)
    for key in ("PREFECT_API_URL", "PREFECT_API_KEY", "PREFECT_PROFILE", "PREFECT_API_DATABASE_CONNECTION_URL",
                "PREFECT_SERVER_DATABASE_CONNECTION_URL"):
        env.pop(key, None)
    env.update({
        "PREFECT_HOME": str(home),
        "PREFECT_SERVER_API_HOST": HOST,
        "PREFECT_SERVER_API_PORT": str(port),
        "PREFECT_UI_API_URL": f"http://{HOST}:{port}/api",
        "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
        "DO_NOT_TRACK": "1",
    })
    if database_url:
        env["PREFECT_API_DATABASE_CONNECTION_URL"] = database_url
    return env


def client_env(api_url: str, base: dict[str, str] | None = None) -> dict[str, str]:
    """The environment of a process that talks to the server (CLI, worker): the API URL, no telemetry."""
    env = dict(os.environ if base is None else base)
    env.update({"PREFECT_API_URL": api_url, "PREFECT_SERVER_ANALYTICS_ENABLED": "false", "DO_NOT_TRACK": "1"})
    return env


@dataclass(kw_only=True)
class Background:
    """A process we started in its own process group, logging to a file."""

    process: subprocess.Popen
    log_path: Path
    _log: IO[bytes] | None = field(default=None, repr=False)

    def alive(self) -> bool:
        """True while the process has not exited."""
        return self.process.poll() is None

    def log_tail(self, chars: int = 4000) -> str:
        """The end of its log file (for error messages)."""
        try:
            return self.log_path.read_text(errors="replace")[-chars:]
        except OSError:
            return ""

    def stop(self, timeout: float = STOP_TIMEOUT_S) -> int | None:
        """End its process group (SIGTERM, then SIGKILL) and wait; return its exit code."""
        stop_process_group(self.process, timeout)
        if self._log is not None:
            self._log.close()
            self._log = None
        return self.process.returncode

    def __enter__(self):
        return self

    def __exit__(self, *_exc: object) -> None:
        self.stop()


@dataclass(kw_only=True)
class PrefectServer(Background):
    """A running `prefect server start` subprocess."""

    home: Path
    port: int

    @property
    def api_url(self) -> str:
        return f"http://{HOST}:{self.port}/api"

    @property
    def ui_url(self) -> str:
        return f"http://{HOST}:{self.port}"


def stop_process_group(process: subprocess.Popen, timeout: float = STOP_TIMEOUT_S) -> None:
    """Terminate a process started with `start_new_session=True` and everything in its group."""
    if process.poll() is None:
        _signal_group(process, signal.SIGTERM)
        try:
            process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            _signal_group(process, signal.SIGKILL)
            process.wait(timeout=timeout)
    _signal_group(process, signal.SIGKILL)  # children that outlived their parent


def _signal_group(process: subprocess.Popen, sig: signal.Signals) -> None:
    try:
        os.killpg(process.pid, sig)
    except (ProcessLookupError, PermissionError):
        pass


def start_server(home: Path | None = None, port: int | None = None, *, database_url: str | None = None,
                 timeout: float = STARTUP_TIMEOUT_S, extra_args: tuple[str, ...] = ()) -> PrefectServer:
    """Start `prefect server start` on 127.0.0.1 and return once its API is healthy."""
    home = Path(home or default_home()).resolve()
    home.mkdir(parents=True, exist_ok=True)
    port = port or free_port()
    log_path = home / "server.log"
    log = log_path.open("ab")
    command = [*prefect_executable(), "server", "start", "--host", HOST, "--port", str(port),
               "--analytics-off", *extra_args]
    process = subprocess.Popen(command, env=server_env(home, port, database_url), cwd=home,
                               stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT,
                               start_new_session=True)
    server = PrefectServer(home=home, port=port, process=process, log_path=log_path, _log=log)
    try:
        wait_healthy(server, timeout)
    except BaseException:
        server.stop()
        raise
    return server


def wait_healthy(server: PrefectServer, timeout: float = STARTUP_TIMEOUT_S) -> float:
    """Poll `GET /api/health` until it answers 200; return the seconds waited."""
    started = time.monotonic()
    with httpx.Client(timeout=2.0) as client:
        while time.monotonic() - started < timeout:
            if not server.alive():
                raise ServerFailed(f"Prefect 服务器进程已退出（退出码 {server.process.returncode}）",
                                   f"the Prefect server exited (code {server.process.returncode})",
                                   log=server.log_tail())
            try:
                if client.get(f"{server.api_url}/health").status_code == 200:
                    return time.monotonic() - started
            except httpx.TransportError:
                pass
            time.sleep(0.25)
    raise ServerFailed(f"Prefect 服务器 {timeout:.0f} 秒内未就绪", f"the Prefect server was not healthy "
                       f"within {timeout:.0f} s", log=server.log_tail())


__all__ = ["PrefectServer", "ServerFailed", "client_env", "default_home", "free_port", "pg_server_db_url",
           "server_env", "start_server", "stop_process_group", "wait_healthy"]

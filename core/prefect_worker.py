"""The other half of a Prefect installation: the work pool, `prefect deploy` and a process worker.

Each is the real Prefect CLI run as a subprocess against a server's API URL, from the
repository root (where `deployments/prefect.yaml`'s entrypoints are relative to). A worker
runs in its own process group, logs to a file, and passes its environment (TUIJIAN_HOME,
TUIJIAN_DATABASE_URL, SMTP settings) on to the flow runs it starts.
"""

import subprocess
from dataclasses import dataclass
from pathlib import Path

from core.errors import TuijianError
from core.prefect_server import Background, client_env, prefect_executable
from core.settings import PROJECT_ROOT

PREFECT_FILE = PROJECT_ROOT / "deployments" / "prefect.yaml"
POOL = "tuijian"
CLI_TIMEOUT_S = 180.0


class PrefectCommandFailed(TuijianError):
    """A Prefect CLI command exited non-zero."""


def run_prefect(args: list[str], api_url: str, *, env: dict[str, str] | None = None,
                timeout: float = CLI_TIMEOUT_S) -> str:
    """Run `prefect <args>` from the repository root against a server; return its output."""
    done = subprocess.run([*prefect_executable(), *args], cwd=PROJECT_ROOT, env=client_env(api_url, env),
                          stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=timeout)
    if done.returncode != 0:
        command = " ".join(args)
        raise PrefectCommandFailed(f"Prefect 命令失败：prefect {command}", f"prefect {command} failed",
                                   output=(done.stdout + done.stderr)[-4000:])
    return done.stdout


def create_work_pool(api_url: str, name: str = POOL, *, env: dict[str, str] | None = None) -> str:
    """Create (or keep) the process work pool the deployments use."""
    return run_prefect(["work-pool", "create", name, "--type", "process", "--overwrite"], api_url, env=env)


def deploy(api_url: str, names: list[str] | None = None, *, prefect_file: Path = PREFECT_FILE,
           env: dict[str, str] | None = None) -> str:
    """Register deployments from the prefect.yaml (all of them, or the named ones)."""
    selection = [a for n in names for a in ("--name", n)] if names else ["--all"]
    return run_prefect(["--no-prompt", "deploy", "--prefect-file", str(prefect_file), *selection], api_url, env=env)


@dataclass(kw_only=True)
class Worker(Background):
    """A running `prefect worker start` subprocess (stopping it ends the flow runs it started)."""

    pool: str


def start_worker(api_url: str, log_path: Path, pool: str = POOL, *, env: dict[str, str] | None = None,
                 query_seconds: float = 10.0) -> Worker:
    """Start a process worker for a pool; its environment is inherited by every flow run."""
    log_path.parent.mkdir(parents=True, exist_ok=True)
    log = log_path.open("ab")
    worker_env = client_env(api_url, env) | {"PREFECT_WORKER_QUERY_SECONDS": str(query_seconds)}
    process = subprocess.Popen([*prefect_executable(), "worker", "start", "--pool", pool, "--type", "process"],
                               cwd=PROJECT_ROOT, env=worker_env, stdin=subprocess.DEVNULL, stdout=log,
                               stderr=subprocess.STDOUT, start_new_session=True)
    return Worker(pool=pool, process=process, log_path=log_path, _log=log)


__all__ = ["POOL", "PREFECT_FILE", "PrefectCommandFailed", "Worker", "create_work_pool", "deploy",
           "run_prefect", "start_worker"]

"""The parent side of the stage driver's fork server (tests/support/stage_driver.py --serve).

Starting a Python process that imports Prefect costs about two seconds; the SIGKILL tests
start dozens. The fork server imports once and forks a fresh flow process per run: each is
still a process of its own, killed for real, with its own environment and log file.
"""

import json
import os
import select
import signal
import subprocess
import sys
from pathlib import Path

from tests.support.world import ROOT


class ForkedRun:
    """One flow process forked by the server; the subset of Popen the tests use."""

    def __init__(self, server: "ForkServer", pid: int, log_path: Path) -> None:
        self.server, self.pid, self.log_path = server, pid, log_path
        self.returncode: int | None = None

    def poll(self) -> int | None:
        """The exit code once the process ended (negative: the signal), else None."""
        if self.returncode is None and self.server.ready():
            self.returncode = self.server.ended(self.pid)
        return self.returncode

    def wait(self) -> int:
        """Wait for the process to end; return its exit code."""
        if self.returncode is None:
            self.returncode = self.server.ended(self.pid)
        return self.returncode

    def kill(self) -> None:
        """SIGKILL the process."""
        if self.returncode is None:
            os.kill(self.pid, signal.SIGKILL)


class ForkServer:
    """A running fork server with a fixed Prefect environment."""

    def __init__(self, env: dict[str, str]) -> None:
        self.proc = subprocess.Popen([sys.executable, "-m", "tests.support.stage_driver", "--serve"], cwd=ROOT,
                                     env=env, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)

    def run(self, args: list[str], env: dict[str, str], log_path: Path) -> ForkedRun:
        """Fork a flow process with these arguments, environment and log file."""
        self.proc.stdin.write(json.dumps({"args": args, "env": env, "log": str(log_path)}) + "\n")
        self.proc.stdin.flush()
        return ForkedRun(self, self._answer()["pid"], log_path)

    def ready(self) -> bool:
        """True when the server has something to say (a process ended)."""
        return bool(select.select([self.proc.stdout], [], [], 0)[0])

    def ended(self, pid: int) -> int:
        """Read the end of process `pid`; return its exit code."""
        answer = self._answer()
        assert answer == {"pid": pid, "code": answer.get("code")} and "code" in answer, answer
        return answer["code"]

    def _answer(self) -> dict:
        line = self.proc.stdout.readline()
        assert line, f"the fork server exited ({self.proc.poll()})"
        return json.loads(line)

    def close(self) -> None:
        """Stop the server."""
        self.proc.stdin.close()
        self.proc.wait(30)

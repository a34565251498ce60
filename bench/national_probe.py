"""Measuring from outside: resident memory of every process involved, and database sizes.

`MemorySampler` reads /proc/<pid>/status of each watched process and all its descendants
every `interval` seconds, keeping per group the peak of the summed VmRSS, the largest
VmHWM seen per process, and the peak of the sum over all groups (what the machine had to
hold at once). PostgreSQL backends are counted by their private memory (RssAnon): their
VmRSS also holds the shared buffers and the server binary, which every backend maps.
"""

import os
import threading
from collections.abc import Callable
from pathlib import Path

KIB = 1024


def status_kib(pid: int) -> dict[str, int]:
    """The kB fields of /proc/<pid>/status (VmRSS, VmHWM, RssAnon, ...); {} when the process is gone."""
    try:
        text = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return {}
    out = {}
    for line in text.splitlines():
        key, _, value = line.partition(":")
        parts = value.split()
        if len(parts) == 2 and parts[1] == "kB":
            out[key] = int(parts[0])
    return out


def cpu_seconds(pid: int) -> float:
    """User + system CPU seconds a process has used so far (0 when it is gone)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def descendants(pid: int) -> list[int]:
    """A process and every process below it (from /proc/<pid>/task/*/children)."""
    found, todo = [], [pid]
    while todo:
        current = todo.pop()
        found.append(current)
        try:
            tasks = os.listdir(f"/proc/{current}/task")
        except OSError:
            continue
        for tid in tasks:
            try:
                todo += [int(c) for c in Path(f"/proc/{current}/task/{tid}/children").read_text().split()]
            except OSError:
                continue
    return found


class MemorySampler(threading.Thread):
    """Sample the memory of named process groups in the background until `stop()`."""

    def __init__(self, groups: dict[str, Callable[[], list[int]]], interval: float = 0.5,
                 private_only: tuple[str, ...] = ()) -> None:
        super().__init__(daemon=True, name="memory-sampler")
        self.groups, self.interval, self.private_only = groups, interval, private_only
        self.peak: dict[str, int] = dict.fromkeys(groups, 0)
        self.hwm: dict[str, dict[int, int]] = {g: {} for g in groups}
        self.processes: dict[str, int] = dict.fromkeys(groups, 0)
        self.cpu: dict[str, dict[int, list[float]]] = {g: {} for g in groups}  # pid -> [first, last]
        self.total_peak = 0
        self.samples = 0
        self._halt = threading.Event()

    def run(self) -> None:
        """Sample until stopped."""
        while not self._halt.is_set():
            self.sample()
            self._halt.wait(self.interval)

    def sample(self) -> None:
        """Take one sample of every group."""
        total = 0
        for name, pids_of in self.groups.items():
            rss = 0
            pids = pids_of()
            for pid in pids:
                status = status_kib(pid)
                if not status:
                    continue
                used = cpu_seconds(pid)
                self.cpu[name].setdefault(pid, [used, used])[1] = used
                if name in self.private_only:
                    rss += status.get("RssAnon", 0)
                else:
                    rss += status.get("VmRSS", 0)
                    self.hwm[name][pid] = max(self.hwm[name].get(pid, 0), status.get("VmHWM", 0))
            self.peak[name] = max(self.peak[name], rss)
            self.processes[name] = max(self.processes[name], len(pids))
            total += rss
        self.total_peak = max(self.total_peak, total)
        self.samples += 1

    def stop(self) -> dict:
        """Stop sampling and return the figures (memory in MiB, CPU used while sampling in seconds)."""
        self._halt.set()
        self.join(timeout=5)
        self.sample()
        return {"peak_rss_mib": {g: round(v / KIB, 1) for g, v in self.peak.items()},
                "cpu_s": {g: round(sum(last - first for first, last in v.values()), 1) for g, v in self.cpu.items()},
                "vmhwm_sum_mib": {g: round(sum(v.values()) / KIB, 1) for g, v in self.hwm.items()},
                "max_processes": dict(self.processes),
                "total_peak_rss_mib": round(self.total_peak / KIB, 1),
                "interval_s": self.interval, "samples": self.samples}


def pg_backend_pids(databases: list[str]) -> Callable[[], list[int]]:
    """A function listing the PostgreSQL backend processes serving `databases` right now."""
    import psycopg

    held: list[psycopg.Connection] = []

    def pids() -> list[int]:
        try:
            if not held:
                held.append(psycopg.connect("postgresql://postgres@127.0.0.1:5432/postgres", autocommit=True))
            rows = held[0].execute("SELECT pid FROM pg_stat_activity WHERE datname = ANY(%s)",
                                   (databases,)).fetchall()
            return [r[0] for r in rows]
        except psycopg.Error:
            held.clear()
            return []

    return pids


def sqlite_size(path: Path) -> int:
    """Bytes of a SQLite database with its WAL and shared-memory files."""
    return sum(p.stat().st_size for p in (path, Path(f"{path}-wal"), Path(f"{path}-shm")) if p.exists())


def pg_size(database: str) -> int:
    """pg_database_size of a database."""
    import psycopg

    with psycopg.connect("postgresql://postgres@127.0.0.1:5432/postgres", autocommit=True) as conn:
        return conn.execute("SELECT pg_database_size(%s)", (database,)).fetchone()[0]


def folder_size(folder: Path) -> tuple[int, int]:
    """(files, bytes) under a folder."""
    files = [p for p in folder.rglob("*") if p.is_file()] if folder.exists() else []
    return len(files), sum(p.stat().st_size for p in files)

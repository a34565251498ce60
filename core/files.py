"""Writing files so that a reader (or a crash) never sees half of one.

The temporary file is named after its target and its writer (`.<name>.h<host>-p<pid>.<random>.tmp`).
A process killed while writing leaves it behind; the next write of the same target removes
the leftovers of writers on this machine that are no longer alive (never a live writer's).
"""

import hashlib
import os
import re
import socket
import tempfile
from pathlib import Path

_OWNER = re.compile(r"\.h([0-9a-f]{8})-p(\d+)\.[^.]+\.tmp$")


def write_atomic(path: Path, data: bytes) -> None:
    """Write bytes to `path` via a temporary file in the same folder, fsync and rename."""
    path.parent.mkdir(parents=True, exist_ok=True)
    remove_orphans(path)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.{_owner(os.getpid())}.", suffix=".tmp")
    try:
        os.fchmod(fd, 0o644)
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def remove_orphans(path: Path) -> list[Path]:
    """Remove temporary files of `path` left by dead writers on this machine; return them."""
    prefix, removed = f".{path.name}.", []
    for candidate in path.parent.iterdir():
        name = candidate.name
        owner = _OWNER.search(name) if name.startswith(prefix) else None
        if owner and owner.group(1) == _host() and not _alive(int(owner.group(2))):
            candidate.unlink(missing_ok=True)
            removed.append(candidate)
    return removed


def _owner(pid: int) -> str:
    return f"h{_host()}-p{pid}"


def _host() -> str:
    return hashlib.sha256(socket.gethostname().encode()).hexdigest()[:8]


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # someone else's process: alive
        return True
    return True

"""The content-addressed attachment store: `var/attachments/<sha[:2]>/<sha>`.

A file is named by the sha256 of its content, so writing the same content twice is
harmless and a stored file can always be checked against its name. Files are written
through a temporary file and an atomic rename: a crash never leaves half a file.
"""

import hashlib
import os
import shutil
import tempfile
from pathlib import Path

from core.settings import get_settings

CHUNK = 1 << 20


def sha256_file(path: Path) -> tuple[str, int]:
    """Return the sha256 (hex) and size of a file, reading it in chunks."""
    digest, size = hashlib.sha256(), 0
    with path.open("rb") as fh:
        while chunk := fh.read(CHUNK):
            digest.update(chunk)
            size += len(chunk)
    return digest.hexdigest(), size


def stored_path(sha256: str) -> Path:
    """Return where the content with this sha256 lives in the store."""
    if len(sha256) != 64 or any(c not in "0123456789abcdef" for c in sha256):
        raise ValueError(f"not a sha256 hex digest: {sha256[:70]!r}")
    return get_settings().attachments_dir / sha256[:2] / sha256


def store_file(source: Path, sha256: str) -> Path:
    """Copy a file into the store under its sha256 (no-op if already there); return the path."""
    target = stored_path(sha256)
    if target.is_file() and target.stat().st_size == source.stat().st_size:
        return target
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=".incoming-")
    try:
        with os.fdopen(fd, "wb") as out, source.open("rb") as src:
            shutil.copyfileobj(src, out, CHUNK)
            out.flush()
            os.fsync(out.fileno())
        if sha256_file(Path(tmp))[0] != sha256:
            raise OSError(f"{source} changed while it was being stored")
        os.replace(tmp, target)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)
    return target


def verify_stored(sha256: str) -> bool:
    """Whether the stored content still hashes to its name."""
    path = stored_path(sha256)
    return path.is_file() and sha256_file(path)[0] == sha256

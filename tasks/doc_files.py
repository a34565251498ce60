"""File plumbing for generated documents: safe names, stable zip packages, atomic writes."""

import hashlib
import re
import unicodedata
import zipfile
from datetime import datetime
from io import BytesIO

from core.clock import local
from core.files import write_atomic  # noqa: F401  (re-exported for the document writers)

_UNSAFE = re.compile(r'[\x00-\x1f\x7f/\\:*?"<>|]+')
# bidirectional controls (LRM, RLM, ALM, embeddings/overrides, isolates): they make a name
# read differently from what it is ("文件\u202efdp.exe" shows as "文件exe.pdf"); removed
_BIDI = re.compile("[\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]")
_SPACES = re.compile(r"\s+")
MAX_COMPONENT = 80


def safe_component(text: str, *, fallback: str = "_") -> str:
    """Turn applicant- or config-supplied text into one safe file or folder name."""
    name = _BIDI.sub("", unicodedata.normalize("NFC", str(text)))
    name = _UNSAFE.sub("_", name)
    name = _SPACES.sub(" ", name).strip(" .")
    name = name[:MAX_COMPONENT].rstrip(" .")
    return name or fallback


def zip_timestamp(when: datetime) -> tuple[int, int, int, int, int, int]:
    """Return a zip member date_time (local Asia/Shanghai wall time, never before 1980)."""
    d = local(when)
    if d.year < 1980:
        return (1980, 1, 1, 0, 0, 0)
    return (d.year, d.month, d.day, d.hour, d.minute, d.second - d.second % 2)


def stable_zip(data: bytes, when: datetime) -> bytes:
    """Rewrite a zip package with every member stamped `when`, so equal content gives equal bytes."""
    stamp = zip_timestamp(when)
    out = BytesIO()
    with zipfile.ZipFile(BytesIO(data)) as src, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as dst:
        for info in src.infolist():
            member = zipfile.ZipInfo(info.filename, date_time=stamp)
            member.compress_type = zipfile.ZIP_DEFLATED
            member.external_attr = 0o644 << 16
            dst.writestr(member, src.read(info.filename))
    return out.getvalue()


def sha256_hex(data: bytes) -> str:
    """Return the hex SHA-256 of some bytes."""
    return hashlib.sha256(data).hexdigest()


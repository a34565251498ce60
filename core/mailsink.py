"""An SMTP sink for the demo: accept every message on 127.0.0.1 and keep it as a `.eml` file.

Each accepted message is written once per recipient as `<nnnn>-<recipient>.eml` (numbers go
on from the files already in the folder), atomically (a temporary file, then a rename), with
a `Delivered-To` and `X-Envelope-From` header in front. `index.tsv` gets one line per file:
number, file, received (UTC), envelope sender, recipient, subject, Message-ID. Nothing is
relayed anywhere.
"""

import os
import re
import socket
import threading
from dataclasses import dataclass
from datetime import UTC, datetime
from email.parser import BytesHeaderParser
from email.policy import default as default_policy
from pathlib import Path

from aiosmtpd.controller import Controller

from core.errors import Conflict
from core.files import write_atomic

INDEX = "index.tsv"
INDEX_COLUMNS = ("number", "file", "received_at", "mail_from", "recipient", "subject", "message_id")
FILE_NAME = re.compile(r"^(\d{4,})-.+\.eml$")
UNSAFE = re.compile(r"[^A-Za-z0-9@._+-]+")


@dataclass(frozen=True)
class SinkRecord:
    """One line of the sink's index: one message as delivered to one recipient."""

    number: int
    file: str
    received_at: str
    mail_from: str
    recipient: str
    subject: str
    message_id: str


def safe_name(recipient: str, limit: int = 80) -> str:
    """A file-name-safe form of an address (`_` for anything unusual, at most `limit` chars)."""
    cleaned = UNSAFE.sub("_", recipient.strip()).strip("._") or "unknown"
    return cleaned[:limit]


def next_number(folder: Path) -> int:
    """The number the next `.eml` in a folder gets: one more than the highest present."""
    numbers = [int(m.group(1)) for p in folder.glob("*.eml") if (m := FILE_NAME.match(p.name))]
    return max(numbers, default=0) + 1


atomic_write = write_atomic  # the sink writes each message whole or not at all


def _cell(value: object) -> str:
    return " ".join(str(value or "").split())


def append_index(folder: Path, record: SinkRecord) -> None:
    """Append one line to the index with a single O_APPEND write (whole lines only)."""
    path = folder / INDEX
    line = "\t".join(_cell(getattr(record, c)) for c in INDEX_COLUMNS) + "\n"
    if not path.exists():
        line = "\t".join(INDEX_COLUMNS) + "\n" + line
    fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
    try:
        os.write(fd, line.encode("utf-8"))
    finally:
        os.close(fd)


def read_index(folder: Path) -> list[SinkRecord]:
    """Read the sink's index back, oldest first."""
    path = Path(folder) / INDEX
    if not path.exists():
        return []
    lines = path.read_text(encoding="utf-8").splitlines()[1:]
    rows = [dict(zip(INDEX_COLUMNS, line.split("\t"), strict=False)) for line in lines if line]
    return [SinkRecord(**{**dict.fromkeys(INDEX_COLUMNS, ""), **row, "number": int(row["number"])}) for row in rows]


class FolderHandler:
    """aiosmtpd handler that stores each message per recipient in a folder."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self._lock = threading.Lock()
        self._next: int | None = None  # read from the folder once, then counted here

    async def handle_DATA(self, server, session, envelope) -> str:
        """Store the message for every recipient and accept it."""
        self.store(envelope.mail_from or "", list(envelope.rcpt_tos), envelope.original_content or envelope.content)
        return "250 Message accepted for delivery"

    def store(self, mail_from: str, recipients: list[str], content: bytes) -> list[SinkRecord]:
        """Write one `.eml` and one index line per recipient; return the index lines."""
        headers = BytesHeaderParser(policy=default_policy).parsebytes(content)
        received = datetime.now(UTC).isoformat(timespec="seconds")
        stored = []
        with self._lock:
            if self._next is None:
                self._next = next_number(self.folder)
            for recipient in recipients:
                number, self._next = self._next, self._next + 1
                name = f"{number:04d}-{safe_name(recipient)}.eml"
                prefix = f"Delivered-To: {recipient}\r\nX-Envelope-From: <{mail_from}>\r\n".encode()
                atomic_write(self.folder / name, prefix + content)
                record = SinkRecord(number, name, received, mail_from, recipient,
                                    str(headers.get("Subject", "")), str(headers.get("Message-ID", "")))
                append_index(self.folder, record)
                stored.append(record)
        return stored


def ensure_port_free(host: str, port: int) -> None:
    """Raise Conflict at once if something listens on host:port (aiosmtpd would wait, then fail)."""
    with socket.socket() as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((host, port))
        except OSError as exc:
            raise Conflict(f"端口 {host}:{port} 已被占用", f"port {host}:{port} is already in use",
                           error=str(exc)) from exc


class MailSink:
    """The sink server: `start()`, `stop()`, or use it as a context manager."""

    def __init__(self, folder: Path, port: int, host: str = "127.0.0.1") -> None:
        self.folder = Path(folder)
        self.host = host
        self.port = port
        self.handler = FolderHandler(self.folder)
        self._controller: Controller | None = None

    def start(self) -> "MailSink":
        """Create the folder and start listening (in a background thread); refuse a busy port."""
        self.folder.mkdir(parents=True, exist_ok=True)
        ensure_port_free(self.host, self.port)
        self._controller = Controller(self.handler, hostname=self.host, port=self.port)
        self._controller.start()
        return self

    def stop(self) -> None:
        """Stop listening; files already written stay."""
        if self._controller is not None:
            self._controller.stop()
            self._controller = None

    def records(self) -> list[SinkRecord]:
        """Everything received so far (from the index)."""
        return read_index(self.folder)

    def __enter__(self) -> "MailSink":
        return self.start() if self._controller is None else self

    def __exit__(self, *_exc: object) -> None:
        self.stop()


def start_mailsink(folder: Path | None = None, port: int | None = None) -> MailSink:
    """Start a sink on 127.0.0.1: by default at `<out>/mail` on the configured SMTP port."""
    from core.settings import get_settings

    settings = get_settings()
    return MailSink(folder or settings.output_dir / "mail", port or settings.smtp_port).start()


__all__ = ["FolderHandler", "MailSink", "SinkRecord", "atomic_write", "next_number", "read_index",
           "safe_name", "start_mailsink"]

"""Turn an outbox row into a MIME message: UTF-8 text + HTML, attachments read from disk.

Headers with Chinese text (subject, display names) are RFC 2047 encoded and attachment
file names RFC 2231 encoded by the standard library's SMTP policy when the message is
flattened. The Message-ID and Date come from the row, so a re-sent message is the same
message to the receiving side.
"""

import hashlib
import mimetypes
from email.headerregistry import Address
from email.message import EmailMessage
from email.utils import format_datetime, parseaddr
from pathlib import Path

from core.clock import to_utc
from core.errors import Conflict, NotFound
from models import Message

SENDER_NAME = "推荐系统 tuijian"


def sender_address(sender: str) -> tuple[str, str]:
    """Split the configured sender into (display name, address), with a default name."""
    name, address = parseaddr(sender)
    return name or SENDER_NAME, address or sender


def attachment_spec(path: str | Path, sha256: str | None = None, name: str | None = None) -> dict:
    """Describe a file to attach: where it is, the name shown, and the hash it must have."""
    path = Path(path)
    return {"path": str(path), "name": name or path.name, "sha256": sha256}


def read_attachment(spec: dict) -> bytes:
    """Read an attachment and check it is still the file that was queued."""
    path = Path(spec["path"])
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise NotFound(f"附件不存在：{path}", f"attachment missing: {path}", path=str(path)) from exc
    expected = spec.get("sha256")
    if expected and hashlib.sha256(data).hexdigest() != expected:
        raise Conflict(f"附件内容已变化：{path}", f"attachment changed on disk: {path}",
                       path=str(path))
    return data


def build_email(message: Message, sender: str) -> EmailMessage:
    """Build the MIME message for one outbox row."""
    name, address = sender_address(sender)
    mail = EmailMessage()
    mail["From"] = Address(display_name=name, addr_spec=address)
    mail["To"] = Address(display_name=message.recipient_name or "", addr_spec=message.recipient)
    mail["Subject"] = message.subject
    mail["Date"] = format_datetime(to_utc(message.created_at))
    mail["Message-ID"] = message.message_id
    mail["Auto-Submitted"] = "auto-generated"
    mail.set_content(message.body_text)
    if message.body_html:
        mail.add_alternative(message.body_html, subtype="html")
    for spec in message.attachments:
        maintype, subtype = _content_type(spec["name"])
        mail.add_attachment(read_attachment(spec), maintype=maintype, subtype=subtype,
                            filename=spec["name"])
    return mail


def _content_type(name: str) -> tuple[str, str]:
    guessed, _ = mimetypes.guess_type(name)
    maintype, _, subtype = (guessed or "application/octet-stream").partition("/")
    return maintype, subtype

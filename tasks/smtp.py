"""Talk to the SMTP relay: connect with the configured security, log in, classify answers.

Security comes from settings: `none`, `starttls` (upgrade on the submission port) or `tls`
(implicit TLS, port 465). The password comes from `TUIJIAN_SMTP_PASSWORD` or, when
`smtp_password_block` names one, from a Prefect Secret block; it is never stored.
"""

import ssl
from dataclasses import dataclass
from email.message import EmailMessage
from typing import Literal

import aiosmtplib

from core.settings import Settings

Status = Literal["sent", "failed", "deferred"]


@dataclass(frozen=True)
class Outcome:
    """What became of one message: the state to record and what the server said."""

    status: Status
    response: str | None = None
    error: str | None = None
    connection_lost: bool = False


async def smtp_password(settings: Settings) -> str | None:
    """Return the SMTP password from the environment or the named Prefect Secret block."""
    if settings.smtp_password is not None:
        return settings.smtp_password.get_secret_value()
    if settings.smtp_password_block:
        from prefect.blocks.system import Secret

        block = await Secret.aload(settings.smtp_password_block)
        return str(block.get())
    return None


async def connect(settings: Settings) -> aiosmtplib.SMTP:
    """Open a connection to the relay, upgrade to TLS as configured, and log in if asked."""
    secure = settings.smtp_security != "none"
    client = aiosmtplib.SMTP(
        hostname=settings.smtp_host, port=settings.smtp_port, timeout=settings.smtp_timeout,
        use_tls=settings.smtp_security == "tls", start_tls=settings.smtp_security == "starttls",
        tls_context=ssl.create_default_context() if secure else None,
    )
    await client.connect()
    if settings.smtp_username:
        await client.login(settings.smtp_username, await smtp_password(settings) or "")
    return client


async def close(client: aiosmtplib.SMTP) -> None:
    """Say QUIT if the connection is still up; never raise."""
    try:
        if client.is_connected:
            await client.quit()
    except (aiosmtplib.SMTPException, OSError):
        client.close()


async def send(client: aiosmtplib.SMTP, mail: EmailMessage, *, sender: str,
               recipient: str) -> Outcome:
    """Send one message to one recipient and classify the result."""
    try:
        _refused, response = await client.send_message(mail, sender=sender, recipients=[recipient])
    except (aiosmtplib.SMTPException, OSError) as exc:
        return classify(exc)
    return Outcome("sent", response=response)


def classify(exc: BaseException) -> Outcome:
    """Map an SMTP or network error to failed (5xx), deferred (4xx) or a lost connection."""
    if isinstance(exc, aiosmtplib.SMTPRecipientsRefused) and exc.recipients:
        return _by_code(exc.recipients[0].code, exc.recipients[0].message)
    if isinstance(exc, aiosmtplib.SMTPResponseException):
        return _by_code(exc.code, exc.message)
    return Outcome("deferred", error=describe(exc), connection_lost=True)


def _by_code(code: int, message: str) -> Outcome:
    text = f"{code} {message}"
    if 500 <= code < 600:
        return Outcome("failed", response=text, error=f"服务器拒收 / refused by the server: {text}")
    return Outcome("deferred", response=text, error=f"服务器暂时拒绝 / temporarily refused: {text}",
                   connection_lost=code == 421)


def describe(exc: BaseException) -> str:
    """Describe a connection problem for the outbox listing (zh / en)."""
    return f"无法投递，稍后重试 / delivery postponed: {type(exc).__name__}: {exc}"[:1000]

"""A real SMTP server for tests: aiosmtpd on 127.0.0.1, keeping every message it accepts.

Options: `security` "starttls" or "tls" (implicit TLS) with a self-signed certificate for
127.0.0.1 (tests/support/smtp_tls.py), `login` (username, password) to require AUTH,
`Recorder.on_data` to act on each accepted message before the server answers 250, and
`Recorder.on_mail` to act when a message begins (MAIL FROM), before anything is accepted.
"""

import email
import email.policy
import socket
import ssl
from collections.abc import Callable
from contextlib import contextmanager
from dataclasses import dataclass, field

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult


@dataclass
class Received:
    mail_from: str
    rcpt_tos: list[str]
    message: email.message.EmailMessage
    raw: bytes = b""


@dataclass
class Recorder:
    messages: list[Received] = field(default_factory=list)
    refuse: set[str] = field(default_factory=set)  # recipients answered with 550
    busy: set[str] = field(default_factory=set)  # recipients answered with 451 (try later)
    on_data: Callable[[Received], None] | None = None  # runs before the 250 answer
    on_mail: Callable[[str], None] | None = None  # runs before the answer to MAIL FROM

    async def handle_MAIL(self, server, session, envelope, address, mail_options):
        if self.on_mail is not None:
            self.on_mail(address)
        envelope.mail_from = address
        envelope.mail_options.extend(mail_options)
        return "250 OK"

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if address in self.refuse:
            return "550 5.1.1 mailbox unavailable"
        if address in self.busy:
            return "451 4.3.0 mailbox busy, try again later"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        msg = email.message_from_bytes(envelope.content, policy=email.policy.default)
        received = Received(envelope.mail_from, list(envelope.rcpt_tos), msg, bytes(envelope.content))
        self.messages.append(received)
        if self.on_data is not None:
            self.on_data(received)
        return "250 Message accepted for delivery"


def _authenticator(login: tuple[str, str]):
    def check(server, session, envelope, mechanism, auth_data) -> AuthResult:
        ok = (auth_data.login.decode(), auth_data.password.decode()) == login
        return AuthResult(success=ok, handled=False)

    return check


class SMTPServer:
    def __init__(self, port: int | None = None, *, security: str = "none",
                 cert: tuple[str, str] | None = None, login: tuple[str, str] | None = None) -> None:
        self.port = port or free_port()
        self.recorder = Recorder()
        self.security, self.cert, self.login = security, cert, login
        self._controller: Controller | None = None

    @property
    def messages(self) -> list[Received]:
        return self.recorder.messages

    def start(self) -> None:
        self._controller = Controller(self.recorder, hostname="127.0.0.1", port=self.port,
                                      **self._options())
        self._controller.start()

    def _options(self) -> dict:
        options: dict = {}
        if self.security != "none":
            context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
            context.load_cert_chain(*self.cert)
            key = "ssl_context" if self.security == "tls" else "tls_context"
            options[key] = context
            options["require_starttls"] = self.security == "starttls"
        if self.login is not None:
            options |= {"authenticator": _authenticator(self.login), "auth_required": True,
                        "auth_require_tls": self.security == "starttls"}
        return options

    def stop(self) -> None:
        if self._controller is not None:
            self._controller.stop()
            self._controller = None


@contextmanager
def running(port: int | None = None, **options):
    server = SMTPServer(port, **options)
    server.start()
    try:
        yield server
    finally:
        server.stop()


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]

"""Message and its transports: SMTP (aiosmtplib) and the in-memory development outbox."""

from __future__ import annotations

import logging
from collections import deque
from dataclasses import dataclass, field
from email.message import EmailMessage
from email.utils import formatdate, make_msgid
from typing import Protocol

import aiosmtplib

from .settings import Settings

logger = logging.getLogger("quart_authtuna.mail")


@dataclass(frozen=True, slots=True)
class Message:
    """One rendered email."""

    kind: str
    to: str
    subject: str
    text: str
    html: str
    headers: dict[str, str] = field(default_factory=dict)


class Transport(Protocol):
    async def deliver(self, message: Message) -> None: ...


class Outbox:
    """Keeps the last messages in memory and logs them (development and tests).

    Arguments:
        show_bodies: print each whole message, links included (development); otherwise
            only that a message of that kind was not sent (production keeps tokens out of
            its logs).
    """

    def __init__(self, size: int = 200, show_bodies: bool = True) -> None:
        self.messages: deque[Message] = deque(maxlen=size)
        self._show_bodies = show_bodies

    async def deliver(self, message: Message) -> None:
        self.messages.append(message)
        if not self._show_bodies:
            logger.warning("the %s email was not sent: EMAIL_ENABLED is off", message.kind)
            return
        rule = "-" * 78
        logger.warning("\n%s\nDevelopment email (not sent: EMAIL_ENABLED is off)\nTo: %s\n"
                       "Subject: %s\n\n%s\n%s", rule, message.to, message.subject,
                       message.text.strip(), rule)

    def last(self, kind: str | None = None, to: str | None = None) -> Message | None:
        for message in reversed(self.messages):
            if (kind is None or message.kind == kind) and (to is None or message.to == to):
                return message
        return None


class SmtpTransport:
    """aiosmtplib with STARTTLS or implicit TLS, as the settings say."""

    def __init__(self, settings: Settings) -> None:
        self._settings = settings

    async def deliver(self, message: Message) -> None:
        s = self._settings
        email = EmailMessage()
        email["From"] = s.default_sender_email
        email["To"] = message.to
        email["Subject"] = message.subject
        email["Date"] = formatdate(localtime=False)
        email["Message-ID"] = make_msgid(domain=s.default_sender_email.rpartition("@")[2])
        for name, value in message.headers.items():
            email[name] = value
        email.set_content(message.text)
        email.add_alternative(message.html, subtype="html")
        username = password = None
        if s.use_credentials and s.smtp_username:
            username = s.smtp_username
            password = s.smtp_password.reveal() if s.smtp_password else ""
        await aiosmtplib.send(
            email, hostname=s.smtp_host or "localhost", port=s.smtp_port,
            use_tls=s.mail_ssl_tls, start_tls=False if s.mail_ssl_tls else s.mail_starttls,
            validate_certs=s.validate_certs, timeout=30, username=username, password=password)

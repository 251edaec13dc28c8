"""Email: render a named message (text + HTML) and send it in the background.

With EMAIL_ENABLED off, messages go to an in-memory outbox instead of SMTP and, in
development, to the console in full (a WARNING, which a plain app shows on stderr), so a
newcomer can follow the links. Links are built from API_BASE_URL, never the request.
"""

from __future__ import annotations

import asyncio
import logging
from collections import deque
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from email.message import EmailMessage
from email.utils import formatdate, make_msgid
from typing import Any, Protocol

import aiosmtplib

from .assets import templates_dir
from .i18n import current_locale, format_datetime, gettext, ngettext, translate
from .links import LinkBuilder
from .settings import Settings

logger = logging.getLogger("quart_authtuna.mail")

#: Renders ``email/<name>.<part>`` (part: subject.txt, txt, html) with a context.
Renderer = Callable[[str, dict[str, Any]], Awaitable[str]]


@dataclass(frozen=True, slots=True)
class Message:
    """One rendered email."""

    kind: str
    to: str
    subject: str
    text: str
    html: str
    headers: dict[str, str] = field(default_factory=dict)


def default_renderer(extra_dir: str | None = None) -> Renderer:
    """Jinja (autoescaped) over the shipped templates; EMAIL_TEMPLATE_DIR files win."""
    import jinja2

    loaders: list[jinja2.BaseLoader] = [jinja2.FileSystemLoader(str(templates_dir()))]
    if extra_dir:
        loaders.insert(0, jinja2.PrefixLoader({"authtuna": jinja2.PrefixLoader(
            {"email": jinja2.FileSystemLoader(extra_dir)})}))
    env = jinja2.Environment(loader=jinja2.ChoiceLoader(loaders), enable_async=True,
                             autoescape=jinja2.select_autoescape(["html", "htm"]))
    env.add_extension("jinja2.ext.i18n")
    env.install_gettext_callables(  # type: ignore[attr-defined]
        gettext, ngettext, newstyle=True)
    env.filters["authtuna_datetime"] = format_datetime
    env.filters["authtuna_translate"] = translate

    async def render(name: str, context: dict[str, Any]) -> str:
        return await env.get_template(f"authtuna/{name}").render_async(**context)

    return render


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


class Mailer:
    """Renders and sends messages without making the caller wait for SMTP."""

    def __init__(self, settings: Settings, links: LinkBuilder,
                 transport: Transport | None = None) -> None:
        self._settings = settings
        self.link = links
        self.outbox = Outbox(show_bodies=not settings.production)
        self.transport: Transport = transport or (
            SmtpTransport(settings) if settings.email_enabled else self.outbox)
        self.renderer: Renderer = default_renderer(settings.email_template_dir)
        self._tasks: set[asyncio.Task[None]] = set()

    async def render(self, kind: str, to: str, context: dict[str, Any]) -> Message:
        ctx = {"app_name": self._settings.app_name, "authtuna_locale": current_locale(),
               **context}
        for key in ("device", "region"):  # RequestMeta's English placeholder: the template
            if ctx.get(key) == "Unknown":  # words the fallback in the reader's language
                ctx[key] = None
        subject = (await self.renderer(f"email/{kind}.subject.txt", ctx)).strip()
        text = await self.renderer(f"email/{kind}.txt", ctx)
        html = await self.renderer(f"email/{kind}.html", ctx)
        return Message(kind, to, " ".join(subject.split()), text, html)

    async def send(self, kind: str, to: str, **context: Any) -> None:
        """Render and deliver now (awaits SMTP); failures are logged, never raised."""
        try:
            await self.transport.deliver(await self.render(kind, to, context))
        except Exception:  # noqa: BLE001 - mail must never break the flow that sent it
            logger.exception("sending the %s email failed", kind)

    def send_later(self, kind: str, to: str, **context: Any) -> None:
        """Send in the background: the response never waits for, or times, the mail."""
        current_locale()  # picked now, in the request's context, which the task copies
        task = asyncio.get_running_loop().create_task(self.send(kind, to, **context))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def drain(self) -> None:
        """Wait for background sends (shutdown and tests)."""
        while self._tasks:
            await asyncio.gather(*list(self._tasks), return_exceptions=True)

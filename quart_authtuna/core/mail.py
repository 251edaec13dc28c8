"""Email: render a named message (text + HTML) and send it through the persisted outbox.

A flow calls :meth:`Mailer.enqueue` inside its transaction, so its rows, its audit row and
its mail commit together; the outbox's sender delivers after commit (see core/mail_queue.py).
With EMAIL_ENABLED off, messages go to an in-memory outbox instead of SMTP and, in
development, to the console in full (a WARNING, which a plain app shows on stderr), so a
newcomer can follow the links. Links are built from API_BASE_URL, never the request.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Coroutine
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from .assets import templates_dir
from .crypto.fernet import Encryptor
from .db.unit_of_work import UnitOfWork
from .i18n import current_locale, format_datetime, gettext, ngettext, translate
from .links import LinkBuilder
from .mail_queue import MailQueue
from .mail_transport import Message, Outbox, SmtpTransport, Transport
from .settings import Settings
from .types import Clock

__all__ = ["Mailer", "Message", "Outbox", "Renderer", "SmtpTransport", "Transport",
           "default_renderer"]

logger = logging.getLogger("quart_authtuna.mail")

#: Renders ``email/<name>.<part>`` (part: subject.txt, txt, html) with a context.
Renderer = Callable[[str, dict[str, Any]], Awaitable[str]]


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


class Mailer:
    """Renders messages and sends them through the outbox, never making the caller wait
    for SMTP.

    Arguments:
        settings: sender, SMTP and retry settings.
        links: builds the absolute links put in messages.
        transport: where messages go (default: SMTP when EMAIL_ENABLED, else :attr:`outbox`).
        db, clock, encryptor: with all three, mail is persisted (:attr:`queue`) and survives
            restarts; without, :meth:`enqueue` only sends in the background.
    """

    def __init__(self, settings: Settings, links: LinkBuilder,
                 transport: Transport | None = None, *, db: UnitOfWork | None = None,
                 clock: Clock | None = None, encryptor: Encryptor | None = None) -> None:
        self._settings = settings
        self.link = links
        self.outbox = Outbox(show_bodies=not settings.production)
        self.transport: Transport = transport or (
            SmtpTransport(settings) if settings.email_enabled else self.outbox)
        self.renderer: Renderer = default_renderer(settings.email_template_dir)
        self._tasks: set[asyncio.Task[None]] = set()
        self.queue: MailQueue | None = None
        if db is not None and clock is not None and encryptor is not None:
            self.queue = MailQueue(db, clock, settings, encryptor, self._deliver)

    async def _deliver(self, message: Message) -> None:
        await self.transport.deliver(message)

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

    async def enqueue(self, kind: str, to: str, *, session: AsyncSession | None = None,
                      **context: Any) -> None:
        """Render the message and write it to the outbox in ``session``'s transaction (or
        its own): it is sent once that commits, and retried until the server takes it.

        This is how a flow sends mail: call it inside the flow's transaction.
        """
        message = await self.render(kind, to, context)
        if self.queue is None:
            self._spawn(self._send_logged(message))
            return
        await self.queue.put(message, session)

    async def _send_logged(self, message: Message) -> None:
        try:
            await self.transport.deliver(message)
        except Exception:  # noqa: BLE001 - mail must never break the flow that sent it
            logger.exception("sending the %s email failed", message.kind)

    def _spawn(self, work: Coroutine[Any, Any, None]) -> None:
        task = asyncio.get_running_loop().create_task(work)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def start(self) -> None:
        """Start the outbox's sender (it first delivers what an earlier process left)."""
        if self.queue is not None:
            await self.queue.start()

    async def drain(self) -> None:
        """Wait for background work, then deliver every outbox message due now (shutdown
        and tests)."""
        while self._tasks:
            await asyncio.gather(*list(self._tasks), return_exceptions=True)
        if self.queue is not None:
            await self.queue.drain()

    async def close(self) -> None:
        """Finish background work and stop the sender; unsent mail stays in the outbox."""
        while self._tasks:
            await asyncio.gather(*list(self._tasks), return_exceptions=True)
        if self.queue is not None:
            await self.queue.stop()


"""The app's sent mail, in memory: ``outbox(app)`` and the links inside each message.

Mail is sent in the background (the response never waits for it), so every read first waits
for the sends in flight. Once :func:`outbox` has been called, the app's mail goes to memory
even with EMAIL_ENABLED on, as Django's test runner does with its locmem backend: a test
never reaches a real SMTP server by accident.
"""

from __future__ import annotations

import html
import re
from dataclasses import dataclass, field
from html.parser import HTMLParser
from urllib.parse import parse_qs, urlsplit

from ..core.mail import Mailer, Message
from ..core.mail import Outbox as MemoryOutbox
from .client import AppLike, service_of

_URL = re.compile(r"https?://[^\s<>\"')\]]+")


class _Hrefs(HTMLParser):
    """Collects the ``href`` of every ``<a>`` of an HTML body."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.found: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "a":
            self.found.extend(value for name, value in attrs if name == "href" and value)


@dataclass(frozen=True, slots=True)
class SentMail:
    """One message the app sent: its kind (the template's name), the rendered parts, the links.

    ``kind`` is the email template's name, e.g. ``"verification"``, ``"password_reset"``,
    ``"passwordless_login"`` or ``"new_login"`` (see ``templates/authtuna/email/``).
    """

    kind: str
    to: str
    subject: str
    text: str
    html: str
    headers: dict[str, str] = field(default_factory=dict)

    @classmethod
    def of(cls, message: Message) -> SentMail:
        """The structured form of a message of the core's mailer."""
        return cls(message.kind, message.to, message.subject, message.text, message.html,
                   dict(message.headers))

    @property
    def links(self) -> list[str]:
        """Every http(s) link, in order, once each: the plain-text part's, then the HTML's."""
        parser = _Hrefs()
        parser.feed(self.html)
        found = [m.group(0).rstrip(".,;:") for m in _URL.finditer(self.text)]
        found += [html.unescape(h) for h in parser.found if h.startswith(("http://", "https://"))]
        return list(dict.fromkeys(found))

    def link(self, containing: str = "") -> str:
        """The first link whose text contains ``containing`` (e.g. ``"/auth/verify"``).

        Raises AssertionError, listing the links there are, when none matches.
        """
        for url in self.links:
            if containing in url:
                return url
        raise AssertionError(f"no link containing {containing!r} in the {self.kind!r} mail to "
                             f"{self.to}; its links: {self.links}")

    def path(self, containing: str = "") -> str:
        """:meth:`link` as a path with its query (``/auth/reset?token=…``), ready for a test
        client of the app."""
        parts = urlsplit(self.link(containing))
        return parts.path + (f"?{parts.query}" if parts.query else "")

    def token(self, containing: str = "") -> str:
        """The ``token`` query parameter of :meth:`link` (what a reset or sign-in link carries)."""
        values = parse_qs(urlsplit(self.link(containing)).query).get("token")
        if not values:
            raise AssertionError(f"the link {self.link(containing)!r} carries no token")
        return values[0]


class MailOutbox:
    """A view of one app's in-memory outbox (see :func:`outbox`)."""

    def __init__(self, mailer: Mailer) -> None:
        self._mailer = mailer

    @property
    def _box(self) -> MemoryOutbox:
        return self._mailer.outbox

    async def wait(self) -> None:
        """Wait until the mail sent in the background so far has been delivered."""
        await self._mailer.drain()

    async def sent(self, kind: str | None = None, to: str | None = None) -> list[SentMail]:
        """Every message delivered so far, oldest first; filtered by ``kind`` and ``to``."""
        await self.wait()
        return [SentMail.of(m) for m in self._box.messages
                if (kind is None or m.kind == kind) and (to is None or m.to == to)]

    async def last(self, kind: str | None = None, to: str | None = None) -> SentMail:
        """The newest matching message; AssertionError (with what was sent) if there is none."""
        found = await self.sent(kind, to)
        if not found:
            sent = [(m.kind, m.to) for m in self._box.messages]
            raise AssertionError(f"no mail (kind={kind!r}, to={to!r}) was sent; sent: {sent}")
        return found[-1]

    def clear(self) -> None:
        """Forget the messages delivered so far (mail still in flight arrives later)."""
        self._box.messages.clear()


def outbox(app: AppLike) -> MailOutbox:
    """The mail ``app`` has sent, from now on kept in memory whatever EMAIL_ENABLED says.

    >>> box = outbox(test_app)
    >>> mail = await box.last("password_reset", to="ada@example.com")
    >>> await client.get(mail.path("/auth/reset-password"))
    """
    mailer = service_of(app).mail
    mailer.transport = mailer.outbox
    return MailOutbox(mailer)

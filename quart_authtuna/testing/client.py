"""Signed-in test clients: a real session (or API key) issued through the core, no password.

:func:`login_as` opens the session the way every sign-in ends (the shared first-factor step:
the session row, ``last_login``, the ``LOGIN_SUCCESS`` audit row, the ``user_logged_in``
signal and, when SEND_NEW_LOGIN_EMAIL is on, the new-login mail), then puts the real cookie,
under its real name (``__Host-`` included), into a Quart test client. Nothing is mocked:
``current_user``, the guards and the periodic database verification all see an ordinary
session. Only the password and any second factor are skipped.
"""

from __future__ import annotations

import time
from collections.abc import Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from quart import Quart
from quart.typing import TestAppProtocol, TestClientProtocol

from ..core.errors import AccountSuspended
from ..core.types import RequestMeta
from ..web.cookies import cookie_name

if TYPE_CHECKING:
    from ..core.db.models import User
    from ..core.service import AuthService
    from ..core.settings import Settings

#: A Quart app, or the ``async with app.test_app()`` object wrapping one.
AppLike = Quart | TestAppProtocol

#: The ``auth_method`` of sessions opened by :func:`login_as` (shown in the admin's lists).
TEST_METHOD = "test"
#: What the sessions list says about the device of a test session.
TEST_DEVICE = "Test client"


@dataclass(frozen=True, slots=True)
class SessionCookie:
    """A signed-in session's cookie: set it on any client (a test client, Playwright, httpx).

    ``secure``, ``domain`` and ``samesite`` are the attributes the app itself would set.
    """

    name: str
    value: str
    user_id: str
    max_age: int
    secure: bool
    domain: str | None
    samesite: str

    @property
    def header(self) -> str:
        """The value of a ``Cookie`` request header carrying this cookie alone."""
        return f"{self.name}={self.value}"

    def playwright(self, url: str) -> dict[str, Any]:
        """This cookie as Playwright's ``BrowserContext.add_cookies`` takes it, for the site
        at ``url`` (e.g. ``http://localhost:5000``; a secure context, so Secure works)."""
        cookie: dict[str, Any] = {
            "name": self.name, "value": self.value, "httpOnly": True, "secure": self.secure,
            "sameSite": self.samesite, "expires": time.time() + self.max_age}
        if self.domain:
            cookie.update(domain=self.domain, path="/")
        else:
            cookie["url"] = url
        return cookie


def quart_app(app: AppLike) -> Quart:
    """The Quart app itself, given the app or its ``test_app()`` wrapper."""
    inner = getattr(app, "app", app)
    if not isinstance(inner, Quart):
        raise TypeError(f"expected a Quart app or app.test_app(), got {type(app).__name__}")
    return inner


def service_of(app: AppLike) -> AuthService:
    """The app's :class:`~quart_authtuna.core.AuthService`, once the app is serving.

    Raises RuntimeError when AuthTuna is not on the app, or the app has not started (run
    the test inside ``async with app.test_app()``, which runs the startup hooks).
    """
    extension = quart_app(app).extensions.get("authtuna")
    if extension is None or extension.service is None:
        raise RuntimeError("AuthTuna is not initialised on this app: call AuthTuna(app) first")
    service: AuthService = extension.service
    if not service.db.started:
        raise RuntimeError("the app has not started: use `async with app.test_app() as test_app`"
                           " (test_client() alone skips the startup that opens the database)")
    return service


async def resolve_user(service: AuthService, user: User | str) -> User:
    """The account ``user`` is (a User, or an id, username or email), read afresh.

    Raises LookupError for an unknown user and AccountSuspended for a suspended one.
    """
    if not isinstance(user, str):
        found = await service.users.get_by_id(user.id)
    else:
        found = (await service.users.get_by_id(user)
                 or await service.users.get_by_identifier(user))
    if found is None:
        raise LookupError(f"no user {user if isinstance(user, str) else user.id!r}")
    if not found.is_active:
        raise AccountSuspended()
    return found


async def session_cookie(app: AppLike, user: User | str, *, method: str = TEST_METHOD,
                         ip_address: str | None = "127.0.0.1") -> SessionCookie:
    """Open a real session for ``user`` (a User, or an id, username or email) and return its
    cookie, as a sign-in that passed every factor would.

    Arguments:
        app: the app, started (inside ``app.test_app()``).
        user: who signs in; a suspended account raises AccountSuspended, an unknown one
            LookupError.
        method: the session's ``auth_method`` (and the audit row's), ``"test"`` by default.
        ip_address: the sign-in's client address, as the audit rows record it.
    """
    service = service_of(app)
    account = await resolve_user(service, user)
    meta = RequestMeta(ip_address=ip_address, device=TEST_DEVICE)
    signed_in = await service.flows.first_factor.open_session(account.id, meta, method)
    state, value = service.session_validator.issue(signed_in.session, signed_in.user,
                                                   signed_in.grants)
    settings: Settings = service.settings
    max_age = max(0, int(min(state.etime, state.e_abs_time) - service.now()))
    return SessionCookie(
        name=cookie_name(settings.session_token_name, settings), value=value,
        user_id=account.id, max_age=max_age, secure=settings.session_secure,
        domain=settings.session_cookie_domain, samesite=settings.session_same_site.capitalize())


async def login_as(app: AppLike, user: User | str, *,
                   client: TestClientProtocol | None = None,
                   method: str = TEST_METHOD) -> TestClientProtocol:
    """A test client signed in as ``user``: every request it sends carries a real session.

    Arguments:
        app: the app, started (inside ``app.test_app()``).
        user: a User, or an id, username or email.
        client: sign this client in (replacing its session cookie) instead of a new one.
        method: the session's ``auth_method``.

    >>> client = await login_as(test_app, "ada")
    >>> (await client.get("/dashboard")).status_code
    200
    """
    cookie = await session_cookie(app, user, method=method)
    if client is None:
        client = app.test_client()
    inner = quart_app(app)
    server = (cookie.domain or "").lstrip(".") or inner.config["SERVER_NAME"] or "localhost"
    client.set_cookie(server, cookie.name, cookie.value, max_age=cookie.max_age, path="/",
                      domain=cookie.domain, secure=cookie.secure, httponly=True,
                      samesite=cookie.samesite)
    return client


async def api_key_header(app: AppLike, user: User | str, *, scopes: Iterable[str] = (),
                         name: str = "test key", key_type: str = "secret",
                         **options: Any) -> dict[str, str]:
    """Issue a real API key for ``user`` and return ``{"Authorization": "Bearer …"}``.

    Arguments:
        app: the app, started.
        user: a User, or an id, username or email.
        scopes: the key's roles, ``"Role"`` (global) or ``"Role:scope"``; a key carries
            only roles its user holds, so a key without scopes grants no permission.
        name: the key's name, as the user's key list shows it.
        key_type: ``"secret"``, ``"publishable"``, ``"test"`` or ``"master"``.
        options: passed on to ``ApiKeyManager.create_key`` (e.g. ``valid_seconds``).
    """
    service = service_of(app)
    account = await resolve_user(service, user)
    issued = await service.api_keys.create_key(account.id, name, key_type, list(scopes),
                                               **options)
    return {"Authorization": f"Bearer {issued.plaintext}"}

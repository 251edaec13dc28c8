"""The test kit for applications built on quart-authtuna: what your own tests need.

- :func:`login_as` — a test client signed in as a user through a real session (no password);
  :func:`session_cookie` gives that cookie for any other client (Playwright, httpx), and
  :func:`api_key_header` a real API key's ``Authorization`` header.
- :func:`outbox` — the mail the app sent, as :class:`SentMail` with its links and tokens.
- :mod:`quart_authtuna.testing.webauthn` — :class:`SoftAuthenticator`, a software passkey;
  :func:`enrol_passkey` gives a user one through the real registration ceremony.
- :mod:`quart_authtuna.testing.dev_oidc` — the offline OpenID Connect provider (imported on
  first use).

Everything here works on an app started with ``async with app.test_app() as test_app``
and talks to the real database, cookies and mailer; nothing of the library is mocked.
"""

from __future__ import annotations

from importlib import import_module
from types import ModuleType

from .client import (
    AppLike,
    SessionCookie,
    api_key_header,
    login_as,
    quart_app,
    resolve_user,
    service_of,
    session_cookie,
)
from .mail import MailOutbox, SentMail, outbox
from .passkeys import authenticator_for, enrol_passkey
from .webauthn import SoftAuthenticator

__all__ = [
    "AppLike",
    "MailOutbox",
    "SentMail",
    "SessionCookie",
    "SoftAuthenticator",
    "api_key_header",
    "authenticator_for",
    "enrol_passkey",
    "login_as",
    "outbox",
    "quart_app",
    "resolve_user",
    "service_of",
    "session_cookie",
]

#: Submodules loaded on first access, so importing the kit never starts or imports them.
_LAZY_MODULES = ("dev_oidc",)


def __getattr__(name: str) -> ModuleType:
    if name in _LAZY_MODULES:
        full = f"{__name__}.{name}"
        try:
            return import_module(full)
        except ModuleNotFoundError as exc:
            if exc.name != full:  # the module exists; something it imports is missing
                raise
            raise AttributeError(f"{full} is not part of this version of quart-authtuna"
                                 ) from exc
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")

"""The names of authtuna's cookies: the session's (SESSION_TOKEN_NAME), the CSRF seed, the
pending MFA sign-in and the trusted device (DEVICE_COOKIE_NAME)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import cast

from werkzeug.datastructures import ImmutableMultiDict
from werkzeug.sansio.http import parse_cookie

from ..core.settings import Settings
from . import current

#: Base names of the CSRF seed and pending-MFA cookies; read and write them only through
#: :func:`cookie_name`.
CSRF_COOKIE = "authtuna_csrf"
MFA_PENDING_COOKIE = "authtuna_mfa"


def cookie_name(base: str, settings: Settings | None = None) -> str:
    """``__Host-<base>`` when the cookie is Secure without a Domain (and COOKIE_HOST_PREFIX is
    on): the browser then refuses it from subdomains and plain-http pages. Else ``base``."""
    settings = settings or current.settings()
    if (settings.cookie_host_prefix and settings.session_secure
            and not settings.session_cookie_domain and not base.startswith("__")):
        return f"__Host-{base}"
    return base


def cookie_value(jar: Mapping[str, str], name: str) -> str | None:
    """``jar.get(name)`` without the KeyError that werkzeug's MultiDict raises and catches
    for a missing name (this runs on every signed-in request)."""
    return jar.get(name) if name in jar else None


#: Distinct Cookie headers whose parse is kept (a browser repeats its header on every request).
JAR_MEMO_SIZE = 1024
_jars: dict[bytes, ImmutableMultiDict[str, str]] = {}


def parsed_cookies(raw: bytes) -> ImmutableMultiDict[str, str]:
    """``request.cookies`` for the raw Cookie header(s) ``raw`` (joined by ``;``), parsed as
    werkzeug parses them, once per distinct header. The result is immutable, so requests
    share it."""
    jar = _jars.get(raw)
    if jar is None:
        jar = cast("ImmutableMultiDict[str, str]",
                   parse_cookie(raw.decode("latin-1"), cls=ImmutableMultiDict))
        if len(_jars) >= JAR_MEMO_SIZE:
            del _jars[next(iter(_jars))]  # the oldest entry
        _jars[raw] = jar
    return jar

"""The names of authtuna's cookies: the session's (SESSION_TOKEN_NAME), the CSRF seed, the
pending MFA sign-in and the trusted device (DEVICE_COOKIE_NAME)."""

from __future__ import annotations

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

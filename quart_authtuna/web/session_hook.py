"""before_request: who is this (cookie or bearer)? after_request: write the cookie if it changed."""

from __future__ import annotations

import logging
from dataclasses import replace
from typing import Any

from quart import Response, current_app, g, request
from sqlalchemy.exc import SQLAlchemyError
from werkzeug.exceptions import ServiceUnavailable

from ..core.sessions.cache import SessionState
from ..core.settings import Settings
from .request_meta import request_meta

logger = logging.getLogger("quart_authtuna")

#: Base names of the CSRF seed and pending-MFA cookies (the session's is SESSION_TOKEN_NAME);
#: read and write them only through :func:`cookie_name`.
CSRF_COOKIE = "authtuna_csrf"
MFA_PENDING_COOKIE = "authtuna_mfa"


def cookie_name(base: str, settings: Settings | None = None) -> str:
    """``__Host-<base>`` when the cookie is Secure without a Domain (and COOKIE_HOST_PREFIX is
    on): the browser then refuses it from subdomains and plain-http pages. Else ``base``."""
    settings = settings or current_app.extensions["authtuna"].settings
    if (settings.cookie_host_prefix and settings.session_secure
            and not settings.session_cookie_domain and not base.startswith("__")):
        return f"__Host-{base}"
    return base


async def load_session() -> None:
    """Set ``g.user_id``, ``g.session_id``, ``g.token_method`` and friends for this request."""
    ext = current_app.extensions["authtuna"]
    settings = ext.settings
    meta = replace(request_meta(request, settings), device_token=request.cookies.get(
        cookie_name(settings.device_cookie_name, settings)))
    g.authtuna_meta = meta
    g.user_ip_address = meta.ip_address
    g.device_data = {"device": meta.device, "region": meta.region}
    g.user_id = g.session_id = g.token_method = g.api_key = None
    token = bearer_token() if settings.strategy.upper() != "COOKIE" else None
    if token is not None:
        await _load_api_key(ext.service, token)
        return  # a bearer header wins over the cookie (upstream's AUTO)
    cookie = request.cookies.get(cookie_name(settings.session_token_name, settings))
    if settings.strategy.upper() == "BEARER" or not cookie:
        return
    try:
        verdict = await ext.service.session_validator.validate(cookie, meta)
    except (SQLAlchemyError, OSError) as exc:
        logger.error("session verification failed: %s", type(exc).__name__)
        raise ServiceUnavailable("Authentication is temporarily unavailable.") from exc
    g.authtuna_verdict = verdict
    if verdict.state is not None:
        g.authtuna_state = verdict.state
        g.user_id = verdict.state.user_id
        g.session_id = verdict.state.session_id
        g.token_method = "COOKIE"


def bearer_token() -> str | None:
    """The credentials of an ``Authorization: Bearer`` header, or None."""
    scheme, _, credentials = request.headers.get("Authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not credentials.strip():
        return None
    return credentials.strip()


async def _load_api_key(service: Any, plaintext: str) -> None:
    """Validate the key once for this request; an invalid key leaves the request anonymous.

    ``g.token_method`` is ``"BEARER"`` either way, so guarded routes answer 401 in JSON.
    """
    g.token_method = "BEARER"
    try:
        principal = await service.api_keys.validate_key(plaintext)
    except (SQLAlchemyError, OSError) as exc:
        logger.error("api key verification failed: %s", type(exc).__name__)
        raise ServiceUnavailable("Authentication is temporarily unavailable.") from exc
    if principal is None:
        g.authtuna_invalid_api_key = True
        return
    g.authtuna_principal = principal
    g.user_id = principal.user_id
    g.api_key = principal.key_id


def set_session_cookie(value: str, state: SessionState | None = None) -> None:
    """Send ``value`` as the session cookie on this response (after login); it lives as long
    as ``state``'s session (without a state: as long as a new session)."""
    g.authtuna_cookie = value
    g.authtuna_cookie_state = state


def clear_session_cookie() -> None:
    """Delete the session cookie on this response (after logout)."""
    g.authtuna_cookie = ""


def _max_age(settings: Settings, state: SessionState | None, now: float) -> int:
    """Seconds until the session ends: its idle or its absolute expiry, whichever is first."""
    if state is None:
        return min(settings.session_lifetime_seconds, settings.session_absolute_lifetime_seconds)
    return max(0, int(min(state.etime, state.e_abs_time) - now))


async def save_session(response: Response) -> Response:
    """Write or delete the session cookie, only when it changed; it lives as long as the
    session, and each re-issue renews that."""
    ext = current_app.extensions["authtuna"]
    settings = ext.settings
    pending = g.get("authtuna_cookie")
    verdict = g.get("authtuna_verdict")
    name = cookie_name(settings.session_token_name, settings)
    options = {"path": "/", "domain": settings.session_cookie_domain,
               "secure": settings.session_secure, "httponly": True,
               "samesite": settings.session_same_site.capitalize()}
    if pending:
        max_age = _max_age(settings, g.get("authtuna_cookie_state"), ext.service.now())
        response.set_cookie(name, pending, max_age=max_age, **options)
    elif pending == "" or (verdict is not None and verdict.clear_cookie):
        response.delete_cookie(name, **options)
    elif verdict is not None and verdict.cookie:
        max_age = _max_age(settings, verdict.state, ext.service.now())
        response.set_cookie(name, verdict.cookie, max_age=max_age, **options)
    lax = {"path": "/", "domain": settings.session_cookie_domain,
           "secure": settings.session_secure, "httponly": True, "samesite": "Lax"}
    pending = g.get("authtuna_pending")
    if pending:
        response.set_cookie(cookie_name(MFA_PENDING_COOKIE, settings), pending, max_age=300,
                            **lax)
    elif g.get("authtuna_clear_pending"):
        response.delete_cookie(cookie_name(MFA_PENDING_COOKIE, settings), **lax)
    device = g.get("authtuna_device_token")
    if device:
        response.set_cookie(cookie_name(settings.device_cookie_name, settings), device,
                            max_age=settings.device_trust_lifetime_seconds, **lax)
    seed = g.get("authtuna_new_csrf_seed")
    if seed:
        response.set_cookie(cookie_name(CSRF_COOKIE, settings), seed, **lax)
    return response

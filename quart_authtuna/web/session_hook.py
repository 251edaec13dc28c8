"""before_request: who is this (cookie or bearer)? after_request: write the cookie if it changed."""

from __future__ import annotations

import logging
from typing import Any

from quart import Response, current_app, g, request
from sqlalchemy.exc import SQLAlchemyError
from werkzeug.exceptions import ServiceUnavailable

from . import csrf
from .request_meta import request_meta

logger = logging.getLogger("quart_authtuna")


async def load_session() -> None:
    """Set ``g.user_id``, ``g.session_id``, ``g.token_method`` and friends for this request."""
    ext = current_app.extensions["authtuna"]
    settings = ext.settings
    meta = request_meta(request, settings)
    g.authtuna_meta = meta
    g.user_ip_address = meta.ip_address
    g.device_data = {"device": meta.device, "region": meta.region}
    g.user_id = g.session_id = g.token_method = g.api_key = None
    token = bearer_token() if settings.strategy.upper() != "COOKIE" else None
    if token is not None:
        await _load_api_key(ext.service, token)
        return  # a bearer header wins over the cookie (upstream's AUTO)
    cookie = request.cookies.get(settings.session_token_name)
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


def set_session_cookie(value: str) -> None:
    """Send ``value`` as the session cookie on this response (after login)."""
    g.authtuna_cookie = value


def clear_session_cookie() -> None:
    """Delete the session cookie on this response (after logout)."""
    g.authtuna_cookie = ""


async def save_session(response: Response) -> Response:
    """Write or delete the session cookie, only when it changed."""
    settings = current_app.extensions["authtuna"].settings
    pending = g.get("authtuna_cookie")
    verdict = g.get("authtuna_verdict")
    options = {"path": "/", "domain": settings.session_cookie_domain,
               "secure": settings.session_secure, "httponly": True,
               "samesite": settings.session_same_site.capitalize()}
    if pending:
        response.set_cookie(settings.session_token_name, pending,
                            max_age=settings.session_absolute_lifetime_seconds, **options)
    elif pending == "" or (verdict is not None and verdict.clear_cookie):
        response.delete_cookie(settings.session_token_name, **options)
    elif verdict is not None and verdict.cookie:
        response.set_cookie(settings.session_token_name, verdict.cookie,
                            max_age=settings.session_absolute_lifetime_seconds, **options)
    pending = g.get("authtuna_pending")
    if pending:
        response.set_cookie("authtuna_mfa", pending, max_age=300, path="/", httponly=True,
                            secure=settings.session_secure, samesite="Lax",
                            domain=settings.session_cookie_domain)
    elif g.get("authtuna_clear_pending"):
        response.delete_cookie("authtuna_mfa", path="/", domain=settings.session_cookie_domain)
    device = g.get("authtuna_device_token")
    if device:
        response.set_cookie(settings.device_cookie_name, device, path="/", httponly=True,
                            max_age=settings.device_trust_lifetime_seconds,
                            secure=settings.session_secure, samesite="Lax",
                            domain=settings.session_cookie_domain)
    seed = g.get("authtuna_new_csrf_seed")
    if seed:
        response.set_cookie(csrf.COOKIE, seed, path="/", secure=settings.session_secure,
                            httponly=True, samesite="Lax", domain=settings.session_cookie_domain)
    return response

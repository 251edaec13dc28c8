"""before_request: who is this (cookie or bearer)? after_request: write the cookies that changed.

Both work on this request's :class:`~.request_state.RequestState`. A request without a
Cookie or Authorization header costs one scan of its header names and nothing else.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from typing import Any

from quart import Response, request
from sqlalchemy.exc import SQLAlchemyError

from ..core.errors import DatabaseUnavailable
from ..core.sessions.cache import SessionState
from ..core.settings import Settings
from .cookies import CSRF_COOKIE, MFA_PENDING_COOKIE, cookie_name, cookie_value, parsed_cookies
from .request_state import RequestState, new_request_state, request_state

logger = logging.getLogger("quart_authtuna")


def _credential_headers(headers: Iterable[tuple[bytes, bytes]]) -> tuple[bytes | None, bool]:
    """One pass over the raw ASGI headers (lower-case names): the Cookie header(s), joined
    by ``;`` as werkzeug joins them, and whether an Authorization header is present."""
    cookies: bytes | None = None
    authorization = False
    for name, value in headers:
        if name == b"cookie":
            cookies = value if cookies is None else cookies + b";" + value
        elif name == b"authorization":
            authorization = True
    return cookies, authorization


class SessionLoader:
    """The before-request hook's work for one app: who is asking (a valid bearer API key, or
    a valid session cookie, verified against the database only once per interval).

    What depends only on the settings (the cookie's name, the strategy) is worked out once."""

    def __init__(self, settings: Settings, service: Any) -> None:
        self._settings = settings
        self._service = service
        self._validator = service.session_validator
        self._rbac = service.rbac
        self._cookie = cookie_name(settings.session_token_name, settings)
        self._strategy = settings.strategy.upper()

    async def load(self) -> RequestState | None:
        """This request's state, or None for a request without a Cookie or Authorization
        header (one is made if something asks).

        With the database unavailable, a bearer request answers 503 at once; a cookie's
        state answers 503 when something reads who is asking (a page that never asks
        renders)."""
        req = request._get_current_object()  # type: ignore[attr-defined]
        raw_cookies, authorization = _credential_headers(req.scope.get("headers", ()))
        if raw_cookies is None and not authorization:
            return None
        settings, strategy = self._settings, self._strategy
        state = new_request_state(settings, req)
        if authorization and strategy != "COOKIE":
            token = bearer_token()
            if token is not None:
                await _load_api_key(self._service, state, token)
                return state  # a bearer header wins over the cookie (upstream's AUTO)
        if raw_cookies is None or strategy == "BEARER":
            return state
        req.cookies = jar = parsed_cookies(raw_cookies)  # what request.cookies would parse
        cookie = cookie_value(jar, self._cookie)
        if not cookie:
            return state
        try:
            verdict = await self._validator.validate(cookie, state.meta)
        except (SQLAlchemyError, OSError, DatabaseUnavailable) as exc:
            state.unavailable = _unavailable(settings, "session", exc)  # 503 once asked
            return state
        state.verdict = verdict
        if verdict.state is not None:
            state.signed_in(verdict.state, self._rbac)
        return state


def _unavailable(settings: Settings, what: str, exc: BaseException) -> DatabaseUnavailable:
    """The request cannot be identified: answer 503 (never as if it were anonymous)."""
    cause = exc.__cause__ if isinstance(exc, DatabaseUnavailable) and exc.__cause__ else exc
    logger.error("%s verification failed: %s", what, type(cause).__name__)
    return DatabaseUnavailable(settings.database_retry_after,
                               "We could not check your sign-in just now. You are still "
                               "signed in: please try again in a moment.")


def bearer_token() -> str | None:
    """The credentials of an ``Authorization: Bearer`` header, or None."""
    scheme, _, credentials = request.headers.get("Authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not credentials.strip():
        return None
    return credentials.strip()


async def _load_api_key(service: Any, state: RequestState, plaintext: str) -> None:
    """Validate the key once for this request; an invalid key leaves the request anonymous.

    ``token_method`` is ``"BEARER"`` either way, so guarded routes answer 401 in JSON.
    """
    state.token_method = "BEARER"
    try:
        principal = await service.api_keys.validate_key(plaintext)
    except (SQLAlchemyError, OSError, DatabaseUnavailable) as exc:
        raise _unavailable(service.settings, "api key", exc) from exc
    if principal is None:
        state.invalid_api_key = True
        return
    state.principal = principal
    state.user_id = principal.user_id


def set_session_cookie(value: str, session: SessionState | None = None) -> None:
    """Send ``value`` as the session cookie on this response (after login); it lives as long
    as ``session`` (without one: as long as a new session)."""
    state = request_state()
    state.new_session_cookie = value
    state.new_session = session


def clear_session_cookie() -> None:
    """Delete the session cookie on this response (after logout)."""
    request_state().new_session_cookie = ""


def _max_age(settings: Settings, state: SessionState | None, now: float) -> int:
    """Seconds until the session ends: its idle or its absolute expiry, whichever is first."""
    if state is None:
        return min(settings.session_lifetime_seconds, settings.session_absolute_lifetime_seconds)
    return max(0, int(min(state.etime, state.e_abs_time) - now))


def save_session(response: Response, state: RequestState, settings: Settings, now: float
                 ) -> None:
    """Write or delete the cookies this request changed (call it only when
    :meth:`~.request_state.RequestState.response_work` says so). The session cookie lives
    as long as the session, and each re-issue renews that."""
    name = cookie_name(settings.session_token_name, settings)
    options: dict[str, Any] = {
        "path": "/", "domain": settings.session_cookie_domain, "secure": settings.session_secure,
        "httponly": True, "samesite": settings.session_same_site.capitalize()}
    new, verdict = state.new_session_cookie, state.verdict
    if new:
        response.set_cookie(name, new, max_age=_max_age(settings, state.new_session, now),
                            **options)
    elif new == "" or (verdict is not None and verdict.clear_cookie):
        response.delete_cookie(name, **options)
    elif verdict is not None and verdict.cookie:
        response.set_cookie(name, verdict.cookie, max_age=_max_age(settings, verdict.state, now),
                            **options)
    lax: dict[str, Any] = {"path": "/", "domain": settings.session_cookie_domain,
                           "secure": settings.session_secure, "httponly": True, "samesite": "Lax"}
    if state.mfa_pending:
        response.set_cookie(cookie_name(MFA_PENDING_COOKIE, settings), state.mfa_pending,
                            max_age=300, **lax)
    elif state.clear_mfa_pending:
        response.delete_cookie(cookie_name(MFA_PENDING_COOKIE, settings), **lax)
    if state.device_token:
        response.set_cookie(cookie_name(settings.device_cookie_name, settings),
                            state.device_token, max_age=settings.device_trust_lifetime_seconds,
                            **lax)
    if state.new_csrf_seed:
        response.set_cookie(cookie_name(CSRF_COOKIE, settings), state.new_csrf_seed, **lax)

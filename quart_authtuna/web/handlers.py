"""Error handlers: a browser gets a redirect or a page, an API client gets the JSON envelope."""

from __future__ import annotations

from quart import Quart, redirect, request, url_for
from quart.typing import ResponseReturnValue
from sqlalchemy.exc import SQLAlchemyError

from ..core.errors import AuthTunaError, DatabaseUnavailable
from ..core.i18n import N_
from . import current
from .errors import Forbidden, Unauthorized, error_list, headers_for, status_for
from .redirects import safe_next
from .request_state import existing_request_state
from .respond import json_response, render_page, wants_json, with_headers


def _next_target() -> str:
    if request.method != "GET":
        return "/"
    return safe_next(request.full_path.rstrip("?"))


async def on_unauthorized(exc: Unauthorized) -> ResponseReturnValue:
    if wants_json():
        return json_response(401, errors=error_list(exc))
    endpoint = ("authtuna_auth.reauthenticate" if exc.code_name == "reauthentication_required"
                else "authtuna_auth.login")
    try:
        return redirect(url_for(endpoint, next=_next_target()))
    except Exception:  # noqa: BLE001 - the auth blueprint is off (ONLY_MIDDLEWARE)
        return await render_page("errors/error.html", 401, status=401, title=N_("Sign-in required"),
                                 message=exc.description)


async def on_forbidden(exc: Forbidden) -> ResponseReturnValue:
    if wants_json():
        return json_response(403, errors=error_list(exc))
    return await render_page("errors/403.html", 403, status=403, title=N_("Access denied"),
                             message=exc.description)


async def on_core_error(exc: AuthTunaError) -> ResponseReturnValue:
    if isinstance(exc, DatabaseUnavailable) and (state := existing_request_state()):
        state.unavailable_answered = True  # the error page itself shows nobody signed in
    status, headers = status_for(exc), headers_for(exc)
    if wants_json():
        return with_headers(json_response(status, errors=error_list(exc)), headers)
    title = (N_("Temporarily unavailable") if isinstance(exc, DatabaseUnavailable)
             else N_("Something needs your attention"))
    page = await render_page("errors/error.html", status, status=status, title=title,
                             message=exc.message)
    return with_headers(page, headers)


async def on_database_error(exc: Exception) -> ResponseReturnValue:
    """A database error the core did not name (it names unavailability), or Redis holding
    the attempt counters (STATE_BACKEND) down: 503, retry soon."""
    return await on_core_error(DatabaseUnavailable(current.settings().database_retry_after))


def register(app: Quart) -> None:
    app.register_error_handler(Unauthorized, on_unauthorized)
    app.register_error_handler(Forbidden, on_forbidden)
    app.register_error_handler(AuthTunaError, on_core_error)
    app.register_error_handler(SQLAlchemyError, on_database_error)
    try:
        from redis.exceptions import RedisError
    except ImportError:  # pragma: no cover - the optional extra is missing
        return
    app.register_error_handler(RedisError, on_database_error)

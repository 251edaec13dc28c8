"""Content negotiation and rendering: one flow result, an HTML page or a JSON envelope."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from quart import Response, jsonify, render_template, request
from quart.typing import ResponseReturnValue

from . import current
from .errors import envelope
from .request_state import request_state


def wants_json() -> bool:
    """JSON for API clients: a JSON body, a bearer token, or Accept preferring JSON."""
    if request.is_json or request_state().token_method == "BEARER":
        return True
    best = request.accept_mimetypes.best_match(["text/html", "application/json"])
    return best == "application/json"


async def render_page(template: str, status: int = 200, /, **context: Any) -> Response:
    """Render ``authtuna/<template>`` (an app's same-named file wins).

    ``status`` is positional-only so error pages can also pass ``status=`` to the template.
    """
    settings = current.settings()
    context.setdefault("app_name", settings.app_name)
    context.setdefault("password_min_length", settings.password_min_length)
    html = await render_template(f"authtuna/{template}", **context)
    return Response(html, status, content_type="text/html; charset=utf-8")


def json_response(status: int = 200, data: Any = None, errors: list[dict[str, Any]] | None = None,
                  **meta: Any) -> Response:
    """The envelope ``{"status", "errors"?, "data"?, "meta"?}`` with ``status``."""
    response = jsonify(envelope(status, errors, data, meta or None))
    response.status_code = status
    return response


def with_headers(response: Response, headers: dict[str, str]) -> Response:
    response.headers.update(headers)
    return response


def _json_wanted(form: Any) -> bool:
    return bool(getattr(form, "is_json", False)) or wants_json()


async def form_invalid(form: Any, template: str, **context: Any) -> ResponseReturnValue:
    """The form failed its shape checks (or CSRF): 400 with the field errors."""
    if _json_wanted(form):
        return json_response(400, errors=form.error_list())
    error = None
    if "csrf_token" in form.errors:
        error = form.errors["csrf_token"][0]
    return await render_page(template, 400, form=form, error=error, **context)


async def flow_failed(exc: Exception, form: Any, template: str, *,
                      rename: dict[str, str] | None = None, **context: Any
                      ) -> ResponseReturnValue:
    """A core flow refused: its status and messages, on the form or in the envelope."""
    from ..core.errors import AuthTunaError, InputError
    from ..core.i18n import gettext
    from .errors import error_list, headers_for, status_for

    status = status_for(exc) if isinstance(exc, AuthTunaError) else 400
    if rename and isinstance(exc, InputError):
        exc.errors = [replace(e, param=rename.get(e.param or "", e.param)) for e in exc.errors]
    headers = headers_for(exc)
    if _json_wanted(form):
        return with_headers(json_response(status, errors=error_list(exc)), headers)
    error: str | None = getattr(exc, "message", str(exc))
    if isinstance(exc, InputError):
        placed = [e for e in exc.errors if e.param and hasattr(form, e.param)]
        for e in placed:
            field = getattr(form, e.param or "")
            field.errors = [*field.errors, gettext(e.message)]
        error = None if len(placed) == len(exc.errors) else error
    page = await render_page(template, status, form=form, error=error, **context)
    return with_headers(page, headers)


def finished(form: Any, html: ResponseReturnValue, data: Any = None, status: int = 200
             ) -> ResponseReturnValue:
    """The flow succeeded: the HTML answer for browsers, the envelope for API clients."""
    if _json_wanted(form):
        return json_response(status, data=data if data is not None else {})
    return html

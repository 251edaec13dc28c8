"""Core errors → HTTP status and a stable JSON envelope; Unauthorized/Forbidden for apps."""

from __future__ import annotations

import math
from typing import Any

from werkzeug.exceptions import Forbidden as _Forbidden
from werkzeug.exceptions import Unauthorized as _Unauthorized

from ..core import errors as core
from ..core.i18n import N_, gettext


class Unauthorized(_Unauthorized):
    """Raised when a route needs a signed-in user (apps may ``@app.errorhandler`` it)."""

    code_name = "unauthenticated"

    def __init__(self, description: str | None = None, *, code_name: str | None = None):
        super().__init__(description or N_("Authentication required."))
        self.code_name = code_name or self.code_name


class Forbidden(_Forbidden):
    """Raised when the signed-in user lacks a permission or role."""

    code_name = "permission_denied"

    def __init__(self, description: str | None = None, *, code_name: str | None = None):
        super().__init__(description or N_("You do not have access to this resource."))
        self.code_name = code_name or self.code_name


#: The one table from core error class to HTTP status (the most specific class wins).
STATUS: dict[type[core.AuthTunaError], int] = {
    core.InvalidCredentials: 401,
    core.AccountSuspended: 403,
    core.ReauthenticationRequired: 401,
    core.MfaRequired: 401,
    core.SocialSignInFailed: 400,
    core.AuthenticationError: 401,
    core.AuthorizationError: 403,
    core.InputError: 400,
    core.TokenError: 400,
    core.RateLimited: 429,
    core.DatabaseUnavailable: 503,
    core.NotFound: 404,
    core.ConflictError: 409,
    core.ConfigurationError: 500,
}


def status_for(exc: core.AuthTunaError) -> int:
    for cls in type(exc).__mro__:
        if cls in STATUS:
            return STATUS[cls]
    return 400


def headers_for(exc: Exception) -> dict[str, str]:
    """Headers an error answer carries: ``Retry-After`` in whole seconds (at least 1)."""
    if isinstance(exc, core.RateLimited | core.DatabaseUnavailable):
        return {"Retry-After": str(max(1, math.ceil(exc.retry_after)))}
    return {}


def envelope(status: int, errors: list[dict[str, Any]] | None = None,
             data: Any = None, meta: dict[str, Any] | None = None) -> dict[str, Any]:
    """The JSON shape of every API answer: ``{"status", "errors"?, "data"?, "meta"?}``."""
    body: dict[str, Any] = {"status": status}
    if errors:
        body["errors"] = errors
    if data is not None:
        body["data"] = data
    if meta:
        body["meta"] = meta
    return body


def error_list(exc: Exception) -> list[dict[str, Any]]:
    """``[{"code", "message", "param"}]`` for a core error or a web error."""
    if isinstance(exc, core.InputError):
        return [{"code": e.code, "message": gettext(e.message), "param": e.param}
                for e in exc.errors]
    if isinstance(exc, core.AuthTunaError):
        return [{"code": exc.code, "message": exc.message, "param": None}]
    code = getattr(exc, "code_name", "error")
    return [{"code": code, "message": getattr(exc, "description", str(exc)), "param": None}]

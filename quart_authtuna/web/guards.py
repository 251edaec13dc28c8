"""The one blueprint factory: every authtuna area gets the same guards from here.

Before each view, in this order:

1. the body is read within :data:`~.request_body.BODY_LIMIT` (413 otherwise, after draining
   it so the client reads the answer), and JSON or form input is decoded strictly (400);
2. API keys are refused on account-management routes unless
   ``API_KEYS_ACCOUNT_MANAGEMENT`` is on (401 for an invalid key, 403 for a valid one);
3. JSON writes must come from this site (403 ``cross_origin``);
4. areas without forms check the CSRF token of form posts (400 ``csrf_failed``).

Security headers and ``no-store`` come from :mod:`.security_headers`, for every authtuna
response, error pages included.
"""

from __future__ import annotations

from collections.abc import Collection
from typing import Final

from quart import Blueprint, request
from quart.typing import ResponseReturnValue
from werkzeug.exceptions import RequestEntityTooLarge

from ..core.i18n import N_
from . import csrf, current
from .errors import Forbidden, Unauthorized
from .request_body import (
    BodyRefused,
    check_form,
    has_body,
    is_api_write,
    parsed_json,
    read_within,
)
from .request_state import request_state
from .respond import json_response, render_page, wants_json, with_headers

#: ``account_management=EVERY_ROUTE``: the whole area manages the signed-in account.
EVERY_ROUTE: Final = frozenset({"*"})
_WRITES = frozenset({"POST", "PUT", "PATCH", "DELETE"})
_TOO_LARGE = "The submitted data is too large."


def authtuna_blueprint(name: str, import_name: str, *,
                       account_management: Collection[str] = (),
                       form_csrf: bool = False) -> Blueprint:
    """A Blueprint with the authtuna guards.

    Arguments:
        name: the blueprint name (``authtuna_<area>``, so headers and errors know it).
        import_name: the module's ``__name__``.
        account_management: endpoint names (without the blueprint prefix) that manage the
            signed-in account, or :data:`EVERY_ROUTE`; API keys are refused there.
        form_csrf: check the CSRF token of every non-JSON write (for areas whose views
            read no WTForms form).
    """
    blueprint = Blueprint(name, import_name)
    account = frozenset(account_management)

    async def guard() -> ResponseReturnValue | None:
        return await _guard(account, form_csrf)

    guard.__name__ = f"_guard_{name}"
    blueprint.before_request(guard)
    blueprint.register_error_handler(RequestEntityTooLarge, too_large)
    return blueprint


async def _guard(account: frozenset[str], form_csrf: bool) -> ResponseReturnValue | None:
    if has_body() and not await read_within():
        raise RequestEntityTooLarge(_TOO_LARGE)
    if account and _is_account_route(account):
        _refuse_api_keys()
    if any("\x00" in str(value) for value in (request.view_args or {}).values()):
        return json_response(404, errors=[{"code": "not_found", "param": None,
                                           "message": "Not found."}])
    if request.method not in _WRITES:
        return None
    api_call = await is_api_write()
    try:
        if request.is_json:
            await parsed_json()
        elif not api_call:
            await check_form()
    except BodyRefused as refused:
        return json_response(refused.status, errors=[
            {"code": refused.code, "param": None, "message": refused.message}])
    settings = current.settings()
    if api_call and not csrf.same_origin(settings.api_base_url):
        return json_response(403, errors=[{"code": "cross_origin", "param": None,
                                           "message": "Cross-site requests are refused."}])
    if form_csrf and not api_call and not csrf.token_is_valid(
            (await request.form).get("csrf_token")):
        return json_response(400, errors=[{"code": "csrf_failed", "param": "csrf_token",
                                           "message": csrf.EXPIRED}])
    return None


def _is_account_route(account: frozenset[str]) -> bool:
    if "*" in account:
        return True
    return (request.endpoint or "").rpartition(".")[2] in account


def _refuse_api_keys() -> None:
    """A bearer API key may not manage the account (password, MFA, passkeys, dashboard)."""
    state = request_state()
    if state.token_method != "BEARER" or state.settings.api_keys_account_management:
        return
    if state.principal is None:
        raise Unauthorized("Invalid or expired API key.", code_name="invalid_api_key")
    raise Forbidden("API keys cannot manage the account; sign in instead.",
                    code_name="api_key_refused")


async def too_large(exc: RequestEntityTooLarge) -> ResponseReturnValue:
    """413 in the envelope or as a page; ``Connection: close`` when the body was not drained."""
    headers = {"Connection": "close"} if request_state().close_connection else {}
    if request.is_json or wants_json():
        return with_headers(json_response(413, errors=[{
            "code": "too_large", "param": None, "message": _TOO_LARGE}]), headers)
    page = await render_page("errors/error.html", 413, status=413, title=N_("Too large"),
                             message=N_("The submitted data is too large. Please shorten it."))
    return with_headers(page, headers)

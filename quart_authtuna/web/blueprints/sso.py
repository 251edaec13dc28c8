"""Social sign-in routes at upstream's paths: ``/auth/<provider>/login`` sends the browser to
the provider, ``/auth/<provider>/callback`` comes back, ``/auth/<provider>/signup`` asks a new
person for a username when the provider's one cannot be used. Every failure is a page (or
the JSON envelope), never a 500. State is bound to this browser's CSRF seed cookie."""

from __future__ import annotations

from typing import Any

from quart import make_response, redirect, request, url_for
from quart.typing import ResponseReturnValue
from wtforms import HiddenField, StringField
from wtforms.validators import DataRequired, Length

from ...core.errors import AuthTunaError
from ...core.flows.results import SocialConnected, SocialUsernameNeeded
from .. import csrf
from ..cookies import cookie_name
from ..errors import error_list, status_for
from ..forms.base import AuthTunaForm, text
from ..guards import authtuna_blueprint
from ..journey import meta, serve, service
from ..login_outcome import answer_sign_in
from ..redirects import safe_next
from ..request_state import request_state
from ..respond import finished, json_response, render_page, wants_json

sso = authtuna_blueprint("authtuna_sso", __name__)
#: The pending username sign-up's handle lives in this HttpOnly cookie, never in a URL.
SIGNUP_COOKIE = "authtuna_sso_signup"


class SocialUsernameForm(AuthTunaForm):
    username = StringField("Username", [DataRequired(message="This field is required."),
                                        Length(max=64)],
                           render_kw={"autocomplete": "username", "autofocus": True})
    next = HiddenField()
    signup_token = HiddenField()


@sso.app_context_processor
def sso_providers() -> dict[str, Any]:
    """``authtuna_sso_providers``: the buttons on the sign-in and confirm-it's-you pages."""
    return {"authtuna_sso_providers": list(service().flows.sso.providers.values())}


@sso.get("/<provider>/login")
async def login(provider: str) -> ResponseReturnValue:
    target = safe_next(request.args.get("next"))
    try:
        url = await service().flows.sso.begin(provider, csrf.browser_seed(), target)
    except AuthTunaError as exc:
        return await failed(exc, target)
    return redirect(url) if not wants_json() else json_response(200, data={
        "authorize_url": url})


@sso.get("/<provider>/callback")
async def callback(provider: str) -> ResponseReturnValue:
    params = {k: request.args.get(k, "")[:4096] for k in ("state", "code", "error")}
    flows = service().flows
    try:
        done = await flows.sso.complete(provider, params, csrf.browser_seed(), meta(),
                                        request_state().user_id)
    except AuthTunaError as exc:
        return await failed(exc, "/")
    outcome, target = done.outcome, safe_next(done.next)
    if isinstance(outcome, SocialConnected):
        back = url_for("authtuna_ui.settings", done="connected", _anchor="connections")
        return finished(_Page(), redirect(back), {"connected": outcome.provider})
    if isinstance(outcome, SocialUsernameNeeded):
        return await _ask_username(outcome, target)
    return await answer_sign_in(outcome, _Page(), target)


async def _ask_username(outcome: SocialUsernameNeeded, target: str) -> ResponseReturnValue:
    if wants_json():
        return json_response(200, data={"username_required": True, "suggestion":
                                        outcome.suggestion, "signup_token": outcome.handle})
    response = await make_response(redirect(url_for(
        "authtuna_sso.signup", provider=outcome.provider, next=target)))
    settings = service().settings
    response.set_cookie(cookie_name(SIGNUP_COOKIE, settings), outcome.handle, max_age=900,
                        secure=settings.session_secure, httponly=True, samesite="Lax")
    return response


@sso.route("/<provider>/signup", methods=["GET", "POST"])
async def signup(provider: str) -> ResponseReturnValue:
    """Choose a username to finish creating the account the provider vouched for."""
    form = await SocialUsernameForm.from_request(next=request.args.get("next", ""))
    handle = text(form.signup_token) or request.cookies.get(cookie_name(SIGNUP_COOKIE), "")
    flows = service().flows
    try:
        pending = await flows.sso.pending_username(handle, csrf.browser_seed())
    except AuthTunaError as exc:
        return await failed(exc, "/")
    if request.method == "GET" and not form.username.data:
        form.username.data = pending.suggestion
    return await serve(
        form, "auth/sso_username.html",
        lambda f: flows.sso.choose_username(handle, csrf.browser_seed(), text(f.username),
                                            meta()),
        lambda f, result: answer_sign_in(result, f, safe_next(f.next.data)),
        provider=flows.sso.provider(pending.provider))


async def failed(exc: AuthTunaError, target: str) -> ResponseReturnValue:
    """A refused or broken provider sign-in: a page with a way back, or the envelope."""
    status = status_for(exc)
    if wants_json():
        return json_response(status, errors=error_list(exc))
    return await render_page("auth/message.html", status, title="Sign-in did not work",
                             message=exc.message, link_label="Back to sign in",
                             link_url=url_for("authtuna_auth.login", next=target))


class _Page:
    """The callback has no form: the answer follows content negotiation alone."""

    is_json = False

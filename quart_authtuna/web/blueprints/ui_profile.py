"""The user area's dashboard and profile pages (on the ``ui`` blueprint): the account at a
glance, changing the username, and changing the email address through a confirmation link."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from quart import redirect, request, url_for
from quart.typing import ResponseReturnValue

from ...core.errors import TokenError
from ...core.flows.results import EmailChanged, EmailChangeRequested, UsernameChanged
from ...core.i18n import N_, gettext
from ...core.i18n import lazy_gettext as _l
from ...decorators import fresh_login_required, login_required
from ..forms.auth import TokenForm
from ..forms.base import AuthTunaForm, text
from ..forms.profile import EmailChangeForm, UsernameForm
from ..journey import message, meta, serve, service
from ..login_outcome import user_json
from ..request_state import request_state
from ..respond import finished, json_response, render_page, wants_json
from .ui import ui

#: ``?done=`` after a change: the notice the profile page shows (nothing else is echoed).
NOTICES = {
    "username": _l("Your username was changed."),
    "email": _l("If that address can be used, we have sent it a confirmation link. Your email "
             "address stays the same until you open the link."),
}


@ui.app_template_filter("authtuna_iso")
def iso_datetime(epoch: float | None) -> str:
    """An epoch as ISO 8601 (for ``<time datetime>``)."""
    return datetime.fromtimestamp(epoch, UTC).isoformat() if epoch else ""


@ui.get("/dashboard")
@login_required
async def dashboard() -> ResponseReturnValue:
    """The account at a glance: status, the latest security events, shortcuts."""
    state = request_state()
    status = await service().flows.account_overview(state.signed_in_user(), state.session_id)
    if wants_json():
        return json_response(200, data=status.as_json())
    return await render_page("account/dashboard.html", status=status,
                             mfa_available=service().settings.mfa_enabled)


@ui.route("/profile", methods=["GET", "POST", "PATCH"])
@login_required
async def profile() -> ResponseReturnValue:
    """GET: the profile; POST (form) or PATCH (upstream's JSON ``{username}``): rename."""
    state = request_state()
    user_id = state.signed_in_user()
    return await serve(
        await UsernameForm.from_request(), "account/profile.html",
        lambda f: service().flows.profile.change_username(user_id, text(f.username), meta()),
        _renamed, **await _profile_context(user_id))


async def _profile_context(user_id: str) -> dict[str, Any]:
    user = await service().users.get_by_id(user_id)
    return {"user": user, "pending": await service().flows.email_change.waiting(user_id),
            "notice": NOTICES.get(request.args.get("done", ""))}


async def _renamed(form: AuthTunaForm, done: UsernameChanged) -> ResponseReturnValue:
    return finished(form, redirect(url_for("authtuna_ui.profile", done="username")),
                    {"user": user_json(done.user), "previous_username": done.previous})


@ui.route("/profile/email", methods=["GET", "POST"])
@fresh_login_required
async def change_email() -> ResponseReturnValue:
    """Ask for a new address (needs a recent sign-in): a link to it, a notice to the old."""
    user_id = request_state().signed_in_user()
    user = await service().users.get_by_id(user_id)
    return await serve(
        await EmailChangeForm.from_request(), "account/email_change.html",
        lambda f: service().flows.email_change.request(user_id, text(f.email), meta()),
        _requested, user=user)


async def _requested(form: AuthTunaForm, done: EmailChangeRequested) -> ResponseReturnValue:
    return finished(form, redirect(url_for("authtuna_ui.profile", done="email")),
                    {"new_email": done.new_email, "expires_minutes": done.expires_minutes},
                    status=202)


@ui.route("/profile/email/confirm", methods=["GET", "POST"])
async def confirm_email() -> ResponseReturnValue:
    """The mailed link: GET shows what it would change, the POST applies it (once)."""
    form = await TokenForm.from_request()
    context: dict[str, Any] = {"new_email": None}
    if request.method == "GET":
        try:
            context["new_email"] = await service().flows.email_change.pending(text(form.token))
        except TokenError as exc:
            context["error"] = exc.message
    return await serve(
        form, "account/email_confirm.html",
        lambda f: service().flows.email_change.confirm(text(f.token), meta()), _changed,
        **context)


async def _changed(form: AuthTunaForm, done: EmailChanged) -> ResponseReturnValue:
    signed_in = request_state().user_id == done.user.id
    link = ((url_for("authtuna_ui.profile"), N_("Back to your profile")) if signed_in
            else (url_for("authtuna_auth.login"), N_("Sign in")))
    now_uses = gettext("Your account now uses %(email)s.") % {"email": done.user.email}
    return await message(form, {"user": user_json(done.user)}, N_("Email address changed"),
                         now_uses, link=link)

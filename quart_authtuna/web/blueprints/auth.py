"""Sign-in area: every flow served as an HTML form and as JSON on the same path."""

from __future__ import annotations

from typing import Any

from quart import current_app, g, redirect, request, url_for
from quart.typing import ResponseReturnValue
from werkzeug.exceptions import NotFound

from ...core.errors import AuthTunaError
from ...core.flows import email_verification, magic_link, signup
from ...core.flows.login import reauthenticate as core_reauthenticate
from ...core.service import AuthService
from ...core.stages import MfaPending
from ...decorators import login_required, require_user
from ..forms.auth import (
    ChangePasswordForm,
    EmailForm,
    LoginForm,
    ReauthenticateForm,
    ResetPasswordForm,
    SignupForm,
    TokenForm,
)
from ..guards import authtuna_blueprint
from ..login_outcome import mfa_pending, start_session
from ..redirects import safe_next
from ..respond import finished, flow_failed, form_invalid, json_response, render_page
from ..session_hook import clear_session_cookie

auth = authtuna_blueprint("authtuna_auth", __name__,
                          account_management={"change_password", "reauthenticate"})
_FAILURES = (AuthTunaError,)
_NEW_PASSWORD = {"password": "new_password"}


def svc() -> AuthService:
    return current_app.extensions["authtuna"].service


def _message(title: str, message: str, link_url: str | None = None,
             link_label: str | None = None) -> Any:
    return render_page("auth/message.html", title=title, message=message, link_url=link_url,
                       link_label=link_label)


def user_json(user: Any) -> dict[str, Any]:
    return {"id": user.id, "username": user.username, "email": user.email,
            "email_verified": user.email_verified, "mfa_enabled": user.mfa_enabled}


@auth.route("/login", methods=["GET", "POST"])
async def login() -> ResponseReturnValue:
    form = await LoginForm.from_request(next=request.args.get("next", ""))
    page = "auth/login.html"
    context = {"passwordless_enabled": svc().settings.passwordless_login_enabled}
    if request.method == "GET":
        return await render_page(page, form=form, **context)
    if not form.validate():
        return await form_invalid(form, page, **context)
    meta = g.authtuna_meta
    try:
        user, issued = await svc().login(form.username_or_email.data, form.password.data,
                                         meta.ip_address, meta.region, meta.device,
                                         fingerprint=meta.fingerprint)
    except MfaPending as exc:
        return mfa_pending(exc, form, safe_next(form.next.data))
    except _FAILURES as exc:
        return await flow_failed(exc, form, page, **context)
    await start_session(user, issued)
    target = safe_next(form.next.data)
    return finished(form, redirect(target), {"user": user_json(user), "next": target})


@auth.post("/logout")
async def logout() -> ResponseReturnValue:
    form = await TokenForm.from_request()
    if not form.is_json and not form.csrf_token.validate(form):
        return await render_page("errors/error.html", 400, status=400, title="Expired form",
                                 message="Please reload the page and sign out again.")
    if g.get("session_id"):
        await svc().sessions.terminate(g.session_id, reason="logout")
    clear_session_cookie()
    return finished(form, redirect(url_for("authtuna_auth.login")), {"logged_out": True})


@auth.route("/signup", methods=["GET", "POST"], endpoint="signup")
async def signup_view() -> ResponseReturnValue:
    form = await SignupForm.from_request()
    page, context = "auth/signup.html", {"password_min_length": svc().settings.password_min_length}
    if request.method == "GET":
        return await render_page(page, form=form, **context)
    if not form.validate():
        return await form_invalid(form, page, **context)
    try:
        await signup.signup(svc(), form.username.data, form.email.data, form.password.data,
                            g.user_ip_address)
    except _FAILURES as exc:
        return await flow_failed(exc, form, page, **context)
    html = await _message("Check your email", "If this address can be used, we have sent a "
                          "link to confirm it. Follow it to finish creating your account.")
    return finished(form, html, {"message": "check_email"}, status=202)


@auth.route("/verify", methods=["GET", "POST"])
async def verify() -> ResponseReturnValue:
    form = await TokenForm.from_request()
    if request.method == "GET":
        return await render_page("auth/verify_email.html", form=form)
    if not form.validate():
        return await form_invalid(form, "auth/verify_email.html")
    try:
        user = await email_verification.verify_email(svc(), form.token.data, g.user_ip_address)
    except _FAILURES as exc:
        return await flow_failed(exc, form, "auth/verify_email.html")
    html = await _message("Email confirmed", "Thank you. You can now sign in.",
                          url_for("authtuna_auth.login"), "Sign in")
    return finished(form, html, {"user": user_json(user)})


@auth.route("/verify/resend", methods=["GET", "POST"])
async def resend_verification() -> ResponseReturnValue:
    form, page = await EmailForm.from_request(), "auth/resend_verification.html"
    if request.method == "GET":
        return await render_page(page, form=form)
    if not form.validate():
        return await form_invalid(form, page)
    await email_verification.resend_verification(svc(), form.email.data, g.user_ip_address)
    html = await _message("Check your email", "If that address is waiting for confirmation, "
                          "we have sent it a new link.")
    return finished(form, html, {"message": "check_email"}, status=202)


@auth.route("/forgot-password", methods=["GET", "POST"])
async def forgot_password() -> ResponseReturnValue:
    form, page = await EmailForm.from_request(), "auth/forgot_password.html"
    if request.method == "GET":
        return await render_page(page, form=form)
    if not form.validate():
        return await form_invalid(form, page)
    await svc().request_password_reset(form.email.data, g.user_ip_address)
    html = await _message("Check your email", "If an account uses that address, we have sent "
                          "it a link to choose a new password.")
    return finished(form, html, {"message": "check_email"}, status=202)


@auth.route("/reset-password", methods=["GET", "POST"])
async def reset_password() -> ResponseReturnValue:
    form, page = await ResetPasswordForm.from_request(), "auth/reset_password.html"
    if request.method == "GET":
        return await render_page(page, form=form)
    if not form.validate():
        return await form_invalid(form, page)
    try:
        await svc().reset_password(form.token.data, form.new_password.data, g.user_ip_address)
    except _FAILURES as exc:
        return await flow_failed(exc, form, page, rename=_NEW_PASSWORD)
    html = await _message("Password changed", "Your password has been changed and every "
                          "session was signed out.", url_for("authtuna_auth.login"), "Sign in")
    return finished(form, html, {"password_reset": True})


@auth.route("/change-password", methods=["GET", "POST"])
@login_required
async def change_password() -> ResponseReturnValue:
    form, page = await ChangePasswordForm.from_request(), "auth/change_password.html"
    if request.method == "GET":
        return await render_page(page, form=form)
    if not form.validate():
        return await form_invalid(form, page)
    try:
        await svc().change_password(g.user_id, form.current_password.data,
                                    form.new_password.data, g.user_ip_address, g.session_id)
    except _FAILURES as exc:
        return await flow_failed(exc, form, page, rename=_NEW_PASSWORD)
    html = await _message("Password changed", "Your other sessions were signed out.", "/",
                          "Continue")
    return finished(form, html, {"password_changed": True})


def _require_passwordless() -> None:
    """PASSWORDLESS_LOGIN_ENABLED off: the magic-link pages do not exist."""
    if not svc().settings.passwordless_login_enabled:
        raise NotFound()


@auth.route("/passwordless/request", methods=["GET", "POST"])
async def passwordless_request() -> ResponseReturnValue:
    _require_passwordless()
    form, page = await EmailForm.from_request(), "auth/passwordless_request.html"
    if request.method == "GET":
        return await render_page(page, form=form)
    if not form.validate():
        return await form_invalid(form, page)
    await magic_link.request_link(svc(), form.email.data, g.user_ip_address)
    html = await _message("Check your email", "If an account uses that address, we have sent "
                          "it a sign-in link.")
    return finished(form, html, {"message": "check_email"}, status=202)


@auth.route("/passwordless/login", methods=["GET", "POST"])
async def passwordless_login() -> ResponseReturnValue:
    _require_passwordless()
    form, page = await TokenForm.from_request(), "auth/passwordless_confirm.html"
    if request.method == "GET":
        return await render_page(page, form=form)
    if not form.validate():
        return await form_invalid(form, page)
    try:
        user, issued = await magic_link.login_with_link(svc(), form.token.data, g.authtuna_meta)
    except MfaPending as exc:
        return mfa_pending(exc, form, "/")
    except _FAILURES as exc:
        return await flow_failed(exc, form, page)
    await start_session(user, issued)
    return finished(form, redirect("/"), {"user": user_json(user)})


@auth.get("/user-info")
@login_required
async def user_info() -> ResponseReturnValue:
    user = await require_user()
    roles = [{"role": r, "scope": s} for r, s in sorted(user.grants.roles)]
    data = {"id": user.id, "username": user.username, "email": user.email,
            "email_verified": user.email_verified, "mfa_enabled": user.mfa_enabled,
            "roles": roles}
    return json_response(200, data=data)


@auth.route("/reauthenticate", methods=["GET", "POST"])
@login_required
async def reauthenticate() -> ResponseReturnValue:
    form = await ReauthenticateForm.from_request(next=request.args.get("next", ""))
    page = "auth/reauthenticate.html"
    if request.method == "GET":
        return await render_page(page, form=form)
    if not form.validate():
        return await form_invalid(form, page)
    try:
        await core_reauthenticate(svc(), g.user_id, g.session_id, form.password.data,
                                  g.user_ip_address)
    except _FAILURES as exc:
        return await flow_failed(exc, form, page)
    target = safe_next(form.next.data)
    return finished(form, redirect(target), {"next": target})

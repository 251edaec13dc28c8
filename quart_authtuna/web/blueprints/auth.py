"""Sign-in area: every flow served as an HTML form and as JSON on the same path."""

from __future__ import annotations

from quart import redirect, request, url_for
from quart.typing import ResponseReturnValue
from werkzeug.exceptions import NotFound

from ...core.flows.results import Reauthenticated
from ...decorators import fresh_login_required, login_required, require_user
from ..forms.auth import (
    ChangePasswordForm,
    EmailForm,
    LoginForm,
    ReauthenticateForm,
    ResetPasswordForm,
    SetPasswordForm,
    SignupForm,
    TokenForm,
)
from ..forms.base import ActionForm, text
from ..guards import authtuna_blueprint
from ..journey import message, meta, serve, service
from ..login_outcome import answer_sign_in, start_session, user_json
from ..redirects import safe_next
from ..request_state import request_state
from ..respond import finished, json_response
from ..session_hook import clear_session_cookie

auth = authtuna_blueprint("authtuna_auth", __name__,
                          account_management={"change_password", "reauthenticate",
                                              "set_password"})
_NEW_PASSWORD = {"password": "new_password"}
_CHECK_EMAIL = {"message": "check_email"}


@auth.route("/login", methods=["GET", "POST"])
async def login() -> ResponseReturnValue:
    form = await LoginForm.from_request(next=request.args.get("next", ""))
    return await serve(
        form, "auth/login.html",
        lambda f: service().flows.password_login(text(f.username_or_email), text(f.password),
                                                 meta()),
        lambda f, result: answer_sign_in(result, f, safe_next(f.next.data)),
        passwordless_enabled=service().settings.passwordless_login_enabled)


@auth.post("/logout")
async def logout() -> ResponseReturnValue:
    return await serve(
        await ActionForm.from_request(), "errors/error.html",
        lambda f: service().flows.logout(request_state().session_id), _signed_out,
        status=400, title="Expired form", message="Please reload the page and sign out again.")


async def _signed_out(form: ActionForm, _: object) -> ResponseReturnValue:
    clear_session_cookie()
    return finished(form, redirect(url_for("authtuna_auth.login")), {"logged_out": True})


@auth.route("/signup", methods=["GET", "POST"], endpoint="signup")
async def signup_view() -> ResponseReturnValue:
    return await serve(
        await SignupForm.from_request(), "auth/signup.html",
        lambda f: service().flows.signup(text(f.username), text(f.email), text(f.password),
                                         meta()),
        lambda f, _: message(f, _CHECK_EMAIL, "Check your email", "If this address can be "
                             "used, we have sent a link to confirm it. Follow it to finish "
                             "creating your account.", status=202))


@auth.route("/verify", methods=["GET", "POST"])
async def verify() -> ResponseReturnValue:
    return await serve(
        await TokenForm.from_request(), "auth/verify_email.html",
        lambda f: service().flows.email_verification.verify(text(f.token), meta()),
        lambda f, done: message(f, {"user": user_json(done.user)}, "Email confirmed",
                                "Thank you. You can now sign in.",
                                link=(url_for("authtuna_auth.login"), "Sign in")))


@auth.route("/verify/resend", methods=["GET", "POST"])
async def resend_verification() -> ResponseReturnValue:
    return await serve(
        await EmailForm.from_request(), "auth/resend_verification.html",
        lambda f: service().flows.email_verification.resend(text(f.email), meta()),
        lambda f, _: message(f, _CHECK_EMAIL, "Check your email", "If that address is "
                             "waiting for confirmation, we have sent it a new link.",
                             status=202))


@auth.route("/forgot-password", methods=["GET", "POST"])
async def forgot_password() -> ResponseReturnValue:
    return await serve(
        await EmailForm.from_request(), "auth/forgot_password.html",
        lambda f: service().flows.passwords.request_reset(text(f.email), meta()),
        lambda f, _: message(f, _CHECK_EMAIL, "Check your email", "If an account uses that "
                             "address, we have sent it a link to choose a new password.",
                             status=202))


@auth.route("/reset-password", methods=["GET", "POST"])
async def reset_password() -> ResponseReturnValue:
    return await serve(
        await ResetPasswordForm.from_request(), "auth/reset_password.html",
        lambda f: service().flows.passwords.reset(text(f.token), text(f.new_password), meta()),
        lambda f, _: message(f, {"password_reset": True}, "Password changed",
                             "Your password has been changed and every session was signed "
                             "out.", link=(url_for("authtuna_auth.login"), "Sign in")),
        rename=_NEW_PASSWORD)


@auth.route("/change-password", methods=["GET", "POST"])
@login_required
async def change_password() -> ResponseReturnValue:
    state = request_state()
    return await serve(
        await ChangePasswordForm.from_request(), "auth/change_password.html",
        lambda f: service().flows.passwords.change(
            state.signed_in_user(), text(f.current_password), text(f.new_password), meta(),
            state.signed_in_session()),
        lambda f, _: message(f, {"password_changed": True}, "Password changed",
                             "Your other sessions were signed out.", link=("/", "Continue")),
        rename=_NEW_PASSWORD)


@auth.route("/set-password", methods=["GET", "POST"])
@fresh_login_required
async def set_password() -> ResponseReturnValue:
    """A first password for an account that has none (passkey-first)."""
    state = request_state()
    return await serve(
        await SetPasswordForm.from_request(), "auth/set_password.html",
        lambda f: service().flows.passwords.set_first(
            state.signed_in_user(), text(f.new_password), meta(), state.signed_in_session()),
        lambda f, _: message(f, {"password_set": True}, "Password set",
                             "You can now also sign in with your password. Your other "
                             "sessions were signed out.", link=("/", "Continue")),
        rename=_NEW_PASSWORD)


def _require_passwordless() -> None:
    """PASSWORDLESS_LOGIN_ENABLED off: the magic-link pages do not exist."""
    if not service().settings.passwordless_login_enabled:
        raise NotFound()


@auth.route("/passwordless/request", methods=["GET", "POST"])
async def passwordless_request() -> ResponseReturnValue:
    _require_passwordless()
    return await serve(
        await EmailForm.from_request(), "auth/passwordless_request.html",
        lambda f: service().flows.magic_link.request(text(f.email), meta()),
        lambda f, _: message(f, _CHECK_EMAIL, "Check your email", "If an account uses that "
                             "address, we have sent it a sign-in link.", status=202))


@auth.route("/passwordless/login", methods=["GET", "POST"])
async def passwordless_login() -> ResponseReturnValue:
    _require_passwordless()
    return await serve(
        await TokenForm.from_request(), "auth/passwordless_confirm.html",
        lambda f: service().flows.magic_link.confirm(text(f.token), meta()),
        lambda f, result: answer_sign_in(result, f, "/"))


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
    state = request_state()
    user = await service().users.get_by_id(state.signed_in_user())
    return await serve(
        form, "auth/reauthenticate.html",
        lambda f: service().flows.reauthenticate(
            state.signed_in_user(), state.signed_in_session(), text(f.password), meta()),
        _back_to_target, has_password=user is not None and user.password_hash is not None)


async def _back_to_target(form: ReauthenticateForm, done: Reauthenticated
                          ) -> ResponseReturnValue:
    """Back to the target; a flagged session was replaced, so the browser gets its cookie."""
    if done.renewed is not None:
        await start_session(done.renewed)
    target = safe_next(form.next.data)
    return finished(form, redirect(target), {"next": target})

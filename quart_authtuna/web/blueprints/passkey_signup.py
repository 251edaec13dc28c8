"""Accounts without a password: passkey-first sign-up and signing in with a recovery code.

Under PASSKEYS_PREFIX. The first step is a form (username and email, CSRF); the ceremony is
JSON for static/authtuna/js/webauthn.js, bound to this browser's CSRF seed cookie like every
passkey ceremony. The link's secret travels in the emailed URL (as every verification link)
or in a page body, never in a URL this site builds.
"""

from __future__ import annotations

from quart import request, url_for
from quart.typing import ResponseReturnValue

from ...core.errors import TokenError
from ...core.flows.results import SignupAccepted
from .. import csrf
from ..forms.auth import PasskeySignupForm, RecoveryLoginForm
from ..forms.base import text
from ..guards import authtuna_blueprint
from ..journey import message, meta, serve, service
from ..login_outcome import answer_sign_in, start_session, user_json
from ..request_body import json_object
from ..respond import finished, json_response, render_page

passkey_signup = authtuna_blueprint("authtuna_passkey_signup", __name__)
_FINISH = "passkeys/signup_finish.html"


@passkey_signup.route("/signup", methods=["GET", "POST"])
async def start() -> ResponseReturnValue:
    """Username and email; then the emailed link (or, verification off, this page) runs the
    ceremony."""
    return await serve(
        await PasskeySignupForm.from_request(), "passkeys/signup.html",
        lambda f: service().flows.signup(text(f.username), text(f.email), None, meta()),
        _started)


async def _started(form: PasskeySignupForm, done: SignupAccepted) -> ResponseReturnValue:
    token = done.passkey_token
    if token is None:
        return await message(form, {"message": "check_email"}, "Check your email",
                             "If this address can be used, we have sent a link to it. "
                             "Follow it on the device that should hold your passkey to "
                             "finish creating your account.", status=202)
    html = await render_page(_FINISH, token=token, username=text(form.username),
                             email=text(form.email))
    return finished(form, html, {"signup_token": token})


@passkey_signup.get("/signup/finish")
async def finish() -> ResponseReturnValue:
    """The emailed link's page: the button that creates the passkey."""
    token = request.args.get("token", "")[:256]
    try:
        held = await service().flows.passkey_signup.pending(token)
    except TokenError as exc:
        return await render_page(_FINISH, 400, error=exc.message, token=None)
    return await render_page(_FINISH, token=token, username=held.username, email=held.email)


@passkey_signup.post("/signup/options")
async def options() -> ResponseReturnValue:
    body = await json_object()
    data = await service().flows.passkey_signup.options(str(body.get("token") or ""),
                                                        csrf.browser_seed())
    return json_response(200, data=data)


@passkey_signup.post("/signup/complete")
async def complete() -> ResponseReturnValue:
    """Create the account with its passkey; signed in; the recovery codes, shown once."""
    body = await json_object()
    done = await service().flows.passkey_signup.complete(
        str(body.get("token") or ""), body.get("credential") or {}, csrf.browser_seed(),
        str(body.get("nickname") or "Passkey")[:100], meta())
    await start_session(done.signed_in)
    return json_response(201, data={"user": user_json(done.signed_in.user),
                                    "recovery_codes": done.recovery_codes,
                                    "next": _settings_page()})


def _settings_page() -> str:
    try:
        return url_for("authtuna_ui.settings")
    except Exception:  # noqa: BLE001 - the user pages are switched off
        return "/"


@passkey_signup.route("/recovery-code", methods=["GET", "POST"])
async def recovery_login() -> ResponseReturnValue:
    """Lost passkey: username or email and one recovery code (passwordless accounts)."""
    return await serve(
        await RecoveryLoginForm.from_request(), "passkeys/recovery_login.html",
        lambda f: service().flows.recovery_login(text(f.username_or_email), text(f.code),
                                                 meta()),
        lambda f, result: answer_sign_in(result, f, _settings_page()))

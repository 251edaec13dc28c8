"""MFA area: TOTP setup with inline QR, recovery codes, the login challenge, disabling."""

from __future__ import annotations

from quart import redirect, request, url_for
from quart.typing import ResponseReturnValue

from ...core.errors import AuthTunaError, TokenError
from ...core.flows.results import SignedIn
from ...decorators import fresh_login_required, login_required
from .. import current
from ..forms.base import AuthTunaForm, text
from ..forms.mfa import CodeForm, RegenerateCodesForm, ValidateLoginForm
from ..guards import EVERY_ROUTE, authtuna_blueprint
from ..journey import meta, serve, service
from ..login_outcome import answer_sign_in, pending_handle
from ..redirects import safe_next
from ..request_state import request_state
from ..respond import finished, json_response, render_page

mfa = authtuna_blueprint("authtuna_mfa", __name__, account_management=EVERY_ROUTE)


@mfa.route("/setup", methods=["GET", "POST"])
@fresh_login_required
async def setup() -> ResponseReturnValue:
    """GET: a new secret with its QR code. POST: confirm a code, then show recovery codes."""
    state = request_state()
    totp = (await service().mfa.setup_totp(_user_id()) if request.method == "GET" else None)
    return await serve(
        await CodeForm.from_request(), "mfa/setup.html",
        lambda f: service().mfa.verify_and_enable_totp(
            _user_id(), text(f.code), state.meta.ip_address, state.signed_in_session()),
        lambda f, codes: _codes_page(f, codes, enabled=True), totp=totp)


def _user_id() -> str:
    """The signed-in user's id (the views here are guarded)."""
    user_id = request_state().signed_in_user()
    assert user_id is not None
    return user_id


async def _codes_page(form: AuthTunaForm, codes: list[str], *, enabled: bool = False
                      ) -> ResponseReturnValue:
    """The recovery codes, shown once (the enrolment also ended the other sessions)."""
    html = await render_page("mfa/recovery_codes.html", codes=codes, enabled=enabled)
    data: dict[str, object] = {"recovery_codes": codes}
    if enabled:
        data["other_sessions_ended"] = True
    return finished(form, html, data)


@mfa.post("/verify")
@fresh_login_required
async def verify() -> ResponseReturnValue:
    """Upstream's JSON endpoint for confirming setup."""
    answer: ResponseReturnValue = await setup()
    return answer


@mfa.route("/challenge", methods=["GET", "POST"])
async def challenge() -> ResponseReturnValue:
    """The interstitial after a first factor: a TOTP or recovery code (or a passkey)."""
    handle = pending_handle()
    if not handle:
        return redirect(url_for("authtuna_auth.login"))
    return await serve(
        await CodeForm.from_request(next=request.args.get("next", "")), "mfa/challenge.html",
        lambda f: _second_factor(handle, text(f.code)),
        lambda f, result: answer_sign_in(result, f, safe_next(f.next.data)),
        has_passkeys=await _has_passkeys(handle))


async def _has_passkeys(handle: str) -> bool:
    """Offer "Use a passkey" only to a pending user who has one."""
    if not current.settings().passkeys_enabled:
        return False
    try:
        user_id = await service().flows.mfa_challenge.pending_user(handle)
    except AuthTunaError:
        return False
    return bool(await service().passkeys.list(user_id))


@mfa.post("/validate-login")
async def validate_login() -> ResponseReturnValue:
    """JSON twin: ``{"mfa_token": ..., "code": ...}`` finishes a pending login."""
    return await serve(
        await ValidateLoginForm.from_request(), "mfa/challenge.html",
        lambda f: _second_factor(text(f.mfa_token), text(f.code)),
        lambda f, result: answer_sign_in(result, f, "/"))


async def _second_factor(handle: str, code: str) -> SignedIn:
    """The code for a pending sign-in; a pending step that is gone clears its cookie."""
    try:
        return await service().flows.mfa_challenge.with_code(handle, code, meta())
    except TokenError:
        request_state().clear_mfa_pending = True
        raise


@mfa.post("/disable")
@login_required
async def disable() -> ResponseReturnValue:
    """Turning MFA off needs a current TOTP or recovery code."""
    return await serve(
        await CodeForm.from_request(), "mfa/disable.html",
        lambda f: service().mfa.disable_mfa(_user_id(), text(f.code),
                                            request_state().meta.ip_address),
        lambda f, _: _finished_redirect(f, _settings_url(), {"mfa_enabled": False}))


@mfa.get("/disable")
@login_required
async def disable_page() -> ResponseReturnValue:
    return await render_page("mfa/disable.html", form=await CodeForm.from_request())


@mfa.post("/recovery-codes")
@fresh_login_required
async def regenerate_codes() -> ResponseReturnValue:
    """A new set of recovery codes (needs a recent sign-in); the form carries only CSRF."""
    return await serve(
        await RegenerateCodesForm.from_request(), "mfa/disable.html",
        lambda f: service().mfa.regenerate_recovery_codes(_user_id(),
                                                          request_state().meta.ip_address),
        _codes_page)


@mfa.get("/status")
@login_required
async def status() -> ResponseReturnValue:
    user_id = _user_id()
    remaining = await service().mfa.remaining_recovery_codes(user_id)
    user = await service().users.get_by_id(user_id)
    return json_response(200, data={"mfa_enabled": bool(user and user.mfa_enabled),
                                    "recovery_codes_left": remaining})


def _settings_url() -> str:
    try:
        return url_for("authtuna_ui.settings")
    except Exception:  # noqa: BLE001 - the dashboard is switched off
        return "/"


async def _finished_redirect(form: AuthTunaForm, target: str, data: dict[str, object]
                             ) -> ResponseReturnValue:
    return finished(form, redirect(target), data)

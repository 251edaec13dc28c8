"""MFA area: TOTP setup with inline QR, recovery codes, the login challenge, disabling."""

from __future__ import annotations

from typing import Any

from quart import current_app, redirect, request, url_for
from quart.typing import ResponseReturnValue

from ...core.errors import AuthTunaError, TokenError
from ...decorators import fresh_login_required, login_required
from ..forms.mfa import CodeForm, ValidateLoginForm
from ..guards import EVERY_ROUTE, authtuna_blueprint
from ..journey import meta, service
from ..login_outcome import answer_sign_in, pending_handle
from ..redirects import safe_next
from ..request_state import request_state
from ..respond import finished, flow_failed, form_invalid, json_response, render_page

mfa = authtuna_blueprint("authtuna_mfa", __name__, account_management=EVERY_ROUTE)


@mfa.route("/setup", methods=["GET", "POST"])
@fresh_login_required
async def setup() -> ResponseReturnValue:
    """GET: a new secret with its QR code. POST: confirm a code, then show recovery codes."""
    form = await CodeForm.from_request()
    if request.method == "GET":
        totp = await service().mfa.setup_totp(request_state().user_id)
        return await render_page("mfa/setup.html", form=form, totp=totp)
    if not form.validate():
        return await form_invalid(form, "mfa/setup.html", totp=None)
    try:
        state = request_state()
        codes = await service().mfa.verify_and_enable_totp(state.user_id, form.code.data,
                                                           state.meta.ip_address, state.session_id)
    except AuthTunaError as exc:
        return await flow_failed(exc, form, "mfa/setup.html", totp=None)
    html = await render_page("mfa/recovery_codes.html", codes=codes, enabled=True)
    return finished(form, html, {"recovery_codes": codes, "other_sessions_ended": True})


@mfa.post("/verify")
@fresh_login_required
async def verify() -> ResponseReturnValue:
    """Upstream's JSON endpoint for confirming setup."""
    return await setup()


@mfa.route("/challenge", methods=["GET", "POST"])
async def challenge() -> ResponseReturnValue:
    """The interstitial after a first factor: a TOTP or recovery code (or a passkey)."""
    form = await CodeForm.from_request(next=request.args.get("next", ""))
    handle = pending_handle()
    if not handle:
        return redirect(url_for("authtuna_auth.login"))
    has_passkeys = await _has_passkeys(handle)
    if request.method == "GET":
        return await render_page("mfa/challenge.html", form=form, has_passkeys=has_passkeys)
    if not form.validate():
        return await form_invalid(form, "mfa/challenge.html", has_passkeys=has_passkeys)
    return await _complete(form, handle, "mfa/challenge.html", safe_next(form.next.data))


async def _has_passkeys(handle: str) -> bool:
    """Offer "Use a passkey" only to a pending user who has one."""
    if not current_app.extensions["authtuna"].settings.passkeys_enabled:
        return False
    try:
        user_id = await service().flows.mfa_challenge.pending_user(handle)
    except AuthTunaError:
        return False
    return bool(await service().passkeys.list(user_id))


@mfa.post("/validate-login")
async def validate_login() -> ResponseReturnValue:
    """JSON twin: ``{"mfa_token": ..., "code": ...}`` finishes a pending login."""
    form = await ValidateLoginForm.from_request()
    if not form.validate():
        return await form_invalid(form, "mfa/challenge.html")
    return await _complete(form, form.mfa_token.data, "mfa/challenge.html", "/")


async def _complete(form: Any, handle: str, page: str, target: str) -> ResponseReturnValue:
    try:
        result = await service().flows.mfa_challenge.with_code(handle, form.code.data, meta())
    except AuthTunaError as exc:
        request_state().clear_mfa_pending = isinstance(exc, TokenError)
        return await flow_failed(exc, form, page)
    return await answer_sign_in(result, form, target)


@mfa.post("/disable")
@login_required
async def disable() -> ResponseReturnValue:
    """Turning MFA off needs a current TOTP or recovery code."""
    form = await CodeForm.from_request()
    if not form.validate():
        return await form_invalid(form, "mfa/disable.html")
    try:
        state = request_state()
        await service().mfa.disable_mfa(state.user_id, form.code.data, state.meta.ip_address)
    except AuthTunaError as exc:
        return await flow_failed(exc, form, "mfa/disable.html")
    return finished(form, redirect(_settings_url()), {"mfa_enabled": False})


@mfa.get("/disable")
@login_required
async def disable_page() -> ResponseReturnValue:
    return await render_page("mfa/disable.html", form=await CodeForm.from_request())


@mfa.post("/recovery-codes")
@fresh_login_required
async def regenerate_codes() -> ResponseReturnValue:
    """A new set of recovery codes (needs a recent sign-in)."""
    form = await CodeForm.from_request()
    if not form.is_json and not form.csrf_token.validate(form):
        return await form_invalid(form, "mfa/disable.html")
    try:
        state = request_state()
        codes = await service().mfa.regenerate_recovery_codes(state.user_id, state.meta.ip_address)
    except AuthTunaError as exc:
        return await flow_failed(exc, form, "mfa/disable.html")
    html = await render_page("mfa/recovery_codes.html", codes=codes)
    return finished(form, html, {"recovery_codes": codes})


@mfa.get("/status")
@login_required
async def status() -> ResponseReturnValue:
    user_id = request_state().user_id
    remaining = await service().mfa.remaining_recovery_codes(user_id)
    user = await service().users.get_by_id(user_id)
    return json_response(200, data={"mfa_enabled": bool(user and user.mfa_enabled),
                                    "recovery_codes_left": remaining})


def _settings_url() -> str:
    try:
        return url_for("authtuna_ui.settings")
    except Exception:  # noqa: BLE001 - the dashboard is switched off
        return "/"

"""Passkeys: WebAuthn options and verification (JSON, for static/authtuna/js/webauthn.js),
plus rename/delete forms. Ceremonies are bound to this browser's CSRF seed cookie."""

from __future__ import annotations

from typing import Any

from quart import redirect, request, url_for
from quart.typing import ResponseReturnValue
from webauthn.helpers import base64url_to_bytes, bytes_to_base64url

from ...core.errors import NotFound
from ...core.managers.passkeys import MFA, REAUTH
from ...decorators import fresh_login_required, login_required
from .. import csrf
from ..guards import EVERY_ROUTE, authtuna_blueprint
from ..journey import meta, service
from ..login_outcome import answer_sign_in, pending_handle, start_session
from ..redirects import safe_next
from ..request_body import json_object
from ..request_state import request_state
from ..respond import json_response, wants_json

passkeys = authtuna_blueprint("authtuna_passkeys", __name__, account_management=EVERY_ROUTE,
                              form_csrf=True)


def _binding() -> str:
    return csrf.browser_seed()


async def _body() -> dict[str, Any]:
    return await json_object()


def passkey_json(row: Any) -> dict[str, Any]:
    return {"id": bytes_to_base64url(row.id), "nickname": row.nickname,
            "created_at": row.created_at, "last_used_at": row.last_used_at,
            "backed_up": row.is_backed_up, "flagged": row.flagged_at is not None}


@passkeys.post("/register-options")
@fresh_login_required
async def register_options() -> ResponseReturnValue:
    user = await service().users.get_by_id(request_state().signed_in_user())
    assert user is not None
    return json_response(200, data=await service().passkeys.registration_options(user, _binding()))


@passkeys.post("/register")
@fresh_login_required
async def register() -> ResponseReturnValue:
    body = await _body()
    state = request_state()
    row = await service().passkeys.register(state.signed_in_user(),
                                            body.get("credential") or {},
                                            _binding(), str(body.get("nickname") or "Passkey"),
                                            state.meta.ip_address)
    return json_response(201, data={"passkey": passkey_json(row)})


@passkeys.post("/login-options")
async def login_options() -> ResponseReturnValue:
    return json_response(200, data=await service().passkeys.authentication_options(_binding()))


@passkeys.post("/login")
async def login() -> ResponseReturnValue:
    """A passkey as the only factor (UV required), or as the first one."""
    body = await _body()
    result = await service().flows.passkey_login(body.get("credential") or {}, _binding(),
                                                 meta())
    return await answer_sign_in(result, _JsonForm(), "/")


@passkeys.post("/mfa-login-options")
async def mfa_login_options() -> ResponseReturnValue:
    handle = pending_handle()
    user_id = await service().flows.mfa_challenge.pending_user(handle)
    options = await service().passkeys.authentication_options(_binding(), user_id, MFA)
    return json_response(200, data=options)


@passkeys.post("/mfa-login")
async def mfa_login() -> ResponseReturnValue:
    """A passkey as the second factor of a pending login."""
    body = await _body()
    handle = pending_handle() or str(body.get("mfa_token", ""))
    result = await service().flows.mfa_challenge.with_passkey(
        handle, body.get("credential") or {}, _binding(), meta())
    return await answer_sign_in(result, _JsonForm(), "/")


@passkeys.post("/reauth-options")
@login_required
async def reauth_options() -> ResponseReturnValue:
    """Options to confirm it's you with one of your passkeys (fresh_login_required)."""
    user_id = request_state().signed_in_user()
    options = await service().passkeys.authentication_options(_binding(), user_id, REAUTH)
    return json_response(200, data=options)


@passkeys.post("/reauth")
@login_required
async def reauth() -> ResponseReturnValue:
    """The session counts as freshly signed in; ``next`` as given, if on this site."""
    body = await _body()
    state = request_state()
    done = await service().flows.reauthenticate.with_passkey(
        state.signed_in_user(), state.signed_in_session(), body.get("credential") or {},
        _binding(), meta())
    if done.renewed is not None:  # a flagged session was replaced (step-up): its cookie
        await start_session(done.renewed)
    return json_response(200, data={"next": safe_next(str(body.get("next") or ""))})


@passkeys.get("/")
@login_required
async def list_passkeys() -> ResponseReturnValue:
    rows = await service().passkeys.list(request_state().signed_in_user())
    return json_response(200, data={"passkeys": [passkey_json(r) for r in rows]})


@passkeys.post("/<credential_id>/rename")
@login_required
async def rename(credential_id: str) -> ResponseReturnValue:
    data = await _body() if request.is_json else await request.form
    await service().passkeys.rename(request_state().signed_in_user(), _raw_id(credential_id),
                                    str(data.get("nickname", "")))
    return _done({"renamed": True})


@passkeys.post("/<credential_id>/delete")
@fresh_login_required
async def delete(credential_id: str) -> ResponseReturnValue:
    state = request_state()
    await service().passkeys.delete(state.signed_in_user(), _raw_id(credential_id),
                                    state.meta.ip_address)
    return _done({"deleted": True})


def _raw_id(value: str) -> bytes:
    try:
        return base64url_to_bytes(value)
    except ValueError as exc:
        raise NotFound("Passkey not found.") from exc


def _done(data: dict[str, Any]) -> ResponseReturnValue:
    if request.is_json or wants_json():
        return json_response(200, data=data)
    try:
        return redirect(url_for("authtuna_ui.settings") + "#security")
    except Exception:  # noqa: BLE001 - the dashboard is switched off
        return redirect("/")


class _JsonForm:
    is_json = True

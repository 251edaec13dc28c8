"""What an admin does to one user: each a form post (CSRF) or its JSON twin, on one skeleton.

A success goes back to the user's page with a fixed notice (never user text in the URL) or
answers the envelope; a refusal (403 escalation, 404, 409) shows the action page with why.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any, Final, TypeVar

from quart import redirect, request, url_for
from quart.typing import ResponseReturnValue

from ....core.rbac.assignment import MANAGE_ROLES, MANAGE_USERS
from ....core.rbac.scopes import validate_scope
from ....decorators import fresh_login_required, permission_required
from ...forms.admin import ConfirmForm, ReasonForm, RoleForm
from ...forms.base import AuthTunaForm, text
from ...journey import meta, serve, service
from ...request_state import request_state
from ...respond import finished
from .area import admin

F = TypeVar("F", bound=AuthTunaForm)
R = TypeVar("R")

#: ``?done=`` → the notice shown on the user's page after an action.
NOTICES: Final = {
    "suspended": "The account is suspended and every one of its sessions has ended.",
    "unsuspended": "The account is active again.",
    "role_assigned": "The role was given.",
    "role_revoked": "The role was taken away.",
    "session_ended": "The session has ended; that browser is signed out.",
    "sessions_ended": "Every session has ended; the user is signed out everywhere.",
    "key_revoked": "The API key was revoked; it is refused from now on.",
    "mfa_reset": "Two-factor authentication is off and the recovery codes are deleted.",
    "verification_sent": "A new verification link is on its way.",
    "reset_sent": "A password reset link is on its way.",
    "erased": "The account was erased: signed out everywhere, its keys revoked, its data key "
              "shredded and its audit rows stripped of personal data.",
}


def notice_for(done: str | None) -> str | None:
    return NOTICES.get(done or "")


def scope_arg() -> str:
    """``?scope=`` (global by default), or ``""`` when it is not a valid scope."""
    try:
        return validate_scope(request.args.get("scope", "").strip() or "global")
    except ValueError:
        return ""


def assign_form(user_id: str, scope: str) -> RoleForm:
    return RoleForm(formdata=None, data={"user_id": user_id, "scope": scope or "global"})


def _actor() -> str:
    return request_state().signed_in_user()


async def act(form: F, user_id: str | None, run: Callable[[F], Awaitable[R]], done: str,
              data: Callable[[R], dict[str, Any]]) -> ResponseReturnValue:
    """The action skeleton: validate, run the flow, then the user's page or the envelope."""

    async def success(f: F, result: R) -> ResponseReturnValue:
        target = user_id or text(getattr(f, "user_id"))  # noqa: B009 - RoleForm only
        page = url_for("authtuna_admin.user_detail", user_id=target, done=done)
        return finished(f, redirect(page), data(result))

    return await serve(form, "admin/user_action.html", run, success, user_id=user_id)


@admin.post("/users/<user_id>/suspend")
@permission_required(MANAGE_USERS)
@fresh_login_required
async def suspend(user_id: str) -> ResponseReturnValue:
    """Upstream ``{reason}``; every session of the user ends in the same transaction."""
    return await act(await ReasonForm.from_request(), user_id, lambda f: service().flows
                     .admin_users.set_active(_actor(), user_id, False, text(f.reason), meta()),
                     "suspended", lambda r: {"user_id": r.user.id, "is_active": False})


@admin.post("/users/<user_id>/unsuspend")
@permission_required(MANAGE_USERS)
@fresh_login_required
async def unsuspend(user_id: str) -> ResponseReturnValue:
    return await act(await ReasonForm.from_request(), user_id, lambda f: service().flows
                     .admin_users.set_active(_actor(), user_id, True, text(f.reason), meta()),
                     "unsuspended", lambda r: {"user_id": r.user.id, "is_active": True})


@admin.post("/users/roles/assign")
@permission_required(MANAGE_ROLES)
@fresh_login_required
async def user_role_assign() -> ResponseReturnValue:
    """Upstream ``{user_id, role_name, scope='global'}``, through the three pathways."""
    return await act(await RoleForm.from_request(), None, lambda f: service().flows
                     .admin_users.assign_role(_actor(), text(f.user_id), text(f.role_name),
                                              text(f.scope), meta()),
                     "role_assigned", lambda r: {"user_id": r.user_id, "role_name": r.role,
                                                 "scope": r.scope, "added": r.added})


@admin.post("/users/roles/revoke")
@permission_required(MANAGE_ROLES)
@fresh_login_required
async def user_role_revoke() -> ResponseReturnValue:
    return await act(await RoleForm.from_request(), None, lambda f: service().flows
                     .admin_users.revoke_role(_actor(), text(f.user_id), text(f.role_name),
                                              text(f.scope), meta()),
                     "role_revoked", lambda r: {"user_id": r.user_id, "role_name": r.role,
                                                "scope": r.scope, "removed": r.removed})


@admin.post("/users/<user_id>/sessions/<session_id>/end")
@permission_required(MANAGE_USERS)
@fresh_login_required
async def user_session_end(user_id: str, session_id: str) -> ResponseReturnValue:
    return await act(await ConfirmForm.from_request(), user_id, lambda f: service().flows
                     .admin_users.end_session(_actor(), user_id, session_id, meta()),
                     "session_ended", lambda r: {"user_id": r.user_id, "ended": r.count})


@admin.post("/users/<user_id>/sessions/end-all")
@permission_required(MANAGE_USERS)
@fresh_login_required
async def user_sessions_end_all(user_id: str) -> ResponseReturnValue:
    return await act(await ConfirmForm.from_request(), user_id, lambda f: service().flows
                     .admin_users.end_all_sessions(_actor(), user_id, meta()),
                     "sessions_ended", lambda r: {"user_id": r.user_id, "ended": r.count})


@admin.post("/users/<user_id>/api-keys/<key_id>/revoke")
@permission_required(MANAGE_USERS)
@fresh_login_required
async def user_api_key_revoke(user_id: str, key_id: str) -> ResponseReturnValue:
    return await act(await ConfirmForm.from_request(), user_id, lambda f: service().flows
                     .admin_users.revoke_api_key(_actor(), user_id, key_id, meta()),
                     "key_revoked", lambda r: {"user_id": r.user_id, "key_id": r.key_id})


@admin.post("/users/<user_id>/mfa/reset")
@permission_required(MANAGE_USERS)
@fresh_login_required
async def user_mfa_reset(user_id: str) -> ResponseReturnValue:
    """Turn off TOTP and delete the recovery codes (a user who lost their device)."""
    return await act(await ConfirmForm.from_request(), user_id, lambda f: service().flows
                     .admin_users.reset_mfa(_actor(), user_id, meta()),
                     "mfa_reset", lambda r: {"user_id": r.user_id, "mfa_enabled": False})


@admin.post("/users/<user_id>/verification/resend")
@permission_required(MANAGE_USERS)
async def user_verification_resend(user_id: str) -> ResponseReturnValue:
    return await act(await ConfirmForm.from_request(), user_id, lambda f: service().flows
                     .admin_users.resend_verification(_actor(), user_id, meta()),
                     "verification_sent", lambda r: {"user_id": r.user_id, "sent": r.kind})


@admin.post("/users/<user_id>/password-reset")
@permission_required(MANAGE_USERS)
async def user_password_reset(user_id: str) -> ResponseReturnValue:
    return await act(await ConfirmForm.from_request(), user_id, lambda f: service().flows
                     .admin_users.send_reset_link(_actor(), user_id, meta()),
                     "reset_sent", lambda r: {"user_id": r.user_id, "sent": r.kind})

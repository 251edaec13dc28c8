"""What an admin changes on roles: each a form post (CSRF) or its JSON twin, on one skeleton.

Every change needs a fresh sign-in. A success goes back to the role's page with a fixed
notice (never user text in the URL) or answers the envelope; a refusal (403 escalation,
404, 409) shows the action page with why, and nothing changes.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

from quart import redirect, request, url_for
from quart.typing import ResponseReturnValue

from ....core.flows.admin_roles import AdminRoles
from ....core.flows.results import RoleCreated, RoleDeleted, RoleGrantChanged
from ....core.flows.results import RolePermissionChanged as PermChanged
from ....core.rbac.assignment import MANAGE_PERMISSIONS, MANAGE_ROLES
from ....core.types import RequestMeta
from ....decorators import fresh_login_required, permission_required
from ...forms.admin import ConfirmForm
from ...forms.admin_roles import (
    AssignGrantForm,
    PermissionGrantForm,
    RoleCreateForm,
    RolePermissionForm,
)
from ...forms.base import AuthTunaForm, text
from ...journey import meta, serve, service
from ...request_state import request_state
from ...respond import finished, json_response, wants_json
from .area import admin
from .roles import record_json, role_context

F = TypeVar("F", bound=AuthTunaForm)
R = TypeVar("R")


def _actor() -> str:
    return request_state().signed_in_user()


def _flows() -> AdminRoles:
    return service().flows.admin_roles


async def role_act(form: F, role_name: str, run: Callable[[F], Awaitable[R]], done: str,
                   data: Callable[[R], dict[str, Any]]) -> ResponseReturnValue:
    """The skeleton: validate, run the flow, then the role's page or the envelope."""

    async def success(f: F, result: R) -> ResponseReturnValue:
        page = url_for("authtuna_admin.role_detail", role_name=role_name, done=done)
        return finished(f, redirect(page), data(result))

    return await serve(form, "admin/role_action.html", run, success, role_name=role_name)


def _perm_json(r: PermChanged) -> dict[str, Any]:
    return {"role_name": r.role, "permission_name": r.permission, "attached": r.attached,
            "changed": r.changed}


def _grant_json(r: RoleGrantChanged) -> dict[str, Any]:
    names = (("assigner_role_name", "assignable_role_name") if r.kind == "role"
             else ("granter_role_name", "grantable_permission_name"))
    return {names[0]: r.granter, names[1]: r.target, "granted": r.granted,
            "changed": r.changed}


@admin.get("/roles/new")
@admin.post("/roles")
@permission_required(MANAGE_ROLES)
@fresh_login_required
async def role_create() -> ResponseReturnValue:
    """Upstream's ``{name, description, level}``; the level stays below the creator's."""

    async def created(f: RoleCreateForm, r: RoleCreated) -> ResponseReturnValue:
        page = url_for("authtuna_admin.role_detail", role_name=r.name, done="role_created")
        return finished(f, redirect(page), {"name": r.name, "description": r.description,
                                            "level": r.level, "system": False}, status=201)

    return await serve(await RoleCreateForm.from_request(), "admin/role_new.html",
                       lambda f: _flows().create(_actor(), text(f.name), text(f.description),
                                                 f.level.data, meta()), created)


@admin.route("/roles/<role_name>/delete", methods=["GET", "POST"])
@admin.delete("/roles/<role_name>")
@permission_required(MANAGE_ROLES)
@fresh_login_required
async def role_delete(role_name: str) -> ResponseReturnValue:
    """A confirmation page saying what happens to the holders, then the deletion."""
    record, editor = await role_context(role_name)
    if request.method == "GET" and wants_json():  # what deleting would do
        return json_response(200, data=record_json(record, editor))

    async def deleted(f: ConfirmForm, r: RoleDeleted) -> ResponseReturnValue:
        page = url_for("authtuna_admin.roles", done="role_deleted")
        return finished(f, redirect(page), {"name": r.name, "deleted": True,
                                            "holders": r.holders})

    return await serve(await ConfirmForm.from_request(), "admin/role_delete.html",
                       lambda f: _flows().delete(_actor(), role_name, meta()), deleted,
                       record=record, editor=editor)


@admin.post("/roles/<role_name>/permissions")
@permission_required(MANAGE_ROLES)
@fresh_login_required
async def role_permission_attach(role_name: str) -> ResponseReturnValue:
    """Upstream's ``{permission_name}``, only a permission the admin may grant."""
    return await role_act(await RolePermissionForm.from_request(), role_name, lambda f:
                          _flows().attach(_actor(), role_name, text(f.permission_name), meta()),
                          "permission_attached", _perm_json)


@admin.post("/roles/<role_name>/permissions/<permission_name>/remove")
@admin.delete("/roles/<role_name>/permissions/<permission_name>")
@permission_required(MANAGE_ROLES)
@fresh_login_required
async def role_permission_detach(role_name: str, permission_name: str) -> ResponseReturnValue:
    return await role_act(await ConfirmForm.from_request(), role_name, lambda f:
                          _flows().detach(_actor(), role_name, permission_name, meta()),
                          "permission_detached", _perm_json)


GrantForm = AssignGrantForm | PermissionGrantForm
GrantChange = Callable[[str, str, str, RequestMeta], Awaitable[RoleGrantChanged]]


async def grant_act(form: GrantForm, change: GrantChange, done: str) -> ResponseReturnValue:
    """A grant-table change, back on the granting role's page."""
    return await role_act(form, form.pair()[0],
                          lambda f: change(_actor(), *f.pair(), meta()), done, _grant_json)


@admin.post("/roles/grants/assign-role")
@permission_required(MANAGE_ROLES)
@fresh_login_required
async def role_assign_grant() -> ResponseReturnValue:
    """Upstream's ``{assigner_role_name, assignable_role_name}``, within the admin's rights."""
    return await grant_act(await AssignGrantForm.from_request(), _flows().allow_assign,
                           "assign_allowed")


@admin.post("/roles/grants/assign-role/remove")
@admin.delete("/roles/grants/assign-role")
@permission_required(MANAGE_ROLES)
@fresh_login_required
async def role_assign_grant_remove() -> ResponseReturnValue:
    return await grant_act(await AssignGrantForm.from_request(), _flows().disallow_assign,
                           "assign_removed")


@admin.post("/roles/grants/grant-permission")
@permission_required(MANAGE_PERMISSIONS)
@fresh_login_required
async def role_permission_grant() -> ResponseReturnValue:
    """Upstream's ``{granter_role_name, grantable_permission_name}``, within the admin's."""
    return await grant_act(await PermissionGrantForm.from_request(), _flows().allow_grant,
                           "grant_allowed")


@admin.post("/roles/grants/grant-permission/remove")
@admin.delete("/roles/grants/grant-permission")
@permission_required(MANAGE_PERMISSIONS)
@fresh_login_required
async def role_permission_grant_remove() -> ResponseReturnValue:
    return await grant_act(await PermissionGrantForm.from_request(), _flows().disallow_grant,
                           "grant_removed")

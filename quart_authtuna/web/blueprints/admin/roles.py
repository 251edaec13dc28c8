"""Admin pages that show roles: the list and one role's record (changes: :mod:`.role_actions`).

Each page has a JSON twin under upstream's path: ``GET /roles`` and
``/roles/<role_name>/details-data`` (the role's page also answers JSON).
"""

from __future__ import annotations

from typing import Any, Final

from quart import request, url_for
from quart.typing import ResponseReturnValue

from ....core.flows.admin_roles import RoleEditor
from ....core.rbac.assignment import MANAGE_ROLES
from ....core.role_queries import RoleRecord, RoleSummary
from ....decorators import permission_required
from ...journey import service
from ...request_state import request_state
from ...respond import json_response, render_page, wants_json
from .area import admin

#: ``?done=`` → the notice shown on a role's page (or the list) after a change.
ROLE_NOTICES: Final = {
    "role_created": "The role was created. Attach its permissions below.",
    "role_deleted": "The role was deleted; its holders lost it at once.",
    "permission_attached": "The permission was attached; holders have it from their next request.",
    "permission_detached": "The permission was detached; holders lose it on their next request.",
    "assign_allowed": "Holders of this role may now assign that role.",
    "assign_removed": "Holders of this role may no longer assign that role.",
    "grant_allowed": "Holders of this role may now grant that permission.",
    "grant_removed": "Holders of this role may no longer grant that permission.",
}


def role_notice() -> str | None:
    return ROLE_NOTICES.get(request.args.get("done") or "")


def summary_json(row: RoleSummary) -> dict[str, Any]:
    return {"name": row.name, "description": row.description, "level": row.level,
            "system": row.system, "permissions_count": row.permissions,
            "holders_count": row.holders}


def record_json(record: RoleRecord, editor: RoleEditor) -> dict[str, Any]:
    """Upstream's details-data (name, description, level, permissions, users and scopes)
    plus both grant lists and what the caller may change."""
    role = record.role
    return {
        "name": role.name, "description": role.description, "level": role.level,
        "system": role.system, "permissions": record.permissions,
        "holders": [{"user_id": h.user_id, "username": h.username, "scope": h.scope,
                     "given_at": h.given_at} for h in record.holders],
        "holders_by_scope": [
            {"scope": s.scope, "count": s.holders,
             "users_url": url_for("authtuna_admin.users", role=role.name, scope=s.scope)}
            for s in record.scopes],
        "holders_total": record.holders_total,
        "holders_truncated": record.holders_truncated,
        "role_assign_permissions": record.assignable_roles,
        "role_grant_permissions": record.grantable_permissions,
        "assignable_by": record.assigned_by,
        "can_manage": editor.may_manage, "can_delete": editor.may_delete,
    }


async def role_context(role_name: str) -> tuple[RoleRecord, RoleEditor]:
    """The role's record (404 when unknown) and what the signed-in admin may change on it."""
    svc = service()
    record = await svc.role_queries.role_record(role_name)
    editor = await svc.flows.admin_roles.editor(request_state().signed_in_user(), record)
    return record, editor


@admin.get("/roles")
@permission_required(MANAGE_ROLES)
async def roles() -> ResponseReturnValue:
    """Every role with its level, protection and counts (upstream's ``GET /admin/roles``)."""
    rows = await service().role_queries.list_roles()
    if wants_json():
        return json_response(200, data=[summary_json(r) for r in rows])
    return await render_page("admin/roles.html", roles=rows, notice=role_notice())


@admin.get("/roles/<role_name>")
@permission_required(MANAGE_ROLES)
async def role_detail(role_name: str) -> ResponseReturnValue:
    """One role: permissions, holders by scope, grants, and the changes this admin may make."""
    record, editor = await role_context(role_name)
    if wants_json():
        return json_response(200, data=record_json(record, editor))
    return await render_page("admin/role_detail.html", record=record, editor=editor,
                             notice=role_notice())


@admin.get("/roles/<role_name>/details-data")
@permission_required(MANAGE_ROLES)
async def role_details_data(role_name: str) -> ResponseReturnValue:
    record, editor = await role_context(role_name)
    return json_response(200, data=record_json(record, editor))

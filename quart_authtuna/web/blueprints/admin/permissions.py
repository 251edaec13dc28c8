"""Admin pages for permissions: the list (with the roles carrying each) and creating one.

Listing needs ``admin:manage:roles``; creating needs ``admin:manage:permissions``, as
upstream. ``POST /permissions`` answers JSON with upstream's get-or-create: 201 and the new
permission, or 200 and the existing one (``created: false``). A browser asking for an
existing name gets the form back with 409 and why, since it meant to make a new one.
"""

from __future__ import annotations

from typing import Any, Final

from quart import redirect, request, url_for
from quart.typing import ResponseReturnValue

from ....core.db.models import Permission
from ....core.flows.admin_permissions import PermissionRow
from ....core.flows.results import PermissionCreated
from ....core.rbac.assignment import MANAGE_PERMISSIONS, MANAGE_ROLES
from ....decorators import permission_required, require_user
from ...forms.admin_permissions import PermissionForm
from ...forms.base import text
from ...journey import meta, serve, service
from ...request_state import request_state
from ...respond import finished, json_response, render_page, wants_json
from .area import admin

FORM: Final = "admin/permission_new.html"
EXISTS: Final = "A permission with this name already exists; nothing was changed."
NOTICES: Final = {"created": "The permission was created. It does nothing until a role "
                             "carries it."}


def permission_json(permission: Permission, roles: tuple[str, ...] | None = None
                    ) -> dict[str, Any]:
    data: dict[str, Any] = {"id": permission.id, "name": permission.name,
                            "description": permission.description,
                            "system": bool(permission.system)}
    if roles is not None:
        data["roles"] = list(roles)
    return data


def _row_json(row: PermissionRow) -> dict[str, Any]:
    return permission_json(row.permission, row.roles)


@admin.get("/permissions")
@permission_required(MANAGE_ROLES)
async def permissions() -> ResponseReturnValue:
    """Every permission: name, description and the roles that carry it."""
    rows = await service().flows.admin_permissions.listing()
    if wants_json():
        return json_response(200, data=[_row_json(r) for r in rows])
    grants = (await require_user()).grants
    return await render_page("admin/permissions.html", rows=rows,
                             may_create=grants.has_permission(MANAGE_PERMISSIONS, "global"),
                             notice=NOTICES.get(request.args.get("done", "")))


async def _answer(form: PermissionForm, result: PermissionCreated) -> ResponseReturnValue:
    data = {**permission_json(result.permission), "created": result.created}
    if result.created:
        return finished(form, redirect(url_for("authtuna_admin.permissions", done="created")),
                        data, status=201)
    form.name.errors = [*form.name.errors, EXISTS]
    return finished(form, await render_page(FORM, 409, form=form), data)


@admin.get("/permissions/new")
@admin.post("/permissions")
@permission_required(MANAGE_PERMISSIONS)
async def permission_create() -> ResponseReturnValue:
    """Upstream ``{name, description}``; the form page on GET."""
    actor = request_state().signed_in_user()
    return await serve(await PermissionForm.from_request(), FORM, lambda f: service().flows
                       .admin_permissions.create(actor, text(f.name), text(f.description),
                                                 meta()), _answer)

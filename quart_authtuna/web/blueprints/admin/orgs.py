"""Admin pages for organizations: every organization with its member and team counts, and one
organization's members (with their roles there) and teams. Reads: ``admin:manage:users``."""

from __future__ import annotations

from quart.typing import ResponseReturnValue

from ....core.rbac.assignment import MANAGE_USERS
from ....decorators import permission_required
from ...journey import service
from ...respond import json_response, render_page, wants_json
from ..ui_orgs import member_json, org_json
from .area import admin


@admin.get("/organizations")
@permission_required(MANAGE_USERS)
async def organizations() -> ResponseReturnValue:
    rows = await service().flows.organizations.listing()
    if wants_json():
        return json_response(200, data=[{**org_json(o), "members": m, "teams": t}
                                         for o, m, t in rows])
    return await render_page("admin/organizations.html", rows=rows)


@admin.get("/organizations/<org_id>")
@permission_required(MANAGE_USERS)
async def organization_detail(org_id: str) -> ResponseReturnValue:
    org, members, teams = await service().flows.organizations.admin_details(org_id)
    if wants_json():
        return json_response(200, data={**org_json(org),
                                         "members": [member_json(m) for m in members],
                                         "teams": [{"id": t.id, "name": t.name} for t in teams]})
    return await render_page("admin/organization.html", org=org, members=members, teams=teams)

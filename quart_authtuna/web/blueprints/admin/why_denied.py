"""The "why denied?" page: may this user use this permission at this scope, and why not.

``GET /why-denied?user=<id|username|email>&permission=<name>&scope=<scope>`` (scope defaults
to ``global``). The answer comes from ``AuthService.why_denied``, which runs the same walk as
``permission_required``; a read, so it is not audited and needs no fresh sign-in.
"""

from __future__ import annotations

from typing import Any

from quart import request
from quart.typing import ResponseReturnValue

from ....core.errors import InputError
from ....core.rbac.assignment import MANAGE_USERS
from ....core.rbac.explain import Explanation, RoleAt
from ....decorators import permission_required
from ...journey import service
from ...respond import json_response, render_page, wants_json
from .area import admin

FIELDS = ("user", "permission", "scope")


def _role_json(role: RoleAt) -> dict[str, Any]:
    return {"role_name": role.role, "scope": role.scope, "applies_here": role.covers,
            "carries_permission": role.carries}


def explanation_json(e: Explanation) -> dict[str, Any]:
    """The answer as the JSON twin shows it."""
    user = None if e.user is None else {"id": e.user.id, "username": e.user.username,
                                        "is_active": e.user.is_active}
    return {"allowed": e.allowed, "reason": e.reason, "summary": e.summary,
            "next_step": e.next_step, "user": user, "permission": e.permission,
            "scope": e.scope, "consulted_scopes": list(e.consulted),
            "matched_scope": e.matched_scope, "roles": [_role_json(r) for r in e.roles],
            "granted_by": [_role_json(r) for r in e.granted_by],
            "held_elsewhere": [_role_json(r) for r in e.held_elsewhere],
            "roles_with_permission": list(e.carrier_roles), "suggestions": list(e.suggestions)}


@admin.get("/why-denied")
@permission_required(MANAGE_USERS)
async def why_denied() -> ResponseReturnValue:
    """Ask once a permission is given (a link with only ``user`` just fills the form in)."""
    asked = {name: request.args.get(name, "")[:400].strip() for name in FIELDS}
    result, errors = None, {}
    if asked["permission"] or wants_json():
        try:
            result = await service().why_denied.explain(asked["user"], asked["permission"],
                                                         asked["scope"] or "global")
        except InputError as exc:
            if wants_json():
                raise
            errors = {e.param or "": e.message for e in exc.errors}
    if wants_json():
        assert result is not None
        return json_response(200, data=explanation_json(result))
    names = [p.name for p in await service().permissions.list()]
    return await render_page("admin/why_denied.html", 400 if errors else 200, asked=asked,
                             result=result, errors=errors, permission_names=names)

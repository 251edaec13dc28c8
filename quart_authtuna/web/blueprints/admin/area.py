"""The admin blueprint, its one access check, and its navigation.

Every route needs ``admin:access:panel`` (checked once, before any admin view) and then the
permission of what it shows or does; destructive actions also need a fresh sign-in.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Final

from quart import request, url_for

from ....core.rbac.assignment import MANAGE_ROLES, MANAGE_USERS
from ....decorators import require_user
from ...errors import Forbidden, Unauthorized
from ...guards import EVERY_ROUTE, authtuna_blueprint
from ..ui import format_datetime

PANEL: Final = "admin:access:panel"

#: API keys are refused here unless API_KEYS_ACCOUNT_MANAGEMENT: an admin signs in.
admin = authtuna_blueprint("authtuna_admin", __name__, account_management=EVERY_ROUTE)
admin.add_app_template_filter(format_datetime, "authtuna_datetime")


@dataclass(frozen=True, slots=True)
class NavItem:
    """One admin navigation link, shown to admins holding ``permission`` in ``global``.

    ``section`` marks the link current on every view whose name starts with it.
    """

    endpoint: str
    label: str
    permission: str
    section: str


#: The admin navigation, in order; a new page adds one line.
ADMIN_NAV: list[NavItem] = [
    NavItem("authtuna_admin.dashboard", "Dashboard", PANEL, "dashboard"),
    NavItem("authtuna_admin.users", "Users", MANAGE_USERS, "user"),
    NavItem("authtuna_admin.roles", "Roles", MANAGE_ROLES, "role"),
    NavItem("authtuna_admin.audit_log", "Audit log", MANAGE_USERS, "audit"),
    NavItem("authtuna_admin.organizations", "Organizations", MANAGE_USERS, "organization"),
    NavItem("authtuna_admin.permissions", "Permissions", MANAGE_ROLES, "permission"),
    NavItem("authtuna_admin.why_denied", "Why denied?", MANAGE_USERS, "why_denied"),
]


@admin.before_request
async def require_panel_access() -> None:
    """Signed in (401) with ``admin:access:panel`` in ``global`` (403), for every route."""
    user = await require_user()
    if not user.grants.has_permission(PANEL, "global"):
        raise Forbidden(f"The admin area needs the permission {PANEL}.")


@admin.context_processor
async def admin_navigation() -> dict[str, Any]:
    """``admin_nav``: the links this admin may follow, the current one marked."""
    try:
        user = await require_user()
    except (Unauthorized, Forbidden):  # an error page for someone outside the area
        return {"admin_nav": []}
    view = (request.endpoint or "").rpartition(".")[2]
    return {"admin_nav": [
        {"url": url_for(item.endpoint), "label": item.label,
         "current": view.startswith(item.section)}
        for item in ADMIN_NAV if user.grants.has_permission(item.permission, "global")]}

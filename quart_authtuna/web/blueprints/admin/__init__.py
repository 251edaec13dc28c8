"""The admin area (``ADMIN_PREFIX``, served when ``ADMIN_ROUTES_ENABLED``).

Add a page: write its views in a module here using :data:`.area.admin`, import the module
below, and add one :class:`.area.NavItem` to :data:`.area.ADMIN_NAV`.
"""

from __future__ import annotations

from . import (
    audit,
    dashboard,
    orgs,
    permissions,
    privacy,
    role_actions,
    roles,
    user_actions,
    users,
    why_denied,
)
from .area import ADMIN_NAV, NavItem, admin

__all__ = ["ADMIN_NAV", "NavItem", "admin", "audit", "dashboard", "orgs", "permissions",
           "privacy", "role_actions", "roles", "user_actions", "users", "why_denied"]

"""Schemas of the admin's access explanation ("Why denied?")."""

from __future__ import annotations

from dataclasses import dataclass

from .operations import Op, answers


@dataclass
class WhyDeniedQuery:
    """``user``: id, username or email; ``scope`` defaults to ``global``."""

    user: str
    permission: str
    scope: str | None = None


@dataclass
class ExplainedUser:
    id: str
    username: str
    is_active: bool


@dataclass
class RoleAt:
    """A role the user holds at ``scope``: whether it counts at the asked scope and whether
    it carries the permission."""

    role_name: str
    scope: str
    applies_here: bool
    carries_permission: bool


@dataclass
class Explanation:
    """``reason``: a stable code: ``granted``, ``no_role``, ``held_elsewhere`` (a role
    carries it at another scope), ``suspended``, ``unknown_permission``, ``user_not_found``;
    ``consulted_scopes``: the asked scope and its ancestors, most specific first."""

    allowed: bool
    reason: str
    summary: str
    next_step: str
    user: ExplainedUser | None
    permission: str
    scope: str
    consulted_scopes: list[str]
    matched_scope: str | None
    roles: list[RoleAt]
    granted_by: list[RoleAt]
    held_elsewhere: list[RoleAt]
    roles_with_permission: list[str]
    suggestions: list[str]


ROUTES: dict[str, Op] = {
    "GET authtuna_admin.why_denied": answers(Explanation, query=WhyDeniedQuery, page=True),
}

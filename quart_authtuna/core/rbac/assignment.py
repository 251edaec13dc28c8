"""Who may change what in RBAC: upstream's three pathways, scope-aware, with its holes closed.

Rules (the assigner ``system`` bypasses them):

* Assign or remove role R at scope S when the actor, through roles held at scopes covering S,
  has ``roles:assign:R`` (pathway 1), holds a role allowed to assign R (pathway 2), or has a
  level above R's (pathway 3). A levelled R always needs a covering level above R's.
* Act on a user (suspend, delete, edit) only with ``admin:manage:users`` in ``global`` and a
  global level above the target's highest level anywhere.
* Change or delete a role only with ``admin:manage:roles`` in ``global``, a global level above
  the role's, and never a protected (``system``) role. Adding a permission to a role also
  needs a held role that may grant that permission (``role_grant_permissions``).
* A new role's level must be below its creator's global level.
"""

from __future__ import annotations

from collections.abc import Collection

from .grants import Grants

MANAGE_USERS = "admin:manage:users"
MANAGE_ROLES = "admin:manage:roles"
MANAGE_PERMISSIONS = "admin:manage:permissions"


def _level(value: int | None) -> int:
    return -1 if value is None else value


def can_assign(
    actor: Grants, role_name: str, role_level: int | None, scope: str,
    assigner_roles: Collection[str],
) -> bool:
    """May the actor give (or take away) ``role_name`` at ``scope``?

    ``assigner_roles`` names the roles whose holders may assign this role.
    """
    actor_level = _level(actor.level_at(scope))
    if role_level is not None and actor_level <= role_level:
        return False
    if role_level is not None:
        return True  # pathway 3: strictly higher level at a covering scope
    return actor.has_permission(f"roles:assign:{role_name}", scope) or any(
        actor.has_role(name, scope) for name in assigner_roles)


def outranks_user(actor: Grants, target: Grants) -> bool:
    """The actor's global level is above everything the target holds anywhere."""
    return _level(actor.level_at("global")) > max(_level(target.max_level()), 0)


def can_manage_user(actor: Grants, target: Grants) -> bool:
    """Suspend, unsuspend, edit or delete another user."""
    return actor.has_permission(MANAGE_USERS, "global") and outranks_user(actor, target)


def can_manage_role(actor: Grants, role_level: int | None, protected: bool) -> bool:
    """Edit or delete a role definition."""
    return (not protected and actor.has_permission(MANAGE_ROLES, "global")
            and _level(actor.level_at("global")) > max(_level(role_level), 0))


def can_grant(actor: Grants, permission: str, granters: Collection[str]) -> bool:
    """The actor holds, in ``global``, a role allowed to grant ``permission``."""
    return any(actor.has_role(name, "global") for name in granters)


def level_allowed_for_new_role(actor: Grants, level: int | None) -> bool:
    """A created role's level must stay below the creator's global level."""
    if level is None:
        return True
    return level < _level(actor.level_at("global"))

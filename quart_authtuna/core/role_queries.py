"""Read-only queries behind the admin roles pages: the role list and one role's record.

Each read costs a fixed number of statements whatever the number of roles, permissions or
holders (no N+1): the list is one statement (counts as correlated subqueries); a role's
record is one statement per table it shows, and its holders are capped (the users search,
filtered by role and scope, pages through all of them).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

from sqlalchemy import distinct, func, select

from .db.models import (
    Permission,
    Role,
    RoleAssignPermission,
    RoleGrantPermission,
    RolePermission,
    User,
    UserRole,
)
from .db.unit_of_work import UnitOfWork
from .errors import NotFound

#: Holders listed on a role's page; the rest are one link away (the users search).
HOLDERS_SHOWN: Final = 50
#: Scopes listed with their holder counts.
SCOPES_SHOWN: Final = 100


@dataclass(frozen=True, slots=True)
class RoleSummary:
    """A role on the list, with how many permissions it carries and users hold it."""

    name: str
    description: str | None
    level: int | None
    system: bool
    permissions: int
    holders: int


@dataclass(frozen=True, slots=True)
class Holder:
    user_id: str
    username: str
    scope: str
    given_at: float


@dataclass(frozen=True, slots=True)
class ScopeHolders:
    scope: str
    holders: int


@dataclass(frozen=True, slots=True)
class RoleRecord:
    """Everything a role's page shows (seven statements, one transaction)."""

    role: Role
    permissions: list[str]
    #: Holder counts per scope, most held first (at most SCOPES_SHOWN).
    scopes: list[ScopeHolders]
    #: The first HOLDERS_SHOWN holders by scope, then username.
    holders: list[Holder]
    #: Distinct users holding the role at any scope.
    holders_total: int
    #: Roles this role's holders may assign (``role_assign_permissions``).
    assignable_roles: list[str]
    #: Permissions this role's holders may add to roles (``role_grant_permissions``).
    grantable_permissions: list[str]
    #: Roles whose holders may assign this role.
    assigned_by: list[str]

    @property
    def holders_truncated(self) -> bool:
        return len(self.holders) < sum(s.holders for s in self.scopes) or (
            len(self.scopes) >= SCOPES_SHOWN)


@dataclass(frozen=True, slots=True)
class RoleQueries:
    """The admin roles area's reads (writes go through :mod:`.flows.admin_roles`)."""

    _db: UnitOfWork

    async def list_roles(self) -> list[RoleSummary]:
        """Every role, highest level first, with its counts (one statement)."""
        perms = (select(func.count()).select_from(RolePermission)
                 .where(RolePermission.role_id == Role.id).scalar_subquery())
        holders = (select(func.count(distinct(UserRole.user_id)))
                   .where(UserRole.role_id == Role.id).scalar_subquery())
        stmt = (select(Role.name, Role.description, Role.level, Role.system, perms, holders)
                .order_by(Role.level.desc().nulls_last(), Role.name))
        async with self._db.transaction() as tx:
            rows = (await tx.execute(stmt)).all()
        return [RoleSummary(name, desc, level, bool(system), int(p), int(h))
                for name, desc, level, system, p, h in rows]

    async def role_record(self, name: str) -> RoleRecord:
        """The role, its permissions, holders by scope and both grant lists (NotFound)."""
        async with self._db.transaction() as tx:
            role = await tx.scalar(select(Role).where(Role.name == name))
            if role is None:
                raise NotFound(f"Role {name!r} not found.")
            permissions = (await tx.scalars(
                select(Permission.name).join(RolePermission,
                                             RolePermission.permission_id == Permission.id)
                .where(RolePermission.role_id == role.id).order_by(Permission.name))).all()
            scopes = (await tx.execute(
                select(UserRole.scope, func.count()).where(UserRole.role_id == role.id)
                .group_by(UserRole.scope).order_by(func.count().desc(), UserRole.scope)
                .limit(SCOPES_SHOWN))).all()
            holders = (await tx.execute(
                select(UserRole.user_id, User.username, UserRole.scope, UserRole.given_at)
                .join(User, User.id == UserRole.user_id).where(UserRole.role_id == role.id)
                .order_by(UserRole.scope, User.username_canonical, User.id)
                .limit(HOLDERS_SHOWN))).all()
            total = await tx.scalar(select(func.count(distinct(UserRole.user_id)))
                                    .where(UserRole.role_id == role.id))
            assignable = (await tx.scalars(
                select(Role.name).join(RoleAssignPermission,
                                       RoleAssignPermission.assignable_role_id == Role.id)
                .where(RoleAssignPermission.assigner_role_id == role.id)
                .order_by(Role.name))).all()
            grantable = (await tx.scalars(
                select(Permission.name).join(
                    RoleGrantPermission,
                    RoleGrantPermission.grantable_permission_id == Permission.id)
                .where(RoleGrantPermission.granter_role_id == role.id)
                .order_by(Permission.name))).all()
            assigned_by = (await tx.scalars(
                select(Role.name).join(RoleAssignPermission,
                                       RoleAssignPermission.assigner_role_id == Role.id)
                .where(RoleAssignPermission.assignable_role_id == role.id)
                .order_by(Role.name))).all()
        return RoleRecord(
            role, list(permissions), [ScopeHolders(s, int(n)) for s, n in scopes],
            [Holder(*row) for row in holders], int(total or 0), list(assignable),
            list(grantable), list(assigned_by))

"""Upstream's default permissions, roles, grants and system users, provisioned idempotently."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from .crypto.passwords import PasswordHasher
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
from .identifiers import canonical_email, canonical_username
from .managers.audit import AuditManager
from .revocation import Revocation
from .settings import Settings
from .types import Clock

Named = TypeVar("Named", Permission, Role)

SYSTEM_USER_ID = "system"
SUPERADMIN_ID = "default-super-admin"
ADMIN_ID = "default-admin"
DEFAULT_ADMIN_IDS = frozenset({SUPERADMIN_ID, ADMIN_ID})

_TENANT = ("org:create", "org:manage", "org:invite_member", "org:remove_member", "team:create",
           "team:manage", "team:invite_member", "team:remove_member", "team:delete")
_ASSIGN = tuple(f"roles:assign:{r}" for r in ("SuperAdmin", "Admin", "Moderator", "User"))
DEFAULT_PERMISSIONS: tuple[str, ...] = (
    "admin:access:panel", "admin:manage:users", "admin:manage:roles", "admin:manage:permissions",
    *_ASSIGN, *_TENANT,
)

#: name → (level, description, protected). Seeded admin roles are protected like System.
DEFAULT_ROLES: dict[str, tuple[int | None, str, bool]] = {
    "User": (0, "Every signed-in user", False),
    "OrgMember": (None, "Member of an organization", False),
    "TeamMember": (None, "Member of a team", False),
    "TeamLead": (None, "Leads a team", False),
    "OrgAdmin": (None, "Administers an organization", False),
    "OrgOwner": (None, "Owns an organization", False),
    "Moderator": (50, "Moderates users", True),
    "Admin": (90, "Administers users and roles", True),
    "SuperAdmin": (100, "Administers everything", True),
    "System": (999, "The system itself", True),
}

_ADMIN_BASE = ("admin:access:panel", "admin:manage:users")
ROLE_PERMISSIONS: dict[str, tuple[str, ...]] = {
    "Moderator": (*_ADMIN_BASE, "roles:assign:User"),
    "Admin": (*_ADMIN_BASE, "admin:manage:roles", "roles:assign:Moderator", "roles:assign:User"),
    "SuperAdmin": (*_ADMIN_BASE, "admin:manage:roles", "admin:manage:permissions",
                   "roles:assign:Admin", "roles:assign:Moderator", "roles:assign:User"),
    "System": _ASSIGN,
    "OrgMember": ("org:create",),
    "TeamLead": ("team:invite_member", "team:remove_member", "team:manage"),
    "OrgAdmin": ("org:invite_member", "org:remove_member", "team:create", "team:delete",
                 "team:manage"),
    "OrgOwner": ("org:manage", "org:invite_member", "org:remove_member", "team:create",
                 "team:delete", "team:manage"),
}

_TENANT_ROLES = ("OrgOwner", "OrgAdmin", "TeamLead", "OrgMember")
ROLE_ASSIGNABLE: dict[str, tuple[str, ...]] = {
    "System": ("SuperAdmin", "Admin", "Moderator", *_TENANT_ROLES, "User", "TeamMember"),
    "SuperAdmin": ("Admin", "Moderator", *_TENANT_ROLES, "User", "TeamMember"),
    "Admin": ("Moderator", *_TENANT_ROLES, "User"),
    "OrgOwner": ("OrgAdmin", "TeamLead", "OrgMember", "TeamMember"),
    "OrgAdmin": ("TeamLead", "OrgMember", "TeamMember"),
    "TeamLead": ("TeamMember",),
}

#: Which held roles may add a permission to other roles (enforced; upstream never was).
ROLE_GRANTABLE: dict[str, tuple[str, ...]] = {
    "System": DEFAULT_PERMISSIONS,
    "SuperAdmin": (*_TENANT, "roles:assign:User"),
    "Admin": _TENANT,
}


async def provision_defaults(db: UnitOfWork, clock: Clock, settings: Settings,
                             passwords: PasswordHasher, audit: AuditManager,
                             revocation: Revocation) -> bool:
    """Seed the defaults; returns False when skipped because the system user exists."""
    async with db.transaction() as tx:
        exists = await tx.get(User, SYSTEM_USER_ID)
        if exists and not settings.try_full_initialize_when_system_user_exists_again:
            return False
        now = clock()
        perms = await _ensure(tx, Permission, DEFAULT_PERMISSIONS,
                              lambda n: Permission(name=n, description=n, system=True))
        roles = await _ensure(tx, Role, tuple(DEFAULT_ROLES), lambda n: Role(
            name=n, level=DEFAULT_ROLES[n][0], description=DEFAULT_ROLES[n][1],
            system=DEFAULT_ROLES[n][2]))
        for role in roles.values():
            role.system = DEFAULT_ROLES[role.name][2] or role.system
        await _link(tx, RolePermission, ROLE_PERMISSIONS, roles, perms,
                    lambda r, p: RolePermission(role_id=r, permission_id=p, added_at=now))
        await _link(tx, RoleAssignPermission, ROLE_ASSIGNABLE, roles, roles,
                    lambda r, t: RoleAssignPermission(assigner_role_id=r, assignable_role_id=t))
        await _link(tx, RoleGrantPermission, ROLE_GRANTABLE, roles, perms,
                    lambda r, p: RoleGrantPermission(granter_role_id=r, grantable_permission_id=p))
        users = (
            (SYSTEM_USER_ID, "system", "system@local.host", None, ("System",)),
            (SUPERADMIN_ID, "superadmin", settings.default_superadmin_email,
             settings.default_superadmin_password, ("SuperAdmin", "User")),
            (ADMIN_ID, "admin", settings.default_admin_email, settings.default_admin_password,
             ("Admin", "User")),
        )
        for user_id, username, email, password, role_names in users:
            if await tx.get(User, user_id) is not None:
                continue
            tx.add(User(
                id=user_id, username=username, username_canonical=canonical_username(username),
                email=email, email_canonical=canonical_email(email), is_active=True,
                email_verified=True, created_at=now,
                password_hash=await passwords.hash(password.reveal()) if password else None,
            ))
            await tx.flush()
            for name in role_names:
                tx.add(UserRole(user_id=user_id, role_id=roles[name].id, scope="global",
                                given_by_id=SYSTEM_USER_ID, given_at=now))
        audit.record(tx, "DEFAULTS_PROVISIONED", actor_id=SYSTEM_USER_ID)
        revocation.grants_changed(tx)
    return True


async def _ensure(tx: AsyncSession, model: type[Named], names: tuple[str, ...],
                  make: Callable[[str], Named]) -> dict[str, Named]:
    """Load rows by name (one query), creating the missing ones."""
    rows = (await tx.scalars(select(model).where(model.name.in_(names)))).all()
    found = {row.name: row for row in rows}
    for name in names:
        if name not in found:
            found[name] = make(name)
            tx.add(found[name])
    await tx.flush()
    return found


async def _link(tx: AsyncSession, model: type, mapping: dict[str, tuple[str, ...]],
                left: dict[str, Any], right: dict[str, Any], make: object) -> None:
    """Insert the missing (left, right) association rows of ``mapping`` (one query)."""
    cols = list(model.__table__.primary_key.columns)  # type: ignore[attr-defined]
    existing = {tuple(row) for row in (await tx.execute(select(*cols))).all()}
    for name, targets in mapping.items():
        for target in targets:
            pair = (left[name].id, right[target].id)
            if pair not in existing:
                tx.add(make(*pair))  # type: ignore[operator]
                existing.add(pair)
    await tx.flush()

"""An admin changing role definitions: create, delete, permissions, and the two grant tables.

Rules (the actor ``system``, i.e. the CLI, bypasses them; RoleManager enforces the first four
in the same transaction as the change):

* every change needs ``admin:manage:roles`` in ``global`` and a global level above the role's;
  protected (``system``) roles are never changed or deleted;
* a new role's level is below the creator's own;
* a permission is attached to or detached from a role only by an actor holding, in
  ``global``, a role that may grant it (``role_grant_permissions``);
* a role is allowed to assign another only by an actor who may assign that role themselves;
* a role is allowed to grant a permission only by an actor with ``admin:manage:permissions``
  who may grant it themselves.

Each change writes an audit row with the actor and the request's IP; when it changes what
users hold, their cached grants are dropped through Revocation after the commit.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Final

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from ..db.models import Permission, Role, RoleAssignPermission, RoleGrantPermission
from ..db.unit_of_work import UnitOfWork
from ..errors import ConflictError, EscalationDenied, InputError, NotFound
from ..managers.roles import RoleManager
from ..rbac import assignment
from ..rbac.checker import RbacChecker
from ..role_queries import RoleRecord
from ..types import SYSTEM_ACTOR, FieldError, RequestMeta
from .results import RoleCreated, RoleDeleted, RoleGrantChanged, RolePermissionChanged

#: A role name: a letter, then letters, digits, ``_``, ``.`` or ``-`` (it appears in URLs
#: and in ``roles:assign:<name>`` permission names).
ROLE_NAME: Final = re.compile(r"[A-Za-z][A-Za-z0-9_.\-]{0,79}")
#: Names the admin pages use as path segments next to role names (``/roles/new``).
RESERVED_NAMES: Final = frozenset({"new", "grants"})
MAX_DESCRIPTION: Final = 255
MAX_LEVEL: Final = 100_000


@dataclass(frozen=True, slots=True)
class RoleEditor:
    """What one actor may change on one role (the page shows only these controls)."""

    may_manage: bool = False
    may_delete: bool = False
    may_grant_permissions: bool = False
    #: Permissions the actor may attach (not on the role yet) / detach (on it).
    attachable: list[str] = field(default_factory=list)
    detachable: frozenset[str] = frozenset()
    #: Roles the actor may let this role assign (not yet) / stop it assigning.
    assignable: list[str] = field(default_factory=list)
    unassignable: frozenset[str] = frozenset()
    #: Permissions the actor may let this role grant (not yet) / stop it granting.
    grantable: list[str] = field(default_factory=list)
    ungrantable: frozenset[str] = frozenset()


def _invalid(param: str, message: str) -> InputError:
    return InputError([FieldError("invalid", message, param)])


def checked_role_input(name: str, description: str, level: int | None
                       ) -> tuple[str, str | None, int | None]:
    """Name, description and level as stored, or InputError naming the bad field."""
    name, description = name.strip(), description.strip()
    if not ROLE_NAME.fullmatch(name):
        raise _invalid("name", "Use 1–80 letters, digits, _ . or -, starting with a letter.")
    if name.lower() in RESERVED_NAMES:
        raise _invalid("name", f"{name!r} is reserved; choose another name.")
    if len(description) > MAX_DESCRIPTION:
        raise _invalid("description", f"Use at most {MAX_DESCRIPTION} characters.")
    if level is not None and not 0 <= level <= MAX_LEVEL:
        raise _invalid("level", f"Use a whole number from 0 to {MAX_LEVEL}, or leave it empty.")
    return name, description or None, level


@dataclass(frozen=True, slots=True)
class AdminRoles:
    """The admin's journeys on role definitions (also the CLI's, as the system actor)."""

    _db: UnitOfWork
    _rbac: RbacChecker
    _roles: RoleManager

    async def create(self, actor_id: str, name: str, description: str, level: int | None,
                     meta: RequestMeta) -> RoleCreated:
        """A new role below the actor's level (409 when the name is taken)."""
        name, text, level = checked_role_input(name, description, level)
        try:
            await self._roles.create(name, text, level, creator_id=actor_id,
                                     ip_address=meta.ip_address)
        except IntegrityError:  # a concurrent request created it since the manager's check
            raise ConflictError(f"A role named {name!r} already exists.") from None
        return RoleCreated(name, text, level)

    async def delete(self, actor_id: str, name: str, meta: RequestMeta) -> RoleDeleted:
        """Delete the role; every assignment of it goes too (holders lose it at once)."""
        holders = await self._roles.delete_role(name, actor_id, ip_address=meta.ip_address)
        return RoleDeleted(name, holders)

    async def attach(self, actor_id: str, role: str, permission: str, meta: RequestMeta
                     ) -> RolePermissionChanged:
        changed = await self._roles.add_permission_to_role(role, permission, actor_id,
                                                           ip_address=meta.ip_address)
        return RolePermissionChanged(role, permission, True, changed)

    async def detach(self, actor_id: str, role: str, permission: str, meta: RequestMeta
                     ) -> RolePermissionChanged:
        if not await self._roles.remove_permission_from_role(role, permission, actor_id,
                                                             ip_address=meta.ip_address):
            raise NotFound(f"The role {role} does not carry {permission}.")
        return RolePermissionChanged(role, permission, False, True)

    async def allow_assign(self, actor_id: str, assigner: str, assignable: str,
                           meta: RequestMeta) -> RoleGrantChanged:
        """Holders of ``assigner`` may assign ``assignable`` from now on."""
        changed = await self._roles.grant_relationship(
            assigner, assignable, actor_id, kind="role", ip_address=meta.ip_address)
        return RoleGrantChanged(assigner, assignable, "role", True, changed)

    async def disallow_assign(self, actor_id: str, assigner: str, assignable: str,
                              meta: RequestMeta) -> RoleGrantChanged:
        if not await self._roles.revoke_relationship(
                assigner, assignable, actor_id, kind="role", ip_address=meta.ip_address):
            raise NotFound(f"Holders of {assigner} could not assign {assignable}.")
        return RoleGrantChanged(assigner, assignable, "role", False, True)

    async def allow_grant(self, actor_id: str, granter: str, permission: str,
                          meta: RequestMeta) -> RoleGrantChanged:
        """Holders of ``granter`` may add ``permission`` to roles from now on."""
        await self._need_manage_permissions(actor_id)
        changed = await self._roles.grant_relationship(
            granter, permission, actor_id, kind="permission", ip_address=meta.ip_address)
        return RoleGrantChanged(granter, permission, "permission", True, changed)

    async def disallow_grant(self, actor_id: str, granter: str, permission: str,
                             meta: RequestMeta) -> RoleGrantChanged:
        await self._need_manage_permissions(actor_id)
        if not await self._roles.revoke_relationship(
                granter, permission, actor_id, kind="permission", ip_address=meta.ip_address):
            raise NotFound(f"Holders of {granter} could not grant {permission}.")
        return RoleGrantChanged(granter, permission, "permission", False, True)

    async def _need_manage_permissions(self, actor_id: str) -> None:
        if actor_id == SYSTEM_ACTOR:
            return
        actor = await self._rbac.grants_for(actor_id, fresh=True)
        if not actor.has_permission(assignment.MANAGE_PERMISSIONS, "global"):
            raise EscalationDenied(f"This needs the permission {assignment.MANAGE_PERMISSIONS}.")

    async def editor(self, actor_id: str, record: RoleRecord) -> RoleEditor:
        """What ``actor_id`` may change on ``record``'s role (at most four statements)."""
        role = record.role
        async with self._db.transaction() as tx:
            actor = await self._rbac.grants_for(actor_id, tx)  # display only: cache is fine
            if not assignment.can_manage_role(actor, role.level, role.system):
                return RoleEditor()
            roles = (await tx.execute(select(Role.id, Role.name, Role.level, Role.system))).all()
            pairs = (await tx.execute(
                select(RoleAssignPermission.assignable_role_id, Role.name)
                .join(Role, Role.id == RoleAssignPermission.assigner_role_id))).all()
            held = sorted(name for name, scope in actor.roles if scope == "global")
            mine = set((await tx.scalars(
                select(Permission.name).join(
                    RoleGrantPermission,
                    RoleGrantPermission.grantable_permission_id == Permission.id)
                .join(Role, Role.id == RoleGrantPermission.granter_role_id)
                .where(Role.name.in_(held)))).all()) if held else set()
        assigners: dict[int, list[str]] = {}
        for assignable_id, assigner_name in pairs:
            assigners.setdefault(assignable_id, []).append(assigner_name)
        may_assign = {name for rid, name, level, system in roles if name != "System"
                      and assignment.can_manage_role(actor, level, bool(system))
                      and assignment.can_assign(actor, name, level, "global",
                                                assigners.get(rid, ()))}
        on_role, assigns, grants = (set(record.permissions), set(record.assignable_roles),
                                    set(record.grantable_permissions))
        may_grant = actor.has_permission(assignment.MANAGE_PERMISSIONS, "global")
        return RoleEditor(
            may_manage=True, may_delete=not role.system, may_grant_permissions=may_grant,
            attachable=sorted(mine - on_role), detachable=frozenset(mine & on_role),
            assignable=sorted(may_assign - assigns), unassignable=frozenset(may_assign & assigns),
            grantable=sorted(mine - grants) if may_grant else [],
            ungrantable=frozenset(mine & grants) if may_grant else frozenset())

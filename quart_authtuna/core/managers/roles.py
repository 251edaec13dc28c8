"""RoleManager: role definitions, their permissions and grants, and scoped assignment."""

from __future__ import annotations

import builtins
from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from ..db.base import Base
from ..db.models import (
    Permission,
    Role,
    RoleAssignPermission,
    RoleGrantPermission,
    RolePermission,
    UserRole,
)
from ..db.unit_of_work import UnitOfWork, affected
from ..errors import ConflictError, EscalationDenied, NotFound
from ..rbac import assignment
from ..rbac.checker import RbacChecker
from ..rbac.grants import Grants
from ..rbac.scopes import validate_scope
from ..revocation import Revocation
from ..signals import role_assigned, role_removed
from ..types import SYSTEM_ACTOR, Clock
from .audit import AuditManager


@dataclass(frozen=True, slots=True)
class RoleManager:
    """Upstream ``RoleManager`` names; every change is authorised against the actor's grants."""

    _db: UnitOfWork
    _clock: Clock
    _audit: AuditManager
    _rbac: RbacChecker
    _revocation: Revocation

    async def create(self, name: str, description: str | None = None, level: int | None = None,
                     system: bool = False, creator_id: str = SYSTEM_ACTOR, *,
                     ip_address: str | None = None) -> Role:
        """A new role; its level must be below the creator's, and only system makes it protected."""
        async with self._db.transaction() as tx:
            if creator_id != SYSTEM_ACTOR:
                actor = await self._actor(tx, creator_id)
                if not actor.has_permission(assignment.MANAGE_ROLES, "global") or system:
                    raise EscalationDenied("You may not create roles.")
                if not assignment.level_allowed_for_new_role(actor, level):
                    raise EscalationDenied("A new role's level must be below your own.")
            if await tx.scalar(select(Role.id).where(Role.name == name)) is not None:
                raise ConflictError(f"Role {name!r} already exists.")
            role = Role(name=name, description=description, level=level, system=system)
            tx.add(role)
            self._audit.record(tx, "ROLE_CREATED", actor_id=creator_id, ip_address=ip_address,
                               details={"role": name, "level": level})
        return role

    async def get_by_name(self, name: str, session: AsyncSession | None = None) -> Role | None:
        async with self._db.transaction(session) as tx:
            return await tx.scalar(select(Role).where(Role.name == name))

    async def list(self) -> Sequence[Role]:
        async with self._db.transaction() as tx:
            return (await tx.scalars(select(Role).order_by(Role.level.desc(), Role.name))).all()

    async def delete_role(self, role_name: str, deleter_id: str = SYSTEM_ACTOR, *,
                          ip_address: str | None = None) -> int:
        """Delete a role below the deleter's level; protected roles cannot be deleted.

        Its assignments go with it (the holders' cached grants are dropped after commit);
        returns how many users held it.
        """
        async with self._db.transaction() as tx:
            role = await self._role(tx, role_name)
            if role.system:
                raise EscalationDenied("Protected roles cannot be deleted.")
            await self._authorize_role_change(tx, deleter_id, role)
            holders = list((await tx.scalars(select(UserRole.user_id).distinct().where(
                UserRole.role_id == role.id))).all())
            await tx.execute(delete(UserRole).where(UserRole.role_id == role.id))
            await tx.delete(role)
            self._audit.record(tx, "ROLE_DELETED", actor_id=deleter_id, ip_address=ip_address,
                               details={"role": role_name, "holders": len(holders)})
            self._revocation.grants_changed(tx)
        return len(holders)

    async def add_permission_to_role(self, role_name: str, permission_name: str,
                                     adder_id: str = SYSTEM_ACTOR, *,
                                     ip_address: str | None = None) -> bool:
        """Needs a held role that may grant the permission (``role_grant_permissions``);
        False when the role already had it."""
        async with self._db.transaction() as tx:
            role = await self._role(tx, role_name)
            perm = await self._permission(tx, permission_name)
            await self._authorize_grant(tx, adder_id, role, perm)
            if await tx.get(RolePermission, (role.id, perm.id)) is not None:
                return False
            added_by = None if adder_id == SYSTEM_ACTOR else adder_id
            tx.add(RolePermission(role_id=role.id, permission_id=perm.id,
                                  added_by_id=added_by, added_at=self._clock()))
            self._audit.record(tx, "ROLE_PERMISSION_ADDED", actor_id=adder_id,
                               ip_address=ip_address,
                               details={"role": role_name, "permission": permission_name})
            self._revocation.grants_changed(tx)
            return True

    async def remove_permission_from_role(self, role_name: str, permission_name: str,
                                          remover_id: str = SYSTEM_ACTOR, *,
                                          ip_address: str | None = None) -> bool:
        """Under the same rule as adding; False when the role did not have it."""
        async with self._db.transaction() as tx:
            role = await self._role(tx, role_name)
            perm = await self._permission(tx, permission_name)
            await self._authorize_grant(tx, remover_id, role, perm)
            if not affected(await tx.execute(delete(RolePermission).where(
                    RolePermission.role_id == role.id, RolePermission.permission_id == perm.id))):
                return False
            self._audit.record(tx, "ROLE_PERMISSION_REMOVED", actor_id=remover_id,
                               ip_address=ip_address,
                               details={"role": role_name, "permission": permission_name})
            self._revocation.grants_changed(tx)
            return True

    async def grant_relationship(self, granter_role: str, target: str, admin_id: str = SYSTEM_ACTOR,
                                 *, kind: str = "role", ip_address: str | None = None) -> bool:
        """Let holders of ``granter_role`` assign role ``target`` (kind="role") or grant
        permission ``target`` (kind="permission"). The admin must outrank both sides and
        hold the right being handed on. False when the grant existed."""
        async with self._db.transaction() as tx:
            model, key = await self._grant_key(tx, granter_role, target, admin_id, kind)
            if await tx.get(model, key) is not None:
                return False
            if model is RoleAssignPermission:
                tx.add(RoleAssignPermission(assigner_role_id=key[0], assignable_role_id=key[1]))
            else:
                tx.add(RoleGrantPermission(granter_role_id=key[0], grantable_permission_id=key[1]))
            self._audit.record(tx, "ROLE_GRANT_ADDED", actor_id=admin_id, ip_address=ip_address,
                               details={"granter": granter_role, kind: target})
            return True

    async def revoke_relationship(self, granter_role: str, target: str,
                                  admin_id: str = SYSTEM_ACTOR, *, kind: str = "role",
                                  ip_address: str | None = None) -> bool:
        """Undo :meth:`grant_relationship`, under the same rule; False when there was none."""
        async with self._db.transaction() as tx:
            model, key = await self._grant_key(tx, granter_role, target, admin_id, kind)
            row = await tx.get(model, key)
            if row is None:
                return False
            await tx.delete(row)
            self._audit.record(tx, "ROLE_GRANT_REMOVED", actor_id=admin_id,
                               ip_address=ip_address,
                               details={"granter": granter_role, kind: target})
            return True

    async def assign_to_user(self, user_id: str, role_name: str, assigner_id: str,
                             scope: str = "none", session: AsyncSession | None = None, *,
                             ip_address: str | None = None) -> bool:
        """Give a role in ``scope`` if one of the three pathways allows it at that scope;
        False when the user already held it there."""
        scope = validate_scope(scope)
        async with self._db.transaction(session) as tx:
            role = await self._role(tx, role_name)
            await self._authorize_assignment(tx, assigner_id, role, scope)
            if await tx.get(UserRole, (user_id, role.id, scope)) is not None:
                return False
            tx.add(UserRole(user_id=user_id, role_id=role.id, scope=scope,
                            given_by_id=assigner_id, given_at=self._clock()))
            self._audit.record(tx, "ROLE_ASSIGNED", user_id=user_id, actor_id=assigner_id,
                                   ip_address=ip_address,
                                   details={"role": role_name, "scope": scope})
            self._db.emit(tx, role_assigned, user_id=user_id, role=role_name,
                           scope=scope, actor_id=assigner_id)
            self._revocation.grants_changed(tx, [user_id])
            return True

    async def remove_from_user(self, user_id: str, role_name: str, remover_id: str,
                               scope: str | None = None, session: AsyncSession | None = None,
                               *, ip_address: str | None = None) -> int:
        """Take a role away in ``scope`` (every scope when None); returns how many were removed.

        Removing from someone at or above the remover's level is refused.
        """
        async with self._db.transaction(session) as tx:
            role = await self._role(tx, role_name)
            stmt = select(UserRole).where(UserRole.user_id == user_id, UserRole.role_id == role.id)
            if scope is not None:
                stmt = stmt.where(UserRole.scope == validate_scope(scope))
            held = (await tx.scalars(stmt)).all()
            for row in held:
                await self._authorize_assignment(tx, remover_id, role, row.scope, target=user_id)
                await tx.delete(row)
                self._audit.record(tx, "ROLE_REMOVED", user_id=user_id, actor_id=remover_id,
                                       ip_address=ip_address,
                                       details={"role": role_name, "scope": row.scope})
                self._db.emit(tx, role_removed, user_id=user_id, role=role_name,
                               scope=row.scope, actor_id=remover_id)
            self._revocation.grants_changed(tx, [user_id])
            return len(held)

    async def get_user_roles(self, user_id: str) -> builtins.list[tuple[str, str]]:
        """(role name, scope) pairs the user holds."""
        return sorted((await self._rbac.grants_for(user_id, fresh=True)).roles)

    async def has_permission(self, user_id: str, permission_name: str,
                             scope: str = "global") -> bool:
        return await self._rbac.has_permission(user_id, permission_name, scope)

    async def has_role(self, user_id: str, role_name: str, scope: str = "global") -> bool:
        return await self._rbac.has_role(user_id, role_name, scope)

    async def get_assignable_roles_for_user(self, assigner_id: str, scope: str = "global"
                                            ) -> builtins.list[str]:
        """Names of roles the user may assign at ``scope`` (three queries, no N+1)."""
        scope = validate_scope(scope)
        async with self._db.transaction() as tx:
            actor = await self._actor(tx, assigner_id)
            roles = (await tx.scalars(select(Role))).all()
            pairs = (await tx.execute(select(RoleAssignPermission.assignable_role_id, Role.name)
                     .join(Role, Role.id == RoleAssignPermission.assigner_role_id))).all()
        assigners: dict[int, list[str]] = {}
        for assignable_id, assigner_name in pairs:
            assigners.setdefault(assignable_id, []).append(assigner_name)
        return sorted(r.name for r in roles if not r.name == "System" and assignment.can_assign(
            actor, r.name, r.level, scope, assigners.get(r.id, ())))

    # ---- authorisation -----------------------------------------------------------------

    async def _authorize_assignment(self, tx: AsyncSession, actor_id: str, role: Role, scope: str,
                                    target: str | None = None) -> None:
        if actor_id == SYSTEM_ACTOR or (target is not None and target == actor_id
                                        and role.name != "System"):
            return
        actor = await self._actor(tx, actor_id)
        assigners = (await tx.scalars(select(Role.name).join(
            RoleAssignPermission, RoleAssignPermission.assigner_role_id == Role.id).where(
            RoleAssignPermission.assignable_role_id == role.id))).all()
        if role.name == "System" or not assignment.can_assign(
                actor, role.name, role.level, scope, assigners):
            raise EscalationDenied(f"You may not assign or remove {role.name} in {scope}.")
        if target is not None:
            held = await self._rbac.grants_for(target, tx, fresh=True)
            target_level = held.level_at(scope)
            if target_level and target_level >= (actor.level_at(scope) or 0):
                raise EscalationDenied("You may not act on a user at or above your level.")

    async def _authorize_role_change(self, tx: AsyncSession, actor_id: str, role: Role) -> None:
        if actor_id == SYSTEM_ACTOR:
            return
        actor = await self._actor(tx, actor_id)
        if not assignment.can_manage_role(actor, role.level, role.system):
            raise EscalationDenied(f"You may not change the role {role.name}.")

    async def _authorize_grant(self, tx: AsyncSession, actor_id: str, role: Role,
                               perm: Permission) -> None:
        if actor_id == SYSTEM_ACTOR:
            return
        await self._authorize_role_change(tx, actor_id, role)
        actor = await self._actor(tx, actor_id)
        granters = (await tx.scalars(select(Role.name).join(
            RoleGrantPermission, RoleGrantPermission.granter_role_id == Role.id).where(
            RoleGrantPermission.grantable_permission_id == perm.id))).all()
        if not assignment.can_grant(actor, perm.name, granters):
            raise EscalationDenied(f"You may not grant {perm.name}.")

    async def _grant_key(self, tx: AsyncSession, granter_role: str, target: str, admin_id: str,
                         kind: str) -> tuple[type[Base], tuple[int, int]]:
        """The grant table and row key, once the admin may change that grant."""
        granter = await self._role(tx, granter_role)
        await self._authorize_role_change(tx, admin_id, granter)
        if kind == "role":
            other = await self._role(tx, target)
            await self._authorize_role_change(tx, admin_id, other)
            # only hand on assignment rights the admin holds itself
            await self._authorize_assignment(tx, admin_id, other, "global")
            return RoleAssignPermission, (granter.id, other.id)
        if kind != "permission":
            raise ValueError(f"kind must be 'role' or 'permission', not {kind!r}")
        perm = await self._permission(tx, target)
        await self._authorize_grant(tx, admin_id, granter, perm)
        return RoleGrantPermission, (granter.id, perm.id)

    async def _actor(self, tx: AsyncSession, actor_id: str) -> Grants:
        return await self._rbac.grants_for(actor_id, tx, fresh=True)

    async def _role(self, tx: AsyncSession, name: str) -> Role:
        role = await tx.scalar(select(Role).where(Role.name == name))
        if role is None:
            raise NotFound(f"Role {name!r} not found.")
        return role

    async def _permission(self, tx: AsyncSession, name: str) -> Permission:
        perm = await tx.scalar(select(Permission).where(Permission.name == name))
        if perm is None:
            raise NotFound(f"Permission {name!r} not found.")
        return perm


"""PermissionManager: ``resource:action`` names that roles carry."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from ..db.models import Permission
from ..db.unit_of_work import UnitOfWork
from ..errors import ConflictError, EscalationDenied
from ..i18n import N_
from ..rbac import assignment
from ..rbac.checker import RbacChecker
from ..rbac.scopes import validate_permission_name
from ..types import SYSTEM_ACTOR
from .audit import AuditManager


@dataclass(frozen=True, slots=True)
class PermissionManager:
    """Upstream names: create, get_or_create, get_by_name, list."""

    _db: UnitOfWork
    _audit: AuditManager
    _rbac: RbacChecker

    async def create(self, name: str, description: str | None = None,
                     creator_id: str = SYSTEM_ACTOR, *, ip_address: str | None = None
                     ) -> Permission:
        """Create a permission; a non-system creator needs ``admin:manage:permissions``.
        The audit row names the creator and ``ip_address``."""
        name = validate_permission_name(name)
        async with self._db.transaction() as tx:
            if creator_id != SYSTEM_ACTOR:
                actor = await self._rbac.grants_for(creator_id, tx, fresh=True)
                if not actor.has_permission(assignment.MANAGE_PERMISSIONS, "global"):
                    raise EscalationDenied(N_("You may not create permissions."))
            if await tx.scalar(select(Permission.id).where(Permission.name == name)):
                raise ConflictError(f"Permission {name!r} already exists.")
            perm = Permission(name=name, description=description)
            tx.add(perm)
            self._audit.record(tx, "PERMISSION_CREATED", actor_id=creator_id,
                               ip_address=ip_address, details={"permission": name})
        return perm

    async def get_or_create(self, name: str, defaults: dict[str, Any] | None = None
                            ) -> tuple[Permission, bool]:
        """``(permission, created)``, as upstream: the named permission, created (by system)
        with ``defaults`` when missing; ``created`` is False when it already existed."""
        existing = await self.get_by_name(name)
        if existing is not None:
            return existing, False
        try:
            return await self.create(name, (defaults or {}).get("description")), True
        except (ConflictError, IntegrityError):  # a concurrent caller created it first
            found = await self.get_by_name(name)
            assert found is not None
            return found, False

    async def get_by_name(self, name: str) -> Permission | None:
        async with self._db.transaction() as tx:
            return await tx.scalar(select(Permission).where(Permission.name == name))

    async def list(self) -> Sequence[Permission]:
        async with self._db.transaction() as tx:
            return (await tx.scalars(select(Permission).order_by(Permission.name))).all()

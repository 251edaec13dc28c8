"""An admin looking at permissions and creating one (upstream ``POST /admin/permissions``).

Rules:

* a name is 1-80 of ``A-Z a-z 0-9 _ : . -`` (:func:`~..rbac.scopes.validate_permission_name`,
  the rule every permission check uses); anything else, markup or spaces included, is refused
  with an :class:`~..errors.InputError` and nothing is written;
* creating needs ``admin:manage:permissions`` in ``global``, read afresh in the transaction
  (the manager checks it); the row and its ``PERMISSION_CREATED`` audit row, with the actor
  and the request's IP, commit together;
* asking for a name that exists changes nothing and reports ``created=False`` (upstream's
  get-or-create), with the existing permission.

A new permission is held by no role, so nobody's access changes and no cache is dropped.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from ..db.models import Permission, Role, RolePermission
from ..db.unit_of_work import UnitOfWork
from ..errors import ConflictError, InputError
from ..managers.permissions import PermissionManager
from ..rbac.scopes import validate_permission_name
from ..types import FieldError, RequestMeta
from .results import PermissionCreated

MAX_DESCRIPTION = 255


@dataclass(frozen=True, slots=True)
class PermissionRow:
    """A permission and the names of the roles carrying it (highest level first)."""

    permission: Permission
    roles: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class AdminPermissions:
    """The admin's permission pages (list and create)."""

    _db: UnitOfWork
    _permissions: PermissionManager

    async def listing(self) -> list[PermissionRow]:
        """Every permission by name, with its roles: two statements whatever the count."""
        async with self._db.transaction() as tx:
            permissions = (await tx.scalars(select(Permission).order_by(Permission.name))).all()
            carried = (await tx.execute(
                select(RolePermission.permission_id, Role.name)
                .join(Role, Role.id == RolePermission.role_id)
                .order_by(Role.level.is_(None), Role.level.desc(), Role.name))).all()
        roles: dict[int, list[str]] = {}
        for permission_id, role in carried:
            roles.setdefault(permission_id, []).append(role)
        return [PermissionRow(p, tuple(roles.get(p.id, ()))) for p in permissions]

    async def create(self, actor_id: str, name: str, description: str, meta: RequestMeta
                     ) -> PermissionCreated:
        """Create ``name`` (or find it, unchanged); refused without the permission to."""
        name, description = _checked(name, description)
        try:
            created = await self._permissions.create(name, description or None, actor_id,
                                                     ip_address=meta.ip_address)
        except (ConflictError, IntegrityError):  # it exists (or a concurrent call made it)
            existing = await self._permissions.get_by_name(name)
            if existing is None:
                raise
            return PermissionCreated(existing, False)
        return PermissionCreated(created, True)


def _checked(name: str, description: str) -> tuple[str, str]:
    errors = []
    try:
        validate_permission_name(name)
    except ValueError:
        errors.append(FieldError("invalid_permission_name", "A permission name is 1-80 "
                                 "letters, digits and _ : . - with no spaces.", "name"))
    description = description.strip()
    if len(description) > MAX_DESCRIPTION:
        errors.append(FieldError("too_long", f"Keep the description to {MAX_DESCRIPTION} "
                                 "characters.", "description"))
    if errors:
        raise InputError(errors)
    return name, description

"""The admin's "why denied?" read: load what the permission check loads, then explain it.

At most five statements in one transaction whatever the user holds: the account (by id,
then by username or email), its grant rows (the real check's query), the permission names,
and the roles that carry the permission asked about.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from .db.models import Permission, Role, RolePermission, User
from .db.unit_of_work import UnitOfWork
from .errors import InputError
from .identifiers import canonical_email, canonical_username, looks_like_email
from .rbac.checker import grant_rows
from .rbac.explain import Explanation, Subject, explain
from .rbac.scopes import GLOBAL, MAX_PERMISSION_LENGTH, validate_scope
from .types import FieldError

MAX_USER_LENGTH = 320


@dataclass(frozen=True, slots=True)
class WhyDenied:
    """Answers "may this user do this here?" as the permission check would, and why."""

    _db: UnitOfWork

    async def explain(self, user: str, permission: str, scope: str = GLOBAL) -> Explanation:
        """Explain ``permission`` at ``scope`` for ``user`` (an id, username or email).

        Raises InputError for an empty or overlong user or permission, or a malformed scope.
        """
        user, permission, scope = user.strip(), permission.strip(), scope.strip() or GLOBAL
        _check(user, permission, scope)
        async with self._db.transaction() as tx:
            found = await _find(tx, user)
            rows = await grant_rows(tx, found.id) if found is not None else []
            known = set((await tx.scalars(select(Permission.name))).all())
            carriers = (await tx.scalars(
                select(Role.name).join(RolePermission, RolePermission.role_id == Role.id)
                .join(Permission, Permission.id == RolePermission.permission_id)
                .where(Permission.name == permission))).all() if permission in known else []
        subject = (None if found is None
                   else Subject(found.id, found.username, bool(found.is_active)))
        return explain(user, permission, scope, subject, rows, known, carriers)


def _check(user: str, permission: str, scope: str) -> None:
    errors = []
    if not user or len(user) > MAX_USER_LENGTH:
        errors.append(FieldError("invalid", "Give a user id, username or email address.",
                                 "user"))
    if not permission or len(permission) > MAX_PERMISSION_LENGTH:
        errors.append(FieldError("invalid", "Give a permission name, such as "
                                 "admin:manage:users.", "permission"))
    try:
        validate_scope(scope)
    except ValueError as exc:
        errors.append(FieldError("invalid_scope", f"That scope is not valid: {exc}", "scope"))
    if errors:
        raise InputError(errors)


async def _find(tx: AsyncSession, ref: str) -> User | None:
    """By id first; otherwise an email address when it has an ``@``, else a username."""
    found = await tx.get(User, ref)
    if found is not None:
        return found
    column, value = ((User.email_canonical, canonical_email(ref)) if looks_like_email(ref)
                     else (User.username_canonical, canonical_username(ref)))
    return await tx.scalar(select(User).where(column == value))

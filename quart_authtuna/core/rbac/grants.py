"""A user's resolved grants: immutable (permission, scope) and (role, scope) sets and checks."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import ClassVar, Literal

from .scopes import GLOBAL, ancestors

Mode = Literal["AND", "OR"]
#: ``(role_name, scope, role_level, permission_name | None)``: one held role and one of its
#: permissions, as :func:`.checker.grant_rows` reads them.
GrantRow = tuple[str, str, int | None, str | None]


def _names(values: Iterable[str], what: str) -> tuple[str, ...]:
    """Materialise ``values``, refusing a bare string or an empty collection."""
    if isinstance(values, str):
        raise TypeError(f"pass an iterable of {what} names, not a single string")
    names = tuple(values)
    if not names:
        raise ValueError(f"at least one {what} name is required")
    return names


def _combine(results: Iterable[bool], mode: Mode) -> bool:
    """Fold ``results`` with ``all`` for ``AND`` or ``any`` for ``OR``."""
    if mode == "AND":
        return all(results)
    if mode == "OR":
        return any(results)
    raise ValueError(f"mode must be 'AND' or 'OR', not {mode!r}")


@dataclass(frozen=True, slots=True)
class Grants:
    """Everything a user holds, resolved once; each check is O(scope depth) set lookups.

    A role or permission held at scope S applies at S and every descendant of S; one
    held at ``global`` applies everywhere. Stored scopes are not re-validated: a
    malformed one is never produced by :func:`ancestors`, so it grants nothing.
    """

    permissions: frozenset[tuple[str, str]] = frozenset()
    roles: frozenset[tuple[str, str]] = frozenset()
    levels: frozenset[tuple[int, str]] = frozenset()

    EMPTY: ClassVar[Grants]

    @classmethod
    def from_rows(cls, rows: Iterable[GrantRow]) -> Grants:
        """Build from ``(role_name, scope, role_level, permission_name | None)`` rows.

        One row per (assignment, permission), as produced by joining user_roles to roles
        and left-joining role_permissions/permissions; roles without permissions yield a
        row whose permission is ``None``.
        """
        permissions: set[tuple[str, str]] = set()
        roles: set[tuple[str, str]] = set()
        levels: set[tuple[int, str]] = set()
        for role, scope, level, permission in rows:
            roles.add((role, scope))
            if level is not None:
                levels.add((level, scope))
            if permission is not None:
                permissions.add((permission, scope))
        return cls(frozenset(permissions), frozenset(roles), frozenset(levels))

    def has_permission(self, permission: str, scope: str = GLOBAL) -> bool:
        """True if ``permission`` is held at ``scope`` or any scope covering it."""
        return self.granting_scope(permission, scope) is not None

    def granting_scope(self, permission: str, scope: str = GLOBAL) -> str | None:
        """The most specific scope covering ``scope`` where ``permission`` is held, or
        ``None``: the one walk behind :meth:`has_permission` (and the admin's "why denied")."""
        held = self.permissions
        for s in ancestors(scope):
            if (permission, s) in held:
                return s
        return None

    def has_role(self, role: str, scope: str = GLOBAL) -> bool:
        """True if ``role`` is held at ``scope`` or any scope covering it."""
        held = self.roles
        for s in ancestors(scope):
            if (role, s) in held:
                return True
        return False

    def has_permissions(
        self, permissions: Iterable[str], scope: str = GLOBAL, mode: Mode = "AND"
    ) -> bool:
        """All (``AND``) or any (``OR``) of ``permissions`` at ``scope``; none given raises."""
        names = _names(permissions, "permission")
        return _combine((self.has_permission(p, scope) for p in names), mode)

    def has_roles(self, roles: Iterable[str], scope: str = GLOBAL, mode: Mode = "AND") -> bool:
        """All (``AND``) or any (``OR``) of ``roles`` at ``scope``; none given raises."""
        names = _names(roles, "role")
        return _combine((self.has_role(r, scope) for r in names), mode)

    def level_at(self, scope: str) -> int | None:
        """Highest level of roles held at scopes covering ``scope``; ``None`` if none."""
        covering = frozenset(ancestors(scope))
        return max((lvl for lvl, s in self.levels if s in covering), default=None)

    def max_level(self) -> int | None:
        """Highest level of any levelled role held anywhere; ``None`` if none."""
        return max((lvl for lvl, _ in self.levels), default=None)

    def scopes_of(self, role: str) -> frozenset[str]:
        """The scopes at which ``role`` is directly held."""
        return frozenset(s for r, s in self.roles if r == role)

    def role_names(self) -> frozenset[str]:
        """Names of every role held, at any scope."""
        return frozenset(r for r, _ in self.roles)


Grants.EMPTY = Grants()
EMPTY_GRANTS = Grants.EMPTY

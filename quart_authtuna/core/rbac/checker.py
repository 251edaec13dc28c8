"""Per-user grant sets: loaded in one query, cached, invalidated on every RBAC change."""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Iterable

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from ..db.models import Permission, Role, RolePermission, UserRole
from ..db.unit_of_work import UnitOfWork
from ..settings import Settings
from ..types import Clock
from .grants import GrantRow, Grants

CACHE_SIZE = 10_000


class RbacChecker:
    """Answers has_permission / has_role from a cached per-user :class:`Grants`.

    Entries live at most SESSION_DB_VERIFICATION_INTERVAL seconds, so changes made by other
    processes are seen within that bound; changes made here invalidate at once.
    """

    def __init__(self, db: UnitOfWork, clock: Clock, settings: Settings) -> None:
        self._db = db
        self._clock = clock
        self._settings = settings
        self._cache: OrderedDict[str, tuple[float, Grants]] = OrderedDict()
        self._generation = 0

    async def grants_for(
        self, user_id: str, session: AsyncSession | None = None, *, fresh: bool = False
    ) -> Grants:
        """The user's grants; ``fresh`` bypasses the cache (use it before any RBAC change)."""
        now = self._clock()
        hit = None if fresh else self._cache.get(user_id)
        if hit is not None and now - hit[0] < self._settings.session_db_verification_interval:
            self._cache.move_to_end(user_id)
            return hit[1]
        generation = self._generation
        async with self._db.transaction(session) as tx:
            grants = await load_grants(tx, user_id)
        if session is None and generation == self._generation:
            self._remember(user_id, now, grants)
        return grants

    def cached(self, user_id: str, *, loaded_since: float | None = None) -> Grants | None:
        """The cached grants if still fresh, or loaded at or after ``loaded_since`` (a
        session's last verification: its grants live as long as it); never touches the
        database."""
        hit = self._cache.get(user_id)
        if hit is None:
            return None
        if loaded_since is not None and hit[0] >= loaded_since:
            return hit[1]
        if self._clock() - hit[0] < self._settings.session_db_verification_interval:
            return hit[1]
        return None

    def prime(self, user_id: str, grants: Grants, loaded_at: float) -> None:
        """Store grants loaded elsewhere (e.g. during session verification)."""
        self._remember(user_id, loaded_at, grants)

    def invalidate(self, user_ids: Iterable[str] | None = None) -> None:
        """Forget some users' grants, or everyone's (called by :mod:`..revocation` only)."""
        self._generation += 1
        ids = None if user_ids is None else frozenset(user_ids)
        if ids is None:
            self._cache.clear()
            return
        for user_id in ids:
            self._cache.pop(user_id, None)

    async def has_permission(self, user_id: str, permission: str, scope: str = "global") -> bool:
        return (await self.grants_for(user_id)).has_permission(permission, scope)

    async def has_role(self, user_id: str, role: str, scope: str = "global") -> bool:
        return (await self.grants_for(user_id)).has_role(role, scope)

    def _remember(self, user_id: str, now: float, grants: Grants) -> None:
        self._cache[user_id] = (now, grants)
        self._cache.move_to_end(user_id)
        while len(self._cache) > CACHE_SIZE:
            self._cache.popitem(last=False)


async def grant_rows(session: AsyncSession, user_id: str) -> list[GrantRow]:
    """One query: ``(role, scope, level, permission | None)`` per assignment and permission."""
    stmt = (
        select(Role.name, UserRole.scope, Role.level, Permission.name)
        .select_from(UserRole)
        .join(Role, Role.id == UserRole.role_id)
        .outerjoin(RolePermission, RolePermission.role_id == Role.id)
        .outerjoin(Permission, Permission.id == RolePermission.permission_id)
        .where(UserRole.user_id == user_id)
    )
    return [(role, scope, level, perm)
            for role, scope, level, perm in (await session.execute(stmt)).all()]


async def load_grants(session: AsyncSession, user_id: str) -> Grants:
    """The user's :class:`Grants`, from :func:`grant_rows`."""
    return Grants.from_rows(await grant_rows(session, user_id))

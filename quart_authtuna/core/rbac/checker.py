"""Per-user grant sets: loaded in one query, cached, invalidated on every RBAC change."""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable, Collection, Iterable

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
    processes are seen within that bound; changes made here invalidate at once. While a
    cross-process revocation channel stays connected (``epoch``, set by the service to
    ``Revocation.epoch``), entries loaded under it stay valid: every change is announced.
    """

    def __init__(self, db: UnitOfWork, clock: Clock, settings: Settings) -> None:
        self._db = db
        self._clock = clock
        self._settings = settings
        self._cache: OrderedDict[str, tuple[float, Grants, int | None]] = OrderedDict()
        self._generation = 0
        self.epoch: Callable[[], int | None] = _no_channel

    async def grants_for(
        self, user_id: str, session: AsyncSession | None = None, *, fresh: bool = False
    ) -> Grants:
        """The user's grants; ``fresh`` bypasses the cache (use it before any RBAC change)."""
        now = self._clock()
        hit = None if fresh else self._cache.get(user_id)
        if hit is not None and self._current(hit, now):
            self._cache.move_to_end(user_id)
            return hit[1]
        generation, epoch = self._generation, self.epoch()
        async with self._db.transaction(session) as tx:
            grants = await load_grants(tx, user_id)
        if session is None:
            self.prime(user_id, grants, now, epoch, generation)
        return grants

    def cached(self, user_id: str, *, loaded_since: float | None = None) -> Grants | None:
        """The cached grants if still current, and (with ``loaded_since``, a session's last
        check) loaded at or after it; never touches the database."""
        hit = self._cache.get(user_id)
        if hit is None:
            return None
        if (loaded_since is not None and hit[0] >= loaded_since) or self._current(
                hit, self._clock()):
            return hit[1]
        return None

    @property
    def generation(self) -> int:
        """Counts invalidations: pass the value read before a load to :meth:`prime`."""
        return self._generation

    def prime(self, user_id: str, grants: Grants, loaded_at: float, epoch: int | None = None,
              generation: int | None = None) -> None:
        """Store grants loaded elsewhere (e.g. during session verification), unless an
        invalidation happened since ``generation`` was read."""
        if generation is not None and generation != self._generation:
            return
        self._cache[user_id] = (loaded_at, grants, epoch)
        self._cache.move_to_end(user_id)
        while len(self._cache) > CACHE_SIZE:
            self._cache.popitem(last=False)

    def invalidate(self, user_ids: Iterable[str] | None = None) -> None:
        """Forget some users' grants, or everyone's (called by :mod:`..revocation` only)."""
        self._generation += 1
        ids = None if user_ids is None else frozenset(user_ids)
        if ids is None:
            self._cache.clear()
            return
        for user_id in ids:
            self._cache.pop(user_id, None)

    def _current(self, hit: tuple[float, Grants, int | None], now: float) -> bool:
        return (now - hit[0] < self._settings.session_db_verification_interval
                or (hit[2] is not None and hit[2] == self.epoch()))

    async def has_permission(self, user_id: str, permission: str, scope: str = "global") -> bool:
        return (await self.grants_for(user_id)).has_permission(permission, scope)

    async def has_role(self, user_id: str, role: str, scope: str = "global") -> bool:
        return (await self.grants_for(user_id)).has_role(role, scope)


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


async def load_many_grants(session: AsyncSession, user_ids: Collection[str]
                           ) -> dict[str, Grants]:
    """Several users' :class:`Grants` in one query (users without roles get empty ones)."""
    rows: dict[str, list[GrantRow]] = {user_id: [] for user_id in user_ids}
    stmt = (
        select(UserRole.user_id, Role.name, UserRole.scope, Role.level, Permission.name)
        .select_from(UserRole)
        .join(Role, Role.id == UserRole.role_id)
        .outerjoin(RolePermission, RolePermission.role_id == Role.id)
        .outerjoin(Permission, Permission.id == RolePermission.permission_id)
        .where(UserRole.user_id.in_(list(user_ids)))
    )
    for user_id, role, scope, level, perm in (await session.execute(stmt)).all():
        rows[user_id].append((role, scope, level, perm))
    return {user_id: Grants.from_rows(found) for user_id, found in rows.items()}


def _no_channel() -> int | None:
    return None

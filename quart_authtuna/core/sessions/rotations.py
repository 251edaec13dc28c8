"""Batched rotations: the random-string rotations due in one event-loop tick commit in one
transaction (each still its own compare-and-swap), instead of one transaction each.

With N active sessions and a rotation period R, about N/R rotations a second come due
(67 at 20,000 sessions and 5 minutes); one transaction per tick keeps the commits, pool
checkouts and SQLite write locks to one per batch. The results are handed out after the
commit; if the transaction fails, every rotation of the batch fails with it (503 upstream)
and nothing of it is written.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable

from sqlalchemy.ext.asyncio import AsyncSession

from ..db.models import UserSession
from ..db.unit_of_work import UnitOfWork
from ..types import RequestMeta
from .ticks import TickBatch

#: Rotates one row in the given transaction: the row as written, or None (ended meanwhile).
Swap = Callable[[AsyncSession, UserSession, RequestMeta, float], Awaitable[UserSession | None]]
_Asked = tuple[UserSession, RequestMeta, float, "asyncio.Future[UserSession | None]"]


class BatchedRotations(TickBatch):
    """Collects due rotations and writes them a batch (one transaction) at a time; the
    caller makes sure a session has at most one rotation in flight."""

    def __init__(self, db: UnitOfWork, swap: Swap) -> None:
        super().__init__()
        self._db = db
        self._swap = swap
        self._pending: list[_Asked] = []

    async def rotate(self, row: UserSession, meta: RequestMeta, now: float
                     ) -> UserSession | None:
        future: asyncio.Future[UserSession | None] = (
            asyncio.get_running_loop().create_future())
        self._pending.append((row, meta, now, future))
        self._schedule()
        return await asyncio.shield(future)

    def _take(self) -> list[_Asked] | None:
        work, self._pending = self._pending, []
        return work or None

    def _waiters(self, work: list[_Asked]) -> list[asyncio.Future[UserSession | None]]:
        return [asked[3] for asked in work]

    async def _run(self, work: list[_Asked]) -> None:
        async with self._db.transaction() as tx:
            written = [await self._swap(tx, row, meta, now) for row, meta, now, _ in work]
        for (*_, future), row in zip(work, written, strict=True):
            if not future.done():
                future.set_result(row)

"""Health for load balancers: does the database answer, is the revocation channel up?

Cheap on purpose: one ``SELECT 1`` at most once a second whatever the probe rate (concurrent
probes share it), bounded by a timeout so a hung database answers "unhealthy", not never.
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass

from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError

from .db.engine import READ_ONLY
from .db.unit_of_work import UnitOfWork
from .revocation import Broadcaster

#: Seconds a database answer is reused; seconds a database check may take.
REUSE_FOR = 1.0
DATABASE_TIMEOUT = 2.0


@dataclass(frozen=True, slots=True)
class Health:
    """What ``/healthz`` reports."""

    database: bool
    broadcaster: str
    broadcaster_connected: bool

    @property
    def healthy(self) -> bool:
        return self.database and self.broadcaster_connected


class HealthCheck:
    """Checks one service's database and broadcaster."""

    def __init__(self, db: UnitOfWork, broadcaster: Broadcaster) -> None:
        self._db = db
        self._broadcaster = broadcaster
        self._checked_at = float("-inf")
        self._database = False
        self._inflight: asyncio.Future[bool] | None = None

    async def check(self) -> Health:
        return Health(await self._database_answers(), self._broadcaster.name,
                      self._broadcaster.connected)

    async def _database_answers(self) -> bool:
        if time.monotonic() - self._checked_at < REUSE_FOR:
            return self._database
        if self._inflight is None:
            self._inflight = asyncio.ensure_future(self._ask())
        future = self._inflight
        try:
            return await asyncio.shield(future)
        finally:
            if self._inflight is future and future.done():
                self._inflight = None

    async def _ask(self) -> bool:
        try:
            async with asyncio.timeout(DATABASE_TIMEOUT):
                async with self._db.engine.connect() as conn:
                    await conn.execution_options(**{READ_ONLY: True})
                    await conn.execute(text("SELECT 1"))
            answer = True
        except (SQLAlchemyError, OSError, RuntimeError):
            answer = False
        self._database, self._checked_at = answer, time.monotonic()
        return answer

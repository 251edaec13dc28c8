"""Login throttling kept in the database (so it holds across workers), with growing delays.

Each key (``acct:<canonical identifier>`` or ``ip:<address>``) counts failures in a window.
Past the limit, the key is locked for a delay that doubles with each further failure, up to
LOGIN_LOCKOUT_DURATION_SECONDS. Unknown accounts are throttled exactly like real ones.
"""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import case, delete, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncSession

from .db.models import ThrottleCounter
from .db.unit_of_work import UnitOfWork
from .errors import RateLimited
from .identifiers import canonical_email
from .settings import Settings
from .types import Clock

BASE_DELAY = 30.0


def account_key(identifier: str, user_id: str | None = None) -> str:
    """The account's key: its id when it exists, else the canonical identifier typed."""
    return "acct:" + (f"id:{user_id}" if user_id else canonical_email(identifier)[:230])


def ip_key(ip_address: str | None) -> str | None:
    return f"ip:{ip_address}" if ip_address else None


class Throttle:
    """Per-account and per-IP failure counters."""

    def __init__(self, db: UnitOfWork, settings: Settings, clock: Clock) -> None:
        self._db = db
        self._settings = settings
        self._clock = clock

    def _limit(self, key: str) -> int:
        s = self._settings
        return s.max_login_attempts_per_ip if key.startswith("ip:") else \
            s.max_login_attempts_per_user

    async def check(self, keys: Sequence[str | None], session: AsyncSession | None = None
                    ) -> None:
        """Raise RateLimited while any key is locked."""
        wanted = [k for k in keys if k]
        now = self._clock()
        async with self._db.transaction(session) as tx:
            rows = (await tx.scalars(select(ThrottleCounter).where(
                ThrottleCounter.key.in_(wanted)))).all()
        wait = max((row.locked_until - now for row in rows), default=0.0)
        if wait > 0:
            raise RateLimited(wait)

    async def failed(self, keys: Sequence[str | None], session: AsyncSession | None = None
                     ) -> None:
        """Count one failure for each key (atomic upsert) and lock keys past their limit."""
        s, now = self._settings, self._clock()
        async with self._db.transaction(session) as tx:
            insert = pg_insert if tx.bind.dialect.name == "postgresql" else sqlite_insert
            for key in (k for k in keys if k):
                stmt = insert(ThrottleCounter).values(key=key, failures=1, window_start=now,
                                                      locked_until=0.0)
                expired = ThrottleCounter.window_start < now - s.login_rate_limit_window_seconds
                stmt = stmt.on_conflict_do_update(index_elements=["key"], set_={
                    "failures": case((expired, 1), else_=ThrottleCounter.failures + 1),
                    "window_start": case((expired, now), else_=ThrottleCounter.window_start),
                })
                await tx.execute(stmt)
                row = await tx.get(ThrottleCounter, key, populate_existing=True)
                assert row is not None
                over = row.failures - self._limit(key)
                if over >= 0:
                    delay = min(BASE_DELAY * 2 ** min(over, 16), s.login_lockout_duration_seconds)
                    row.locked_until = now + delay

    async def succeeded(self, keys: Sequence[str | None], session: AsyncSession | None = None
                        ) -> None:
        """Forget the failures of these keys (after a successful login or reset)."""
        wanted = [k for k in keys if k]
        async with self._db.transaction(session) as tx:
            await tx.execute(delete(ThrottleCounter).where(ThrottleCounter.key.in_(wanted)))

"""Pruning: expired sessions, tokens, pending sign-ups, challenges and throttle counters, and
audit rows older than AUDIT_RETENTION_DAYS, in small batches so no table stays locked.

Run it with ``quart authtuna cleanup`` (cron), or let the serving app do it
(CLEANUP_ENABLED: every CLEANUP_INTERVAL_SECONDS, ±25% jitter so workers do not align).
Nothing here changes what a request sees: every row removed was already refused by its
expiry. The mail outbox is never pruned (its rows go once delivered).
"""

from __future__ import annotations

import asyncio
import logging
import random
from dataclasses import dataclass, field

from sqlalchemy import ColumnElement, delete, or_, select
from sqlalchemy.orm import InstrumentedAttribute

from .db.models import (
    AuditEvent,
    AuthChallenge,
    PendingSignup,
    ThrottleCounter,
    Token,
    UserSession,
)
from .db.unit_of_work import UnitOfWork, affected
from .settings import Settings
from .throttle import HOUR
from .types import Clock

logger = logging.getLogger("quart_authtuna")
DAY = 86400.0


@dataclass(frozen=True, slots=True)
class CleanupReport:
    """Rows removed per table."""

    removed: dict[str, int] = field(default_factory=dict)

    @property
    def total(self) -> int:
        return sum(self.removed.values())


@dataclass(frozen=True, slots=True)
class Cleanup:
    """One pass over every prunable table (:meth:`run`), and the serving app's schedule."""

    _db: UnitOfWork
    _clock: Clock
    _settings: Settings
    #: Rows removed per transaction, so no table stays locked for long.
    batch_size: int = 500

    def _targets(self, now: float
                 ) -> list[tuple[str, InstrumentedAttribute[str] | InstrumentedAttribute[int],
                                 ColumnElement[bool]]]:
        s = self._settings
        stale_counters = now - max(float(s.login_rate_limit_window_seconds), HOUR)
        targets: list[tuple[str, InstrumentedAttribute[str] | InstrumentedAttribute[int],
                            ColumnElement[bool]]] = [
            ("user_sessions", UserSession.session_id, or_(
                UserSession.active.is_(False), UserSession.etime < now,
                UserSession.e_abs_time < now)),
            ("tokens", Token.id, or_(Token.etime < now, Token.used.is_(True))),
            ("pending_signups", PendingSignup.id, PendingSignup.expires_at <= now),
            ("auth_challenges", AuthChallenge.id, or_(
                AuthChallenge.expires_at < now, AuthChallenge.consumed_at.is_not(None))),
            ("throttle_counters", ThrottleCounter.key, (ThrottleCounter.locked_until <= now)
             & (ThrottleCounter.window_start <= stale_counters)),
        ]
        if s.audit_retention_days > 0:
            targets.append(("audit_events", AuditEvent.id,
                            AuditEvent.timestamp < now - s.audit_retention_days * DAY))
        return targets

    async def run(self) -> CleanupReport:
        """Remove what has expired, :attr:`batch_size` rows per transaction."""
        now, batch = self._clock(), max(1, self.batch_size)
        removed: dict[str, int] = {}
        for table, key, expired in self._targets(now):
            removed[table] = 0
            while True:
                async with self._db.transaction() as tx:
                    chosen = select(key).where(expired).limit(batch).scalar_subquery()
                    count = affected(await tx.execute(
                        delete(key.class_).where(key.in_(chosen))
                        .execution_options(synchronize_session=False)))
                removed[table] += count
                if count < batch:
                    break
                await asyncio.sleep(0)  # let requests in between batches
        return CleanupReport(removed)

    async def run_forever(self) -> None:
        """Run every CLEANUP_INTERVAL_SECONDS with jitter; a failed pass is logged and the
        next one comes as planned (the database may be down for a while)."""
        interval = self._settings.cleanup_interval_seconds
        while True:
            await asyncio.sleep(interval * random.uniform(0.75, 1.25))  # noqa: S311 - jitter
            try:
                report = await self.run()
            except Exception as exc:  # noqa: BLE001 - never let the schedule die
                logger.warning("cleanup failed: %s", type(exc).__name__)
                continue
            if report.total:
                logger.info("cleanup removed %s", report.removed)

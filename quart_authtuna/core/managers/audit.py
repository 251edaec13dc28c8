"""AuditManager: writes audit rows inside the caller's transaction, and reads them back."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import and_, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from ..crypto.tokens import keyed_digest
from ..db.models import AuditEvent
from ..db.unit_of_work import UnitOfWork
from ..settings import Settings
from ..types import Clock


@dataclass(frozen=True, slots=True)
class AuditManager:
    """Audit events use upstream's ``event_type`` names (LOGIN_SUCCESS, ROLE_ASSIGNED, …)."""

    _db: UnitOfWork
    _clock: Clock
    _settings: Settings

    def record(
        self,
        session: AsyncSession,
        event_type: str,
        *,
        user_id: str | None = None,
        actor_id: str | None = None,
        ip_address: str | None = None,
        details: dict[str, Any] | None = None,
    ) -> AuditEvent:
        """Add an event to ``session``: it commits, or rolls back, with the change it records."""
        pepper = self._settings.password_pepper
        event = AuditEvent(
            user_id=user_id,
            actor_id=actor_id,
            event_type=event_type,
            timestamp=self._clock(),
            ip_address=ip_address if not self._settings.pii_encryption_enabled
            or self._settings.encrypt_audit_ip else None,  # sealed on insert (db.pii_events)
            ip_address_hash=keyed_digest(pepper.reveal().encode(), ip_address)
            if ip_address and pepper else None,
            details=dict(details or {}),
        )
        session.add(event)
        return event

    async def log_event(
        self,
        event_type: str,
        user_id: str | None = None,
        ip_address: str | None = None,
        details: dict[str, Any] | None = None,
        session: AsyncSession | None = None,
    ) -> AuditEvent:
        """Write one event, in ``session`` if given, else in its own transaction."""
        async with self._db.transaction(session) as tx:
            return self.record(tx, event_type, user_id=user_id, ip_address=ip_address,
                               details=details)

    async def get_events_for_user(
        self, user_id: str, skip: int = 0, limit: int = 50
    ) -> Sequence[AuditEvent]:
        """Newest first."""
        return await self._query(AuditEvent.user_id == user_id, skip, limit)

    async def events_before(self, user_id: str, before: tuple[float, int] | None,
                            limit: int = 50) -> Sequence[AuditEvent]:
        """Keyset page, newest first: the user's events older than ``before`` (a
        ``(timestamp, id)`` pair from the previous page's last row; None for the first page).
        Rows written meanwhile never shift a page, whatever its depth."""
        stmt = select(AuditEvent).where(AuditEvent.user_id == user_id)
        if before is not None:
            at, last_id = before
            stmt = stmt.where(or_(AuditEvent.timestamp < at,
                                  and_(AuditEvent.timestamp == at, AuditEvent.id < last_id)))
        stmt = stmt.order_by(AuditEvent.timestamp.desc(), AuditEvent.id.desc()).limit(
            max(1, min(limit, 500)))
        async with self._db.transaction() as tx:
            return (await tx.scalars(stmt)).all()

    async def get_events_by_type(
        self, event_type: str, skip: int = 0, limit: int = 50
    ) -> Sequence[AuditEvent]:
        """Newest first."""
        return await self._query(AuditEvent.event_type == event_type, skip, limit)

    async def _query(self, where: Any, skip: int, limit: int) -> Sequence[AuditEvent]:
        async with self._db.transaction() as tx:
            stmt = (select(AuditEvent).where(where)
                    .order_by(AuditEvent.timestamp.desc(), AuditEvent.id.desc())
                    .offset(skip).limit(min(limit, 500)))
            return (await tx.scalars(stmt)).all()

"""SessionManager: the server-side session rows (ids stored only as SHA-256)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import delete, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from ..crypto.tokens import digest, random_token
from ..db.models import UserSession
from ..db.unit_of_work import UnitOfWork
from ..revocation import Revocation
from ..settings import Settings
from ..signals import sessions_revoked
from ..types import Clock
from .audit import AuditManager


@dataclass(frozen=True, slots=True)
class IssuedSession:
    """A new session: the row, and the raw id that only the cookie will carry."""

    row: UserSession
    raw_id: str

    @property
    def session_id(self) -> str:
        return self.row.session_id


@dataclass(frozen=True, slots=True)
class SessionManager:
    """Create, list, terminate and clean up sessions."""

    _db: UnitOfWork
    _clock: Clock
    _settings: Settings
    _audit: AuditManager
    _revocation: Revocation

    async def create(self, user_id: str, ip_address: str | None = None, region: str = "Unknown",
                     device: str = "Unknown", *, fingerprint: str = "", method: str = "password",
                     session: AsyncSession | None = None) -> IssuedSession:
        """A fresh session with a new random id (never one supplied by the client)."""
        settings, now = self._settings, self._clock()
        raw_id = random_token(32)
        row = UserSession(
            session_id=digest(raw_id), user_id=user_id, region=region[:255], device=device[:255],
            fingerprint=fingerprint, active=True, ctime=now, mtime=now,
            etime=now + settings.session_lifetime_seconds,
            e_abs_time=now + settings.session_absolute_lifetime_seconds, authenticated_at=now,
            auth_method=method, create_ip=ip_address, last_ip=ip_address,
            random_string=random_token(16), previous_random_strings=[], version=0,
        )
        async with self._db.transaction(session) as tx:
            tx.add(row)
            self._audit.record(tx, "SESSION_CREATED", user_id=user_id, ip_address=ip_address,
                                   details={"device": row.device, "method": method})
        return IssuedSession(row, raw_id)

    async def get(self, raw_id: str, session: AsyncSession | None = None) -> UserSession | None:
        """The row for a raw session id, whatever its state."""
        async with self._db.transaction(session) as tx:
            return await tx.get(UserSession, digest(raw_id))

    async def get_all_for_user(self, user_id: str) -> Sequence[UserSession]:
        """Active, unexpired sessions, newest first."""
        now = self._clock()
        async with self._db.transaction() as tx:
            return (await tx.scalars(select(UserSession).where(
                UserSession.user_id == user_id, UserSession.active.is_(True),
                UserSession.etime > now, UserSession.e_abs_time > now,
            ).order_by(UserSession.mtime.desc()))).all()

    async def terminate(self, session_id: str, reason: str = "logout",
                        session: AsyncSession | None = None, actor_id: str | None = None,
                        ip_address: str | None = None) -> bool:
        """End one session, by its stored (hashed) id; True when it was active."""
        async with self._db.transaction(session) as tx:
            result = await tx.execute(
                update(UserSession).where(UserSession.session_id == session_id,
                                          UserSession.active.is_(True))
                .values(active=False, mtime=self._clock()).returning(UserSession.user_id))
            user_id = result.scalar_one_or_none()
            self._revocation.sessions_ended(tx, [session_id])
            if user_id is not None:
                self._audit.record(tx, "SESSION_TERMINATED", user_id=user_id,
                                   actor_id=actor_id, ip_address=ip_address,
                                   details={"reason": reason})
            return user_id is not None

    async def terminate_all_for_user(self, user_id: str, except_session_id: str | None = None,
                                     reason: str = "terminate_all",
                                     session: AsyncSession | None = None,
                                     actor_id: str | None = None,
                                     ip_address: str | None = None) -> int:
        """End every active session of a user but ``except_session_id``; returns the count."""
        async with self._db.transaction(session) as tx:
            stmt = (update(UserSession)
                    .where(UserSession.user_id == user_id, UserSession.active.is_(True))
                    .values(active=False, mtime=self._clock())
                    .returning(UserSession.session_id))
            if except_session_id is not None:
                stmt = stmt.where(UserSession.session_id != except_session_id)
            ended = list((await tx.execute(stmt)).scalars().all())
            self._revocation.sessions_ended(tx, ended)
            self._audit.record(tx, "SESSIONS_TERMINATED_ALL", user_id=user_id,
                               actor_id=actor_id, ip_address=ip_address,
                               details={"count": len(ended), "reason": reason})
            self._db.emit(tx, sessions_revoked, user_id=user_id, count=len(ended),
                           reason=reason)
            return len(ended)

    async def cleanup_expired_sessions(self) -> int:
        """Delete inactive and expired rows; returns how many were removed."""
        now = self._clock()
        async with self._db.transaction() as tx:
            result = await tx.execute(delete(UserSession).where(or_(
                UserSession.active.is_(False), UserSession.etime < now,
                UserSession.e_abs_time < now)).returning(UserSession.session_id))
            return len(result.scalars().all())

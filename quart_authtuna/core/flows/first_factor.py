"""The shared step after any first factor: a session, or the MFA challenge.

Password, magic-link, passkey and (later) social sign-ins all end here, so a user with a
second factor always meets it, and a session exists only once every required factor is done.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm.attributes import set_committed_value

from ..challenges import MFA_LOGIN, ChallengeStore
from ..db.models import User
from ..db.unit_of_work import UnitOfWork
from ..device_trust import DeviceTrust
from ..errors import InvalidCredentials
from ..i18n import format_datetime
from ..mail import Mailer
from ..managers.audit import AuditManager
from ..managers.sessions import SessionManager
from ..rbac.checker import load_grants
from ..settings import Settings
from ..signals import user_logged_in
from ..throttle import Reservation, Throttle
from ..types import Clock, RequestMeta
from .results import MfaChallenged, SignedIn, SignInResult

MFA_TTL = 300.0
MFA_ATTEMPTS = 5


@dataclass(frozen=True, slots=True)
class FirstFactor:
    """Decides what a verified first factor leads to, and opens sessions."""

    _db: UnitOfWork
    _clock: Clock
    _settings: Settings
    _sessions: SessionManager
    _challenges: ChallengeStore
    _throttle: Throttle
    _devices: DeviceTrust
    _audit: AuditManager
    _mail: Mailer

    async def finished(self, user: User, meta: RequestMeta, method: str, *,
                       second_factor_done: bool = False) -> SignInResult:
        """A session, or a pending MFA challenge when the user has a second factor."""
        if user.mfa_enabled and not second_factor_done:
            challenge = await self._challenges.create(
                MFA_LOGIN, user_id=user.id, ttl=MFA_TTL,
                data={"method": method, "fingerprint": meta.fingerprint})
            return MfaChallenged(challenge.handle, user.id)
        return await self.open_session(user, meta, method)

    async def open_session(self, user: User | str, meta: RequestMeta, method: str, *,
                           new_password_hash: str | None = None,
                           reservation: Reservation | None = None) -> SignedIn:
        """One transaction: the session row, last_login, the audit row and the user's grants;
        ``reservation`` (the attempt that succeeded) is released in it.

        ``user`` is the account the caller just checked (active), or an id to load and
        check here (a sign-in resumed after its second factor)."""
        async with self._db.transaction() as tx:
            if isinstance(user, str):
                found = await tx.get(User, user, populate_existing=True)
                if found is None or not found.is_active:
                    raise InvalidCredentials()
                user = found
            changes: dict[str, object] = {"last_login": self._clock()}
            if new_password_hash is not None:
                changes["password_hash"] = new_password_hash
                self._audit.record(tx, "PASSWORD_REHASHED", user_id=user.id)
            await tx.execute(update(User).where(User.id == user.id).values(**changes))
            for key, value in changes.items():
                set_committed_value(user, key, value)
            if meta.session_id:  # this browser's previous session ends with the new one
                await self._sessions.terminate(meta.session_id, reason="replaced_by_login",
                                               session=tx)
            issued = await self._sessions.create(
                user.id, meta.ip_address, meta.region, meta.device,
                fingerprint=meta.fingerprint, method=method, session=tx)
            if reservation is not None:
                await self._throttle.release(reservation, session=tx)
            self._audit.record(tx, "LOGIN_SUCCESS", user_id=user.id, ip_address=meta.ip_address,
                               details={"method": method})
            grants = await load_grants(tx, user.id)
            self._db.emit(tx, user_logged_in, user=user, session_id=issued.session_id,
                          method=method)
            await self._notify(tx, user, meta)
        device = self._devices.issue(user.id, self._devices.verify(meta.device_token, user.id))
        return SignedIn(user, issued, grants, method, device)

    async def _notify(self, tx: AsyncSession, user: User, meta: RequestMeta) -> None:
        """Put the sign-in notice in the outbox, in the sign-in's transaction."""
        if self._settings.send_new_login_email:
            when = format_datetime(self._clock())
            await self._mail.enqueue("new_login", user.email, session=tx,
                                     username=user.username,
                                     ip_address=meta.ip_address or "unknown",
                                     device=meta.device, region=meta.region, login_time=when)

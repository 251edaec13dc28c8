"""Password sign-in and re-authentication: one generic failure, equal cost for every miss."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncSession

from ..crypto.passwords import PasswordHasher
from ..db.models import User, UserSession
from ..db.unit_of_work import UnitOfWork
from ..errors import EmailNotVerified, InvalidCredentials
from ..lockout import LoginGate
from ..managers.audit import AuditManager
from ..managers.passkeys import REAUTH, PasskeyManager
from ..managers.sessions import SessionManager
from ..managers.users import UserManager
from ..rbac.checker import load_grants
from ..revocation import Revocation
from ..settings import Settings
from ..signals import login_failed
from ..throttle import Reservation, Throttle, account_key, session_key
from ..types import Clock, RequestMeta
from .email_verification import EmailVerification
from .first_factor import FirstFactor
from .results import Reauthenticated, SignedIn, SignInResult


@dataclass(frozen=True, slots=True)
class PasswordLogin:
    """Check the password, then hand over to the shared first-factor step."""

    _db: UnitOfWork
    _settings: Settings
    _users: UserManager
    _passwords: PasswordHasher
    _gate: LoginGate
    _audit: AuditManager
    _verification: EmailVerification
    _first_factor: FirstFactor

    async def __call__(self, identifier: str, password: str, meta: RequestMeta
                       ) -> SignInResult:
        """A session or an MFA challenge; InvalidCredentials for every kind of miss.

        Unknown users, wrong passwords, suspended and locked accounts fail identically, and
        each failure costs one bcrypt verification. The attempt is counted before the
        password is checked (:mod:`..lockout`), so parallel guesses never exceed the limit.
        """
        too_long = len(password) > self._settings.password_max_length
        identifier = identifier.strip()[:320]
        user = None if too_long else await self._users.get_by_identifier(identifier)
        user_id = user.id if user else None
        attempt = await self._gate.enter(account_key(identifier, user_id), meta.ip_address,
                                         meta.device_token, user_id=user_id)
        stored = None if attempt.account_locked or user is None else user.password_hash
        ok = False if too_long else await self._passwords.verify(password, stored)
        if user is None or not ok or not user.is_active:
            reason = ("locked" if attempt.account_locked else "unknown_user" if user is None
                      else "bad_password" if not ok else "suspended")
            async with self._db.transaction() as tx:
                self._audit.record(tx, "LOGIN_FAILED", user_id=user_id,
                                   ip_address=meta.ip_address, details={"reason": reason})
                self._db.emit(tx, login_failed, user_id=user.id if user else None,
                              ip_address=meta.ip_address)
            raise InvalidCredentials()
        if self._settings.require_email_verification and not user.email_verified:
            await self._gate.succeeded(attempt)
            await self._verification.send(user)
            raise EmailNotVerified()
        rehash = (await self._passwords.hash(password)
                  if self._passwords.needs_rehash(user.password_hash) else None)
        if not user.mfa_enabled:
            return await self._first_factor.open_session(
                user, meta, "password", new_password_hash=rehash,
                reservation=attempt.reservation)
        async with self._db.transaction() as tx:
            await self._gate.succeeded(attempt, session=tx)
            if rehash is not None:
                row = await tx.get(User, user.id)
                assert row is not None
                row.password_hash = rehash
                self._audit.record(tx, "PASSWORD_REHASHED", user_id=user.id)
        return await self._first_factor.finished(user, meta, "password")


@dataclass(frozen=True, slots=True)
class Reauthentication:
    """Confirm the password (or one of the user's passkeys) again; the session counts as
    freshly signed in from now."""

    _db: UnitOfWork
    _clock: Clock
    _users: UserManager
    _passwords: PasswordHasher
    _throttle: Throttle
    _audit: AuditManager
    _revocation: Revocation
    _passkeys: PasskeyManager
    _sessions: SessionManager

    async def __call__(self, user_id: str, session_id: str, password: str, meta: RequestMeta
                       ) -> Reauthenticated:
        """The attempt is counted per session before the check (RateLimited past the limit)."""
        user = await self._users.get_by_id(user_id)
        reservation = await self._throttle.reserve([session_key(session_id)])
        if user is None or not await self._passwords.verify(password, user.password_hash):
            await self._audit.log_event("REAUTHENTICATION_FAILED", user_id, meta.ip_address)
            raise InvalidCredentials("The password is not correct.")
        return await self._fresh(user_id, session_id, meta, reservation, "password")

    async def with_passkey(self, user_id: str, session_id: str,
                           credential: dict[str, Any] | str, binding: str, meta: RequestMeta
                           ) -> Reauthenticated:
        """The same with an assertion of one of this user's passkeys (counted alike)."""
        reservation = await self._throttle.reserve([session_key(session_id)])
        await self._passkeys.authenticate(credential, binding, REAUTH, user_id,
                                          meta.ip_address)
        return await self._fresh(user_id, session_id, meta, reservation, "passkey")

    async def _fresh(self, user_id: str, session_id: str, meta: RequestMeta,
                     reservation: Reservation, method: str) -> Reauthenticated:
        now = self._clock()
        renewed = None
        async with self._db.transaction() as tx:
            await self._throttle.release(reservation, session=tx)
            row = await tx.get(UserSession, session_id)
            user = await tx.get(User, user_id)
            if row is not None and user is not None and row.flagged_at is not None and row.active:
                renewed = await self._renew(tx, row, user, meta)
            else:
                await tx.execute(update(UserSession).where(UserSession.session_id == session_id)
                                 .values(authenticated_at=now))
            self._audit.record(tx, "REAUTHENTICATED", user_id=user_id,
                               ip_address=meta.ip_address, details={"method": method})
            self._revocation.user_changed(tx, user_id)
        return Reauthenticated(now, renewed)

    async def _renew(self, tx: AsyncSession, row: UserSession, user: User, meta: RequestMeta
                     ) -> SignedIn:
        """Step-up of a flagged session: end it (the copied cookie dies with it) and give
        this browser a new one on the same device."""
        row.active = False
        self._revocation.sessions_ended(tx, [row.session_id])
        issued = await self._sessions.create(
            user.id, meta.ip_address, row.region, row.device, fingerprint=row.fingerprint,
            method=row.auth_method, session=tx)
        self._audit.record(tx, "SESSION_STEPPED_UP", user_id=user.id, ip_address=meta.ip_address)
        return SignedIn(user, issued, await load_grants(tx, user.id), row.auth_method)

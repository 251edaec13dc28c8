"""Password change and the reset journey (request a token, redeem it once)."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncSession

from ..crypto.passwords import PasswordHasher
from ..db.models import User
from ..db.unit_of_work import UnitOfWork
from ..emailed_links import EmailedLinks
from ..errors import ConflictError, InvalidCredentials, NotFound
from ..i18n import N_
from ..mail import Mailer
from ..mail_quota import MailQuota
from ..managers.audit import AuditManager
from ..managers.sessions import SessionManager
from ..managers.tokens import PASSWORD_RESET, IssuedToken, TokenManager
from ..managers.users import UserManager
from ..settings import Settings
from ..signals import password_changed, password_reset, password_reset_requested
from ..throttle import Throttle, account_key, session_key
from ..types import Clock, RequestMeta
from .results import PasswordChanged, PasswordReset

RESET = PASSWORD_RESET
_NO_PASSWORD = N_("This account has no password yet: set one instead.")
_HAS_PASSWORD = N_("This account already has a password: change it instead.")


@dataclass(frozen=True, slots=True)
class Passwords:
    """Change (knowing the current password) and reset (by emailed token)."""

    _db: UnitOfWork
    _clock: Clock
    _settings: Settings
    _users: UserManager
    _passwords: PasswordHasher
    _tokens: TokenManager
    _sessions: SessionManager
    _links: EmailedLinks
    _throttle: Throttle
    _quota: MailQuota
    _audit: AuditManager
    _mail: Mailer

    async def change(self, user_id: str, current_password: str, new_password: str,
                     meta: RequestMeta, keep_session_id: str | None = None) -> PasswordChanged:
        """Needs the current password; ends every other session (``keep_session_id`` is the
        stored, hashed id of the session to keep). The check is throttled like
        re-authentication: per session (else per account), counted before it runs."""
        found = await self._users.get_by_id(user_id)
        if found is None:
            raise NotFound(N_("User not found."))
        if found.password_hash is None:
            raise ConflictError(_NO_PASSWORD)
        key = session_key(keep_session_id) if keep_session_id else account_key("", user_id)
        reservation = await self._throttle.reserve([key])
        if not await self._passwords.verify(current_password, found.password_hash):
            async with self._db.transaction() as tx:
                self._audit.record(tx, "PASSWORD_CHANGE_FAILED", user_id=user_id,
                                   ip_address=meta.ip_address)
            raise InvalidCredentials(N_("The current password is not correct."))
        self._passwords.policy.enforce(new_password, username=found.username, email=found.email)
        new_hash = await self._passwords.hash(new_password)
        async with self._db.transaction() as tx:
            row = await tx.get(User, user_id)
            assert row is not None
            row.password_hash, row.password_changed_at = new_hash, self._clock()
            row.requires_password_reset = False
            ended = await self._sessions.terminate_all_for_user(
                user_id, except_session_id=keep_session_id, reason="password_changed",
                session=tx)
            await self._links.void(tx, user_id)
            await self._throttle.release(reservation, session=tx)
            self._audit.record(tx, "PASSWORD_CHANGED", user_id=user_id,
                               ip_address=meta.ip_address)
            self._db.emit(tx, password_changed, user=row)
            await self._notify_changed(tx, row)
        return PasswordChanged(row, ended)

    async def set_first(self, user_id: str, new_password: str, meta: RequestMeta,
                        keep_session_id: str | None = None) -> PasswordChanged:
        """Give an account without a password (passkey-first) its first one; callers require
        a fresh sign-in instead of a current password. ConflictError if it has one."""
        found = await self._users.get_by_id(user_id)
        if found is None:
            raise NotFound(N_("User not found."))
        if found.password_hash is not None:
            raise ConflictError(_HAS_PASSWORD)
        self._passwords.policy.enforce(new_password, username=found.username, email=found.email)
        new_hash = await self._passwords.hash(new_password)
        async with self._db.transaction() as tx:
            row = await tx.get(User, user_id, populate_existing=True)
            assert row is not None
            if row.password_hash is not None:  # set by a concurrent request
                raise ConflictError(_HAS_PASSWORD)
            row.password_hash, row.password_changed_at = new_hash, self._clock()
            ended = await self._sessions.terminate_all_for_user(
                user_id, except_session_id=keep_session_id, reason="password_changed",
                session=tx)
            self._audit.record(tx, "PASSWORD_SET", user_id=user_id, ip_address=meta.ip_address)
            self._db.emit(tx, password_changed, user=row)
            await self._notify_changed(tx, row)
        return PasswordChanged(row, ended)

    async def request_reset(self, email: str, meta: RequestMeta) -> IssuedToken | None:
        """A reset token for the account with this email, or None.

        Callers must answer identically either way. ``token.id`` is the raw secret to email.
        """
        ip = meta.ip_address
        await self._quota.admit_request(ip)  # RateLimited for this requester only
        user = await self._users.get_by_email(email)
        if (user is not None and user.is_active
                and not await self._quota.allow_for(user.id, user.email, meta)):
            await self._audit.log_event("PASSWORD_RESET_RATE_LIMITED", user.id, ip)
            return None
        async with self._db.transaction() as tx:
            if user is None or not user.is_active:
                self._audit.record(tx, "PASSWORD_RESET_REQUESTED", ip_address=ip,
                                   details={"matched": False})
                return None
            issued = await self._tokens.create(user.id, RESET, session=tx)
            self._audit.record(tx, "PASSWORD_RESET_REQUESTED", user_id=user.id, ip_address=ip,
                               details={"matched": True})
            self._db.emit(tx, password_reset_requested, user=user, token=issued.raw)
            await self._mail.enqueue(
                "password_reset", user.email, session=tx, username=user.username,
                reset_link=self._mail.link("reset_password", token=issued.raw),
                expires_minutes=self._settings.tokens_expiry_seconds // 60)
        return issued

    async def reset(self, token_id: str, new_password: str, meta: RequestMeta) -> PasswordReset:
        """Redeem a reset token once: set the password, end every session, do not sign in.

        A password the policy rejects leaves the token unspent.
        """
        token = await self._tokens.peek(token_id, RESET)
        user = await self._users.get_by_id(token.user_id)
        if user is None:
            raise NotFound(N_("User not found."))
        self._passwords.policy.enforce(new_password, username=user.username, email=user.email)
        new_hash = await self._passwords.hash(new_password)
        async with self._db.transaction() as tx:
            await self._tokens.consume(token_id, RESET, meta.ip_address, session=tx)
            row = await tx.get(User, user.id, populate_existing=True)
            assert row is not None
            row.password_hash, row.password_changed_at = new_hash, self._clock()
            row.requires_password_reset, row.email_verified = False, True
            ended = await self._sessions.terminate_all_for_user(user.id, reason="password_reset",
                                                                session=tx)
            await self._links.void(tx, user.id)
            await self._throttle.forget([account_key("", user.id)], session=tx)
            self._audit.record(tx, "PASSWORD_RESET_COMPLETED", user_id=user.id,
                               ip_address=meta.ip_address)
            self._db.emit(tx, password_reset, user=row)
            await self._notify_changed(tx, row)
        return PasswordReset(row, ended)

    async def _notify_changed(self, tx: AsyncSession, user: User) -> None:
        await self._mail.enqueue("password_change", user.email, session=tx,
                                 username=user.username,
                                 login_url=self._mail.link("forgot_password"))

"""Password change and the reset journey (request a token, redeem it once)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from .. import signals
from ..db.models import User
from ..errors import InvalidCredentials, NotFound, RateLimited
from ..managers.tokens import IssuedToken
from ..throttle import account_key

if TYPE_CHECKING:
    from ..service import AuthService

RESET = "password_reset"


async def change_password(
    self: AuthService,
    user: User | str,
    current_password: str,
    new_password: str,
    ip_address: str | None = None,
    current_session_id: str | None = None,
) -> User:
    """Needs the current password; ends every other session (``current_session_id`` is the
    stored, hashed id of the session to keep)."""
    user_id = user if isinstance(user, str) else user.id
    found = await self.users.get_by_id(user_id)
    if found is None:
        raise NotFound("User not found.")
    if not await self.passwords.verify(current_password, found.password_hash):
        async with self.transaction() as tx:
            self.audit.record(tx, "PASSWORD_CHANGE_FAILED", user_id=user_id, ip_address=ip_address)
        raise InvalidCredentials("The current password is not correct.")
    self.passwords.policy.enforce(new_password, username=found.username, email=found.email)
    new_hash = await self.passwords.hash(new_password)
    async with self.transaction() as tx:
        row = await tx.get(User, user_id)
        assert row is not None
        row.password_hash, row.password_changed_at = new_hash, self.now()
        row.requires_password_reset = False
        await self.sessions.terminate_all_for_user(
            user_id, except_session_id=current_session_id, reason="password_changed", session=tx)
        self.audit.record(tx, "PASSWORD_CHANGED", user_id=user_id, ip_address=ip_address)
        self.emit(tx, signals.password_changed, user=row)
    _notify_changed(self, row)
    return row


async def request_password_reset(
    self: AuthService, email: str, ip_address: str | None = None
) -> IssuedToken | None:
    """A reset token for the account with this email, or None.

    Callers must answer identically either way. ``token.id`` is the raw secret to email.
    """
    user = await self.users.get_by_email(email)
    async with self.transaction() as tx:
        if user is None or not user.is_active:
            self.audit.record(tx, "PASSWORD_RESET_REQUESTED", ip_address=ip_address,
                              details={"matched": False})
            return None
        try:
            issued = await self.tokens.create(user.id, RESET, session=tx)
        except RateLimited:
            self.audit.record(tx, "PASSWORD_RESET_RATE_LIMITED", user_id=user.id,
                              ip_address=ip_address)
            return None
        self.audit.record(tx, "PASSWORD_RESET_REQUESTED", user_id=user.id, ip_address=ip_address,
                          details={"matched": True})
        self.emit(tx, signals.password_reset_requested, user=user, token=issued.raw)
    link = self.mail.link(f"{self.settings.auth_prefix}/reset-password", token=issued.raw)
    self.mail.send_later("password_reset", user.email, username=user.username, reset_link=link,
                         expires_minutes=self.settings.tokens_expiry_seconds // 60)
    return issued


async def reset_password(
    self: AuthService, token_id: str, new_password: str, ip_address: str | None = None
) -> User:
    """Redeem a reset token once: set the password, end every session, do not log in.

    A password the policy rejects leaves the token unspent.
    """
    token = await self.tokens.peek(token_id, RESET)
    user = await self.users.get_by_id(token.user_id)
    if user is None:
        raise NotFound("User not found.")
    self.passwords.policy.enforce(new_password, username=user.username, email=user.email)
    new_hash = await self.passwords.hash(new_password)
    async with self.transaction() as tx:
        await self.tokens.consume(token_id, RESET, ip_address, session=tx)
        row = await tx.get(User, user.id, populate_existing=True)
        assert row is not None
        row.password_hash, row.password_changed_at = new_hash, self.now()
        row.requires_password_reset, row.email_verified = False, True
        await self.sessions.terminate_all_for_user(user.id, reason="password_reset", session=tx)
        await self.throttle.succeeded([account_key("", user.id)], session=tx)
        self.audit.record(tx, "PASSWORD_RESET_COMPLETED", user_id=user.id, ip_address=ip_address)
        self.emit(tx, signals.password_reset, user=row)
    _notify_changed(self, row)
    return row


def _notify_changed(svc: AuthService, user: User) -> None:
    svc.mail.send_later("password_change", user.email, username=user.username,
                        login_url=svc.mail.link(f"{svc.settings.auth_prefix}/forgot-password"))

"""Password login: one generic failure, equal cost for unknown users, a fresh session."""

from __future__ import annotations

from typing import TYPE_CHECKING

from .. import signals
from ..db.models import User
from ..errors import EmailNotVerified, InvalidCredentials
from ..managers.sessions import IssuedSession
from ..stages import after_first_factor
from ..throttle import account_key, ip_key
from ..types import RequestMeta

if TYPE_CHECKING:
    from ..service import AuthService


async def login(
    self: AuthService,
    username_or_email: str,
    password: str,
    ip_address: str | None = None,
    region: str = "Unknown",
    device: str = "Unknown",
    *,
    fingerprint: str = "",
) -> tuple[User, IssuedSession]:
    """Check the password and open a new session, or raise InvalidCredentials.

    Unknown users, wrong passwords and suspended accounts fail identically, and each
    failure costs one bcrypt verification.
    """
    too_long = len(password) > self.settings.password_max_length
    identifier = username_or_email.strip()[:320]
    user = None if too_long else await self.users.get_by_identifier(identifier)
    keys = [account_key(identifier, user.id if user else None), ip_key(ip_address)]
    await self.throttle.check(keys)
    if too_long:
        ok = False
    else:
        ok = await self.passwords.verify(password, user.password_hash if user else None)
    if user is None or not ok or not user.is_active:
        reason = "unknown_user" if user is None else ("bad_password" if not ok else "suspended")
        async with self.transaction() as tx:
            await self.throttle.failed(keys, session=tx)
            self.audit.record(tx, "LOGIN_FAILED", user_id=user.id if user else None,
                              ip_address=ip_address, details={"reason": reason})
            self.emit(tx, signals.login_failed, user_id=user.id if user else None,
                      ip_address=ip_address)
        raise InvalidCredentials()
    if self.settings.require_email_verification and not user.email_verified:
        from .email_verification import send_verification

        await send_verification(self, user)
        raise EmailNotVerified()
    if self.passwords.needs_rehash(user.password_hash):
        new_hash = await self.passwords.hash(password)
        async with self.transaction() as tx:
            row = await tx.get(User, user.id)
            assert row is not None
            row.password_hash = new_hash
            self.audit.record(tx, "PASSWORD_REHASHED", user_id=user.id)
    meta = RequestMeta(ip_address=ip_address, device=device, region=region,
                       fingerprint=fingerprint)
    issued = await after_first_factor(self, user, meta, "password")
    fresh = await self.users.get_by_id(user.id)
    assert fresh is not None
    notify_new_login(self, fresh, ip_address, device, region)
    return fresh, issued


def notify_new_login(svc: AuthService, user: User, ip_address: str | None, device: str,
                     region: str) -> None:
    """Email the user about a sign-in (in the background)."""
    if svc.settings.send_new_login_email:
        from datetime import UTC, datetime

        when = datetime.fromtimestamp(svc.now(), UTC).strftime("%Y-%m-%d %H:%M UTC")
        svc.mail.send_later("new_login", user.email, username=user.username,
                            ip_address=ip_address or "unknown", device=device, region=region,
                            login_time=when)


async def reauthenticate(svc: AuthService, user_id: str, session_id: str, password: str,
                         ip_address: str | None = None) -> float:
    """Confirm the password again; the session counts as freshly signed in from now."""
    from sqlalchemy import update

    from ..db.models import UserSession

    user = await svc.users.get_by_id(user_id)
    keys = [account_key("", user_id), ip_key(ip_address)]
    await svc.throttle.check(keys)
    if user is None or not await svc.passwords.verify(password, user.password_hash):
        async with svc.transaction() as tx:
            await svc.throttle.failed(keys, session=tx)
            svc.audit.record(tx, "REAUTHENTICATION_FAILED", user_id=user_id, ip_address=ip_address)
        raise InvalidCredentials("The password is not correct.")
    now = svc.now()
    async with svc.transaction() as tx:
        await tx.execute(update(UserSession).where(UserSession.session_id == session_id)
                         .values(authenticated_at=now))
        svc.audit.record(tx, "REAUTHENTICATED", user_id=user_id, ip_address=ip_address)
    state = svc.session_cache.get(session_id)
    if state is not None:
        svc.session_cache.put(state.with_user(authenticated_at=now))
    return now

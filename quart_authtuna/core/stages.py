"""The login pipeline after a first factor: straight to a session, or a pending MFA step.

Password, magic-link and social logins all end here, so a user with MFA always meets the
second factor, and a session exists only once every required factor is done.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from . import signals
from .db.models import User
from .errors import InvalidCredentials, MfaRequired
from .managers.sessions import IssuedSession
from .throttle import account_key
from .types import RequestMeta

if TYPE_CHECKING:
    from .service import AuthService

MFA_LOGIN = "mfa_login"
MFA_TTL = 300.0
MFA_ATTEMPTS = 5


class MfaPending(MfaRequired):
    """The first factor passed; ``handle`` resumes the login at the second factor."""

    def __init__(self, handle: str, user_id: str) -> None:
        super().__init__("Enter the code from your authenticator app to finish signing in.")
        self.handle = handle
        self.user_id = user_id


async def after_first_factor(svc: AuthService, user: User, meta: RequestMeta, method: str
                             ) -> IssuedSession:
    """Open a session, or raise MfaPending when the user has a second factor."""
    if user.mfa_enabled:
        challenge = await svc.challenges.create(
            MFA_LOGIN, user_id=user.id, ttl=MFA_TTL,
            data={"method": method, "fingerprint": meta.fingerprint})
        raise MfaPending(challenge.handle, user.id)
    return await open_session(svc, user, meta, method)


async def open_session(svc: AuthService, user: User, meta: RequestMeta, method: str
                       ) -> IssuedSession:
    async with svc.transaction() as tx:
        row = await tx.get(User, user.id)
        assert row is not None
        row.last_login = svc.now()
        issued = await svc.sessions.create(user.id, meta.ip_address, meta.region, meta.device,
                                           fingerprint=meta.fingerprint, method=method,
                                           session=tx)
        await svc.throttle.succeeded([account_key("", user.id)], session=tx)
        svc.audit.record(tx, "LOGIN_SUCCESS", user_id=user.id, ip_address=meta.ip_address,
                         details={"method": method})
        svc.emit(tx, signals.user_logged_in, user=row, session_id=issued.session_id,
                 method=method)
    return issued


async def complete_mfa_login(svc: AuthService, handle: str, code: str, meta: RequestMeta
                             ) -> tuple[User, IssuedSession]:
    """Check the second factor for a pending login; the challenge is used at most once."""
    pending = await svc.challenges.get(handle, MFA_LOGIN, max_attempts=MFA_ATTEMPTS)
    assert pending.user_id is not None
    if not await svc.mfa.verify_code(pending.user_id, code, meta.ip_address):
        await svc.challenges.failed(handle)
        raise InvalidCredentials("That code is not valid.")
    return await finish_mfa_login(svc, handle, meta, "totp")


async def finish_mfa_login(svc: AuthService, handle: str, meta: RequestMeta, factor: str
                           ) -> tuple[User, IssuedSession]:
    """Consume the pending login (once) and open the session."""
    pending = await svc.challenges.consume(handle, MFA_LOGIN)
    user = await svc.users.get_by_id(pending.user_id or "")
    if user is None or not user.is_active:
        raise InvalidCredentials()
    issued = await open_session(svc, user, meta, f"{pending.data.get('method')}+{factor}")
    return user, issued

"""Passwordless sign-in by emailed link: request it, then confirm it once on a page."""

from __future__ import annotations

from typing import TYPE_CHECKING

from ..db.models import User
from ..defaults import DEFAULT_ADMIN_IDS
from ..errors import RateLimited, TokenInvalid
from ..managers.sessions import IssuedSession
from ..stages import after_first_factor
from ..types import RequestMeta

if TYPE_CHECKING:
    from ..service import AuthService

PURPOSE = "passwordless_login"


async def request_link(svc: AuthService, email: str, ip_address: str | None = None) -> None:
    """Email a sign-in link when the address has an active account; silent otherwise.

    The seeded default admins cannot sign in by link.
    """
    user = await svc.users.get_by_email(email)
    if user is None or not user.is_active or user.id in DEFAULT_ADMIN_IDS:
        await svc.audit.log_event("PASSWORDLESS_LOGIN_REQUESTED", None, ip_address,
                                  {"matched": False})
        return
    try:
        issued = await svc.tokens.create(user.id, PURPOSE, svc.settings.tokens_expiry_seconds)
    except RateLimited:
        await svc.audit.log_event("PASSWORDLESS_LOGIN_RATE_LIMITED", user.id, ip_address)
        return
    await svc.audit.log_event("PASSWORDLESS_LOGIN_REQUESTED", user.id, ip_address,
                              {"matched": True})
    link = svc.mail.link(f"{svc.settings.auth_prefix}/passwordless/login", token=issued.raw)
    svc.mail.send_later("passwordless_login", user.email, username=user.username,
                        login_link=link,
                        expires_minutes=svc.settings.tokens_expiry_seconds // 60)


async def login_with_link(svc: AuthService, token: str, meta: RequestMeta
                          ) -> tuple[User, IssuedSession]:
    """Consume the link (it also proves the address), then finish like any first factor:
    a session, or MfaPending when the user has a second factor."""
    async with svc.transaction() as tx:
        row = await svc.tokens.consume(token, PURPOSE, meta.ip_address, session=tx)
        user = await tx.get(User, row.user_id)
        if user is None or not user.is_active or user.id in DEFAULT_ADMIN_IDS:
            raise TokenInvalid()
        user.email_verified = True
        svc.audit.record(tx, "PASSWORDLESS_LOGIN_SUCCESS", user_id=user.id,
                         ip_address=meta.ip_address)
    issued = await after_first_factor(svc, user, meta, "magic_link")
    return user, issued

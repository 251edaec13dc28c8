"""Email verification: issue a link, confirm it once, resend without revealing accounts."""

from __future__ import annotations

from typing import TYPE_CHECKING

from .. import signals
from ..db.models import User
from ..errors import RateLimited

if TYPE_CHECKING:
    from ..service import AuthService

PURPOSE = "email_verification"


async def send_verification(svc: AuthService, user: User) -> None:
    """Email a fresh verification link (earlier links stop working)."""
    issued = await svc.tokens.create(user.id, PURPOSE)
    link = svc.mail.link(f"{svc.settings.auth_prefix}/verify", token=issued.raw)
    svc.mail.send_later("verification", user.email, username=user.username,
                        verification_link=link,
                        expires_minutes=svc.settings.tokens_expiry_seconds // 60)


async def verify_email(svc: AuthService, token: str, ip_address: str | None = None) -> User:
    """Consume the token and mark the address verified; raises TokenError otherwise."""
    async with svc.transaction() as tx:
        row = await svc.tokens.consume(token, PURPOSE, ip_address, session=tx)
        user = await tx.get(User, row.user_id)
        assert user is not None
        user.email_verified = True
        svc.audit.record(tx, "EMAIL_VERIFIED", user_id=user.id, ip_address=ip_address)
        svc.emit(tx, signals.user_updated, user=user, changes=["email_verified"])
    svc.session_cache.drop_user(user.id)
    svc.mail.send_later("welcome", user.email, username=user.username,
                        login_url=svc.mail.link(f"{svc.settings.auth_prefix}/login"))
    return user


async def resend_verification(svc: AuthService, email: str, ip_address: str | None = None
                              ) -> None:
    """Send a new link if the address belongs to an unverified account; silent otherwise."""
    user = await svc.users.get_by_email(email)
    if user is None or user.email_verified or not user.is_active:
        await svc.audit.log_event("EMAIL_VERIFICATION_RESEND", None, ip_address,
                                  {"matched": False})
        return
    try:
        await send_verification(svc, user)
    except RateLimited:
        await svc.audit.log_event("EMAIL_VERIFICATION_RATE_LIMITED", user.id, ip_address)

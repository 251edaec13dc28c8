"""Email verification: issue a link, confirm it once, resend without revealing accounts."""

from __future__ import annotations

from ..db.models import User
from ..db.unit_of_work import UnitOfWork
from ..mail import Mailer
from ..mail_quota import MailQuota
from ..managers.audit import AuditManager
from ..managers.tokens import TokenManager
from ..managers.users import UserManager
from ..revocation import Revocation
from ..settings import Settings
from ..signals import user_updated
from ..types import RequestMeta
from .results import EmailVerified

PURPOSE = "email_verification"


class EmailVerification:
    """Send, confirm and resend verification links."""

    def __init__(self, db: UnitOfWork, settings: Settings, users: UserManager,
                 tokens: TokenManager, audit: AuditManager, mail: Mailer, quota: MailQuota,
                 revocation: Revocation) -> None:
        self._quota = quota
        self._db = db
        self._settings = settings
        self._users = users
        self._tokens = tokens
        self._audit = audit
        self._mail = mail
        self._revocation = revocation

    async def send(self, user: User) -> None:
        """Email a fresh verification link (earlier links stop working)."""
        issued = await self._tokens.create(user.id, PURPOSE)
        self._mail.send_later("verification", user.email, username=user.username,
                              verification_link=self._mail.link("verify_email", token=issued.raw),
                              expires_minutes=self._settings.tokens_expiry_seconds // 60)

    async def verify(self, token: str, meta: RequestMeta) -> EmailVerified:
        """Consume the token and mark the address verified; raises TokenError otherwise."""
        async with self._db.transaction() as tx:
            row = await self._tokens.consume(token, PURPOSE, meta.ip_address, session=tx)
            user = await tx.get(User, row.user_id)
            assert user is not None
            user.email_verified = True
            self._audit.record(tx, "EMAIL_VERIFIED", user_id=user.id, ip_address=meta.ip_address)
            self._db.emit(tx, user_updated, user=user, changes=["email_verified"])
            self._revocation.user_changed(tx, user.id)
        self._mail.send_later("welcome", user.email, username=user.username,
                              login_url=self._mail.link("login"))
        return EmailVerified(user)

    async def resend(self, email: str, meta: RequestMeta) -> None:
        """Send a new link if the address belongs to an unverified account; silent otherwise.

        Requests are limited per requesting IP (RateLimited), mails per address and IP."""
        await self._quota.admit_request(meta.ip_address)
        user = await self._users.get_by_email(email)
        if (user is None or user.email_verified or not user.is_active
                or not await self._quota.allow(user.email, meta.ip_address)):
            await self._audit.log_event("EMAIL_VERIFICATION_RESEND", None, meta.ip_address,
                                        {"matched": False})
            return
        await self.send(user)

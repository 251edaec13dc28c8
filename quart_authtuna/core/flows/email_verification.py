"""Email verification: issue a link, confirm it once, resend without revealing accounts.

A link confirms one of two things: a pending sign-up (the account is created, verified, when
the link is confirmed) or the address of an existing unverified account (accounts created by
an admin, the CLI, or before sign-ups were held).
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncSession

from ..db.models import User
from ..db.unit_of_work import UnitOfWork
from ..errors import (
    AccountExists,
    ConflictError,
    IdentifierTaken,
    TokenInvalid,
    UsernameTaken,
)
from ..i18n import N_
from ..links import Page
from ..mail import Mailer
from ..mail_quota import MailQuota
from ..managers.audit import AuditManager
from ..managers.pending_signups import HeldSignup, PendingSignups, VerificationLink
from ..managers.tokens import EMAIL_VERIFICATION, TokenManager
from ..managers.users import UserManager
from ..revocation import Revocation
from ..settings import Settings
from ..signals import user_updated
from ..types import RequestMeta
from .results import EmailVerified

PURPOSE = EMAIL_VERIFICATION
_PASSKEY_LINK = N_("This link finishes a passkey sign-up: open it from the email to create "
                 "the passkey.")


async def taken_since(users: UserManager, held: HeldSignup) -> ConflictError:
    """Why a held sign-up cannot become an account: its address or its username got one."""
    if await users.get_by_email(held.email) is not None:
        return AccountExists()
    return UsernameTaken()


@dataclass(frozen=True, slots=True)
class EmailVerification:
    """Send, confirm and resend verification links."""

    _db: UnitOfWork
    _settings: Settings
    _users: UserManager
    _pending: PendingSignups
    _tokens: TokenManager
    _audit: AuditManager
    _mail: Mailer
    _quota: MailQuota
    _revocation: Revocation

    async def send(self, user: User, session: AsyncSession | None = None) -> None:
        """Email an unverified account a fresh link (earlier links stop working); the token
        and its mail commit together, in ``session``'s transaction when given."""
        async with self._db.transaction(session) as tx:
            issued = await self._tokens.create(user.id, PURPOSE, session=tx)
            await self.mail_link(VerificationLink(user.username, user.email, issued.raw), tx)

    async def mail_link(self, link: VerificationLink, session: AsyncSession | None = None
                        ) -> None:
        """Put the mail carrying ``link`` in the outbox, in ``session``'s transaction (a
        passkey-first sign-up's link opens its ceremony)."""
        page: Page = "passkey_signup" if link.passkey else "verify_email"
        await self._mail.enqueue(
            "verification", link.email, session=session, username=link.username,
            verification_link=self._mail.link(page, token=link.raw),
            expires_minutes=self._settings.tokens_expiry_seconds // 60)

    async def verify(self, token: str, meta: RequestMeta) -> EmailVerified:
        """Redeem the link in one transaction: a pending sign-up becomes a verified account,
        or an unverified account's address is marked verified.

        Raises TokenError; UsernameTaken or AccountExists when a pending sign-up's username
        or address got an account since (nothing is created and the link stays as it was).
        """
        held: HeldSignup | None = None
        try:
            async with self._db.transaction() as tx:
                held = await self._pending.take(token, tx)
                if held is not None and held.password_hash is None:
                    raise TokenInvalid(_PASSKEY_LINK)  # rolled back: the link still works
                if held is None:
                    user = await self._verify_address(tx, token, meta)
                else:
                    user = await self._create_account(tx, held, meta)
                await self._mail.enqueue("welcome", user.email, session=tx,
                                         username=user.username,
                                         login_url=self._mail.link("login"))
        except IdentifierTaken:
            if held is None:
                raise
            raise await taken_since(self._users, held) from None
        return EmailVerified(user)

    async def resend(self, email: str, meta: RequestMeta) -> None:
        """Send a new link if the address belongs to an unverified account or a pending
        sign-up (its newest one); silent otherwise.

        Requests are limited per requesting IP (RateLimited), mails per address and IP."""
        await self._quota.admit_request(meta.ip_address)
        user = await self._users.get_by_email(email)
        if user is not None:
            sent = (not user.email_verified and user.is_active
                    and await self._quota.allow(user.email, meta.ip_address))
            if sent:
                await self.send(user)
        else:
            sent = (await self._pending.waiting(email)
                    and await self._quota.allow(email, meta.ip_address))
            link = await self._pending.renew(email) if sent else None
            if link is not None:
                await self.mail_link(link)
        if not sent:
            await self._audit.log_event("EMAIL_VERIFICATION_RESEND", None, meta.ip_address,
                                        {"matched": False})

    async def _verify_address(self, tx: AsyncSession, token: str, meta: RequestMeta) -> User:
        row = await self._tokens.consume(token, PURPOSE, meta.ip_address, session=tx)
        user = await tx.get(User, row.user_id)
        assert user is not None
        user.email_verified = True
        self._audit.record(tx, "EMAIL_VERIFIED", user_id=user.id, ip_address=meta.ip_address)
        self._db.emit(tx, user_updated, user=user, changes=["email_verified"])
        self._revocation.user_changed(tx, user.id)
        return user

    async def _create_account(self, tx: AsyncSession, held: HeldSignup, meta: RequestMeta
                              ) -> User:
        user = await self._users.create(held.email, held.username,
                                        password_hash=held.password_hash,
                                        ip_address=meta.ip_address, email_verified=True,
                                        session=tx)
        self._audit.record(tx, "USER_SIGNUP_COMPLETED", user_id=user.id,
                           ip_address=meta.ip_address)
        self._audit.record(tx, "EMAIL_VERIFIED", user_id=user.id, ip_address=meta.ip_address)
        return user

"""Changing one's email address: a link to the new address, a notice to the old one, and the
change applied only when the link is confirmed; once it is, the old address is told it was.

The request answers, and stores a pending link, the same whether or not the new address
already has an account (the link is mailed only to a free address), so it cannot be used to
find registered addresses. Confirming
re-checks the address inside the transaction that redeems the link: taken meanwhile, the
answer is AccountExists (409) and nothing changes, the link included.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from ..db.models import User
from ..db.unit_of_work import UnitOfWork
from ..emailed_links import EmailedLinks
from ..errors import AccountExists, InputError, NotFound, TokenInvalid
from ..i18n import N_, format_datetime, gettext
from ..identifiers import canonical_email, clean_email
from ..mail import Mailer
from ..mail_quota import MailQuota
from ..managers.audit import AuditManager
from ..managers.tokens import TokenManager
from ..managers.users import UserManager
from ..revocation import Revocation
from ..settings import Settings
from ..signals import user_updated
from ..throttle import Throttle, profile_key
from ..types import Clock, FieldError, RequestMeta
from .email_verification import PURPOSE as VERIFICATION
from .results import EmailChanged, EmailChangeRequested

PURPOSE = "email_change"
TAKEN = ("That email address belongs to another account now, so it cannot become yours. "
         "Nothing was changed.")


@dataclass(frozen=True, slots=True)
class PendingChange:
    new_email: str
    expires_at: float


@dataclass(frozen=True, slots=True)
class EmailChange:
    """Request a change of address (mailed link), then confirm it once."""

    _db: UnitOfWork
    _settings: Settings
    _users: UserManager
    _tokens: TokenManager
    _links: EmailedLinks
    _throttle: Throttle
    _quota: MailQuota
    _audit: AuditManager
    _mail: Mailer
    _revocation: Revocation
    _clock: Clock

    async def request(self, user_id: str, new_email: str, meta: RequestMeta
                      ) -> EmailChangeRequested:
        """Mail a confirmation link to ``new_email`` (when free) and a notice to the current
        address; an earlier pending change stops working. Needs a fresh sign-in (the web
        layer checks it). Raises InputError (invalid, not allowed, or the current address)
        and RateLimited (PROFILE_CHANGES_PER_HOUR); mails past MailQuota are not sent."""
        email = clean_email(new_email, self._settings.email_domains)
        user = await self._users.get_by_id(user_id)
        if user is None:
            raise NotFound(N_("User not found."))
        if user.email_canonical == canonical_email(email):
            raise InputError(FieldError(
                "same_email", gettext("That is already your email address."), "email"))
        await self._throttle.reserve([profile_key(user_id)])
        ttl = self._settings.tokens_expiry_seconds
        async with self._db.transaction() as tx:  # a link whether or not the address is free
            free = await self._users.get_by_email(email, tx) is None
            issued = await self._tokens.create(user_id, PURPOSE, ttl, data={"email": email},
                                               session=tx)
            self._audit.record(tx, "EMAIL_CHANGE_REQUESTED", user_id=user_id,
                               ip_address=meta.ip_address, details={"available": free})
        confirm = free and await self._quota.allow(email, meta.ip_address)
        notice = await self._quota.allow_for(user_id, user.email, meta)
        async with self._db.transaction() as tx:
            if confirm:
                await self._mail.enqueue(
                    "email_change_confirm", email, session=tx, username=user.username,
                    new_email=email, expires_minutes=ttl // 60,
                    confirm_link=self._mail.link("confirm_email_change", token=issued.raw))
            if notice:
                await self._mail.enqueue(
                    "email_change_notice", user.email, session=tx, username=user.username,
                    new_email=email, secure_url=self._mail.link("forgot_password"))
        return EmailChangeRequested(email, ttl // 60)

    async def waiting(self, user_id: str) -> PendingChange | None:
        """The change the account is waiting to have confirmed, if any."""
        row = await self._tokens.pending(user_id, PURPOSE)
        return None if row is None else PendingChange(str(row.data.get("email", "")), row.etime)

    async def pending(self, token: str) -> str:
        """The new address a link would confirm (TokenError when it cannot be redeemed)."""
        row = await self._tokens.peek(token, PURPOSE)
        return str(row.data.get("email", ""))

    async def confirm(self, token: str, meta: RequestMeta) -> EmailChanged:
        """Redeem the link once: the address becomes the account's, verified, and the old
        address gets an "email changed" notice. Outstanding reset, sign-in and verification
        links and pending MFA sign-ins stop working, and the account's sessions re-read it.
        Raises TokenError, or AccountExists (nothing changes)."""
        try:
            async with self._db.transaction() as tx:
                row = await self._tokens.consume(token, PURPOSE, meta.ip_address, session=tx)
                email = str(row.data.get("email", ""))
                user = await tx.get(User, row.user_id, populate_existing=True)
                if user is None or not user.is_active or not email:
                    raise TokenInvalid()
                canonical = canonical_email(email)
                taken = await tx.scalar(select(User.id).where(
                    User.email_canonical == canonical, User.id != user.id).limit(1))
                if taken is not None:
                    raise AccountExists(TAKEN)
                previous = user.email
                user.email, user.email_canonical, user.email_verified = email, canonical, True
                await tx.flush()
                await self._links.void(tx, user.id)
                await self._tokens.invalidate_all(user.id, VERIFICATION, session=tx)
                self._audit.record(tx, "EMAIL_CHANGED", user_id=user.id,
                                   ip_address=meta.ip_address)
                self._db.emit(tx, user_updated, user=user, changes=["email"])
                self._revocation.user_changed(tx, user.id)
                if previous and canonical_email(previous) != canonical:
                    when = format_datetime(self._clock())
                    await self._mail.enqueue("email_changed", previous, session=tx,
                                             username=user.username, new_email=email,
                                             changed_at=when, ip_address=meta.ip_address)
        except IntegrityError as exc:  # a concurrent sign-up or change took the address
            raise AccountExists(TAKEN) from exc
        return EmailChanged(user, previous)

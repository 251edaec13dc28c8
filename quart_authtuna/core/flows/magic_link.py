"""Passwordless sign-in by emailed link: request it, then confirm it once on a page."""

from __future__ import annotations

from dataclasses import dataclass

from ..db.models import User
from ..db.unit_of_work import UnitOfWork
from ..defaults import DEFAULT_ADMIN_IDS
from ..errors import TokenInvalid
from ..mail import Mailer
from ..mail_quota import MailQuota
from ..managers.audit import AuditManager
from ..managers.tokens import PASSWORDLESS_LOGIN, TokenManager
from ..managers.users import UserManager
from ..settings import Settings
from ..types import RequestMeta
from .first_factor import FirstFactor
from .results import SignInResult

PURPOSE = PASSWORDLESS_LOGIN


@dataclass(frozen=True, slots=True)
class MagicLink:
    """Email a single-use sign-in link; confirming it is a first factor."""

    _db: UnitOfWork
    _settings: Settings
    _users: UserManager
    _tokens: TokenManager
    _audit: AuditManager
    _mail: Mailer
    _quota: MailQuota
    _first_factor: FirstFactor

    async def request(self, email: str, meta: RequestMeta) -> None:
        """Email a link when the address has an active account; silent otherwise.

        The seeded default admins cannot sign in by link.
        """
        ip = meta.ip_address
        await self._quota.admit_request(ip)  # RateLimited for this requester only
        user = await self._users.get_by_email(email)
        if user is None or not user.is_active or user.id in DEFAULT_ADMIN_IDS:
            await self._audit.log_event("PASSWORDLESS_LOGIN_REQUESTED", None, ip,
                                        {"matched": False})
            return
        ttl = self._settings.tokens_expiry_seconds
        if not await self._quota.allow_for(user.id, user.email, meta):
            await self._audit.log_event("PASSWORDLESS_LOGIN_RATE_LIMITED", user.id, ip)
            return
        async with self._db.transaction() as tx:  # the token, its audit row and its mail
            issued = await self._tokens.create(user.id, PURPOSE, ttl, session=tx)
            self._audit.record(tx, "PASSWORDLESS_LOGIN_REQUESTED", user_id=user.id,
                               ip_address=ip, details={"matched": True})
            await self._mail.enqueue(
                "passwordless_login", user.email, session=tx, username=user.username,
                login_link=self._mail.link("passwordless_login", token=issued.raw),
                expires_minutes=ttl // 60)

    async def confirm(self, token: str, meta: RequestMeta) -> SignInResult:
        """Consume the link (it also proves the address), then finish like any first factor."""
        async with self._db.transaction() as tx:
            row = await self._tokens.consume(token, PURPOSE, meta.ip_address, session=tx)
            user = await tx.get(User, row.user_id)
            if user is None or not user.is_active or user.id in DEFAULT_ADMIN_IDS:
                raise TokenInvalid()
            user.email_verified = True
            self._audit.record(tx, "PASSWORDLESS_LOGIN_SUCCESS", user_id=user.id,
                               ip_address=meta.ip_address)
        return await self._first_factor.finished(user, meta, "magic_link")

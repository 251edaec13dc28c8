"""Sign-up that never reveals whether an email already has an account."""

from __future__ import annotations

from ..crypto.passwords import PasswordHasher
from ..errors import IdentifierTaken
from ..identifiers import clean_email, clean_username
from ..mail import Mailer
from ..mail_quota import MailQuota
from ..managers.audit import AuditManager
from ..managers.users import UserManager
from ..settings import Settings
from ..types import FieldError, RequestMeta
from .email_verification import EmailVerification
from .results import SignupAccepted


class Signup:
    """Create an unverified account and email a confirmation link."""

    def __init__(self, settings: Settings, users: UserManager, passwords: PasswordHasher,
                 audit: AuditManager, mail: Mailer, quota: MailQuota,
                 verification: EmailVerification) -> None:
        self._settings = settings
        self._quota = quota
        self._users = users
        self._passwords = passwords
        self._audit = audit
        self._mail = mail
        self._verification = verification

    async def __call__(self, username: str, email: str, password: str, meta: RequestMeta
                       ) -> SignupAccepted:
        """For an email that already has an account nothing is created: the owner gets a
        notice instead (capped per address and IP), and the caller sees the same result after
        the same work. A taken username is reported first, whatever the email."""
        email = clean_email(email, self._settings.email_domains)
        username = clean_username(username)
        self._passwords.policy.enforce(password, username=username, email=email)
        if await self._users.get_by_username(username) is not None:
            raise IdentifierTaken(FieldError("username_taken", "That username is taken.",
                                             "username"))
        existing = await self._users.get_by_email(email)
        if existing is not None:
            await self._passwords.hash(password)  # same cost as the path that creates one
            await self._account_exists(existing.email, existing.username, meta)
            return SignupAccepted(None)
        verified = not self._settings.require_email_verification
        try:
            user = await self._users.create(email, username, password,
                                            ip_address=meta.ip_address, email_verified=verified)
        except IdentifierTaken:  # a concurrent sign-up won: answer as if it had existed
            winner = await self._users.get_by_email(email)
            if winner is None:
                raise
            await self._account_exists(winner.email, winner.username, meta)
            return SignupAccepted(None)
        await self._audit.log_event("USER_SIGNUP_COMPLETED", user.id, meta.ip_address)
        if not verified:
            await self._verification.send(user)
        return SignupAccepted(user)

    async def _account_exists(self, email: str, username: str, meta: RequestMeta) -> None:
        if await self._quota.allow(email, meta.ip_address):
            self._mail.send_later("account_exists", email, username=username,
                                  login_url=self._mail.link("login"),
                                  reset_url=self._mail.link("forgot_password"))

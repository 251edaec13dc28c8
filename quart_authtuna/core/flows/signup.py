"""Sign-up that never reveals whether an email already has an account."""

from __future__ import annotations

from dataclasses import dataclass

from ..crypto.passwords import PasswordHasher
from ..db.unit_of_work import UnitOfWork
from ..errors import IdentifierTaken
from ..i18n import N_
from ..identifiers import clean_email, clean_username
from ..mail import Mailer
from ..mail_quota import MailQuota
from ..managers.audit import AuditManager
from ..managers.pending_signups import PendingSignups
from ..managers.users import UserManager
from ..settings import Settings
from ..types import FieldError, RequestMeta
from .email_verification import EmailVerification
from .results import SignupAccepted

_USERNAME_TAKEN = FieldError("username_taken", N_("That username is taken."), "username")


@dataclass(frozen=True, slots=True)
class Signup:
    """Hold a sign-up behind an emailed link (REQUIRE_EMAIL_VERIFICATION, the default), or
    create the account at once.

    Held, the answer and its after-effects do not depend on the address: a new one gets a
    pending sign-up and its link (nothing created or reserved until confirmed), a registered
    one a notice to its owner; both hash the password once and count one mail against the
    address's hourly cap. A taken username is refused first, whatever the email. Created at
    once, the answer is the same but whether the address was registered shows by nature.

    Without a password (passkey-first) the sign-up is always held: nothing is hashed on any
    path, and the link opens the passkey ceremony that creates the account
    (:mod:`.passkey_signup`). With verification off the link is handed back instead of mailed,
    so this browser runs the ceremony at once.
    """

    _db: UnitOfWork
    _settings: Settings
    _users: UserManager
    _pending: PendingSignups
    _passwords: PasswordHasher
    _audit: AuditManager
    _mail: Mailer
    _quota: MailQuota
    _verification: EmailVerification

    async def __call__(self, username: str, email: str, password: str | None,
                       meta: RequestMeta) -> SignupAccepted:
        """``SignupAccepted(user)`` when an account was created at once, else ``(None)``;
        ``password=None`` starts a passkey-first sign-up."""
        email = clean_email(email, self._settings.email_domains)
        username = clean_username(username)
        if password is not None:
            self._passwords.policy.enforce(password, username=username, email=email)
        async with self._db.transaction() as tx:  # one read for both identifiers
            if await self._users.get_by_username(username, tx) is not None:
                raise IdentifierTaken(_USERNAME_TAKEN)
            existing = await self._users.get_by_email(email, tx)
        # the same cost on every path
        password_hash = None if password is None else await self._passwords.hash(password)
        if existing is not None:
            await self._account_exists(existing.email, existing.username, meta, existing.id)
            return SignupAccepted(None)
        mailed = self._settings.require_email_verification
        if mailed or password_hash is None:
            mail = mailed and await self._quota.allow(email, meta.ip_address)
            async with self._db.transaction() as tx:  # the sign-up, its audit row, its mail
                link = await self._pending.hold(username, email, password_hash, session=tx)
                self._audit.record(tx, "USER_SIGNUP_PENDING", ip_address=meta.ip_address,
                                   details={"passkey": link.passkey})
                if mail:
                    await self._verification.mail_link(link, tx)
            if not mailed:
                return SignupAccepted(None, passkey_token=link.raw)
            return SignupAccepted(None)
        return await self._create(username, email, password_hash, meta)

    async def _create(self, username: str, email: str, password_hash: str, meta: RequestMeta
                      ) -> SignupAccepted:
        try:
            user = await self._users.create(email, username, password_hash=password_hash,
                                            ip_address=meta.ip_address, email_verified=True)
        except IdentifierTaken:  # a concurrent sign-up won: answer as if it had existed
            winner = await self._users.get_by_email(email)
            if winner is None:
                raise IdentifierTaken(_USERNAME_TAKEN) from None
            await self._account_exists(winner.email, winner.username, meta)
            return SignupAccepted(None)
        await self._audit.log_event("USER_SIGNUP_COMPLETED", user.id, meta.ip_address)
        return SignupAccepted(user)

    async def _account_exists(self, email: str, username: str, meta: RequestMeta,
                              user_id: str | None = None) -> None:
        """Tell the owner (audited when ``user_id`` is given), in one transaction."""
        mail = await self._quota.allow(email, meta.ip_address)
        async with self._db.transaction() as tx:
            if user_id is not None:
                self._audit.record(tx, "USER_SIGNUP_EMAIL_REGISTERED", user_id=user_id,
                                   ip_address=meta.ip_address)
            if mail:
                await self._mail.enqueue("account_exists", email, session=tx,
                                         username=username, login_url=self._mail.link("login"),
                                         reset_url=self._mail.link("forgot_password"))

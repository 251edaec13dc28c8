"""Passkey-first sign-up: an account whose only way in is a passkey (plus recovery codes).

It starts as any sign-up (:class:`.signup.Signup` with no password): a pending sign-up and an
emailed link, no account. The link opens the passkey ceremony; its success creates the
account (verified: the link proved the address), the passkey and ten recovery codes in one
transaction, and signs this browser in. Why not an unverified account bound to the passkey
at once: whoever typed an address could then hold an account on someone else's email, and
the real owner's later password reset would hand them an account with the squatter's passkey
on it (account pre-hijacking). Here the passkey is made by whoever holds the emailed link.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from ..crypto.tokens import digest
from ..db.base import new_id
from ..db.unit_of_work import UnitOfWork
from ..errors import IdentifierTaken, TokenInvalid
from ..i18n import N_
from ..mail import Mailer
from ..managers.audit import AuditManager
from ..managers.mfa import MFAManager
from ..managers.passkeys import PasskeyManager
from ..managers.pending_signups import HeldSignup, PendingSignups
from ..managers.users import UserManager
from ..settings import Settings
from ..types import RequestMeta
from .email_verification import taken_since
from .first_factor import FirstFactor
from .results import PasskeySignedUp

_NOT_PASSKEY = N_("This link is not a passkey sign-up. Please start again.")


@dataclass(frozen=True, slots=True)
class PasskeySignup:
    """Show, run and finish the ceremony of a pending passkey-first sign-up."""

    _db: UnitOfWork
    _settings: Settings
    _users: UserManager
    _pending: PendingSignups
    _passkeys: PasskeyManager
    _codes: MFAManager
    _audit: AuditManager
    _mail: Mailer
    _first_factor: FirstFactor

    async def pending(self, token: str) -> HeldSignup:
        """The live passkey-first sign-up of ``token`` (TokenInvalid / TokenExpired)."""
        held = await self._pending.peek(token)
        if held.password_hash is not None:
            raise TokenInvalid(_NOT_PASSKEY)
        return held

    async def options(self, token: str, binding: str) -> dict[str, Any]:
        """Creation options for this sign-up, bound to this browser; the account's future id
        is the passkey's user handle."""
        held = await self.pending(token)
        return await self._passkeys.signup_options(new_id(), held.email, held.username,
                                                   binding, digest(token))

    async def complete(self, token: str, credential: dict[str, Any] | str, binding: str,
                       nickname: str, meta: RequestMeta) -> PasskeySignedUp:
        """Verify the attestation, then in one transaction: take the sign-up, create the
        account with its passkey and recovery codes. Signs in; the codes are shown once.

        InvalidCredentials / TokenInvalid for a bad ceremony (the sign-up stays pending);
        UsernameTaken or AccountExists when an identifier got an account since."""
        verified, data = await self._passkeys.verify_signup(credential, binding)
        if data.get("signup") != digest(token):
            raise TokenInvalid(N_("This passkey was made for another sign-up."))
        held: HeldSignup | None = None
        try:
            async with self._db.transaction() as tx:
                held = await self._pending.take(token, tx)
                if held is None or held.password_hash is not None:
                    raise TokenInvalid(_NOT_PASSKEY)
                user = await self._users.create(
                    held.email, held.username, ip_address=meta.ip_address,
                    email_verified=True, session=tx, user_id=str(data["user_id"]))
                row = await self._passkeys.add(tx, user.id, verified, credential,
                                               nickname.strip() or "Passkey")
                codes = await self._codes.replace_codes(tx, user.id)
                for event in ("USER_SIGNUP_COMPLETED", "EMAIL_VERIFIED", "PASSKEY_ADDED"):
                    self._audit.record(tx, event, user_id=user.id, ip_address=meta.ip_address,
                                       details={"method": "passkey"})
                await self._mail.enqueue("welcome", user.email, session=tx,
                                         username=user.username,
                                         login_url=self._mail.link("login"))
        except IdentifierTaken:
            if held is None:
                raise
            raise await taken_since(self._users, held) from None
        signed_in = await self._first_factor.open_session(user, meta, "passkey")
        return PasskeySignedUp(signed_in, row.nickname, codes)

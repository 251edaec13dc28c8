"""Two-factor authentication with an authenticator app: enrol, check, regenerate, turn off.

Upstream's method names and return shapes (this object is ``AuthService.mfa``); each journey
owns its audit rows, mails and revocations, and the table work is :class:`MFAManager`'s.
"""

from __future__ import annotations

from dataclasses import dataclass

import pyotp
import segno

from ..db.unit_of_work import UnitOfWork
from ..errors import InvalidCredentials
from ..i18n import N_
from ..mail import Mailer
from ..managers.audit import AuditManager
from ..managers.mfa import MFAManager, TotpSetup
from ..managers.sessions import SessionManager
from ..revocation import Revocation
from ..settings import Settings
from ..throttle import Throttle, account_key


@dataclass(frozen=True, slots=True)
class Totp:
    """TOTP and recovery codes for one AuthService."""

    _db: UnitOfWork
    _settings: Settings
    store: MFAManager
    _sessions: SessionManager
    _throttle: Throttle
    _audit: AuditManager
    _mail: Mailer
    _revocation: Revocation

    async def setup_totp(self, user_id: str, app_name: str | None = None) -> TotpSetup:
        """Start (or restart) enrolment: a new secret, stored encrypted, not yet active."""
        async with self._db.transaction() as tx:
            user = await self.store.user(tx, user_id)
            secret = await self.store.new_secret(tx, user)
        issuer = app_name or self._settings.app_name
        uri = pyotp.TOTP(secret).provisioning_uri(name=user.email, issuer_name=issuer)
        qr = segno.make(uri, error="m").svg_data_uri(scale=5, border=2)
        return TotpSetup(secret, uri, qr)

    async def verify_and_enable_totp(self, user_id: str, verification_code: str,
                                     ip_address: str | None = None,
                                     keep_session_id: str | None = None) -> list[str]:
        """Confirm enrolment with a code; returns 10 recovery codes (shown once).

        Every other session of the user ends (``keep_session_id``, the stored id of the
        session that enrolled, stays signed in). The code check is counted like any other
        (reserved before it runs)."""
        reservation = await self._throttle.reserve([account_key("", user_id)])
        async with self._db.transaction() as tx:
            user = await self.store.user(tx, user_id)
            if not await self.store.activate(tx, user, verification_code):
                raise InvalidCredentials(N_("That code is not valid. Check your device's clock."))
            await self._throttle.release(reservation, session=tx)
            codes = await self.store.replace_codes(tx, user_id)
            ended = await self._sessions.terminate_all_for_user(
                user_id, except_session_id=keep_session_id, reason="mfa_enabled", session=tx)
            self._audit.record(tx, "MFA_ENABLED", user_id=user_id, ip_address=ip_address,
                               details={"sessions_ended": ended})
            self._revocation.user_changed(tx, user_id)
            await self._mail.enqueue("mfa_added", user.email, session=tx,
                                     username=user.username, sessions_ended=ended)
        return codes

    async def verify_code(self, user_id: str, code: str, ip_address: str | None = None) -> bool:
        """Check a TOTP code or a recovery code for an enrolled user (each usable once).

        The attempt is counted against the account before the check (RateLimited past the
        limit), so parallel guesses never exceed it; a success gives it back.
        """
        reservation = await self._throttle.reserve([account_key("", user_id)])
        async with self._db.transaction() as tx:
            used = await self.store.check(tx, user_id, code)
            event = "MFA_VALIDATION_SUCCESS" if used else "MFA_VALIDATION_FAILED"
            self._audit.record(tx, event, user_id=user_id, ip_address=ip_address)
            if used == "recovery":
                self._audit.record(tx, "MFA_RECOVERY_CODE_USED", user_id=user_id)
            if used:
                await self._throttle.release(reservation, session=tx)
        return used is not None

    async def disable_mfa(self, user_id: str, code: str, ip_address: str | None = None) -> None:
        """Turning MFA off needs a current TOTP or recovery code."""
        if not await self.verify_code(user_id, code, ip_address):
            raise InvalidCredentials(N_("That code is not valid."))
        async with self._db.transaction() as tx:
            user = await self.store.user(tx, user_id)
            await self.store.remove_all(tx, user)
            self._audit.record(tx, "MFA_DISABLED", user_id=user_id, ip_address=ip_address)
            self._revocation.user_changed(tx, user_id)
            await self._mail.enqueue("mfa_removed", user.email, session=tx,
                                     username=user.username)

    async def regenerate_recovery_codes(self, user_id: str, ip_address: str | None = None
                                        ) -> list[str]:
        """A new set of 10 codes; the old ones stop working. Callers require a fresh login."""
        async with self._db.transaction() as tx:
            await self.store.require_enrolled(tx, user_id)
            codes = await self.store.replace_codes(tx, user_id)
            self._audit.record(tx, "MFA_RECOVERY_CODES_REGENERATED", user_id=user_id,
                               ip_address=ip_address)
            user = await self.store.user(tx, user_id)
            await self._mail.enqueue("mfa_added", user.email, session=tx,
                                     username=user.username, regenerated=True)
        return codes

    async def remaining_recovery_codes(self, user_id: str) -> int:
        return await self.store.remaining_recovery_codes(user_id)

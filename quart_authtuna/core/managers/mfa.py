"""MFAManager: TOTP (secret encrypted, replay-proof, ±1 step) and single-use recovery codes."""

from __future__ import annotations

import logging
import secrets
from collections.abc import Iterator
from dataclasses import dataclass

import pyotp
import segno
from sqlalchemy import delete, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from ..crypto.fernet import Encryptor
from ..crypto.passwords import PasswordHasher
from ..crypto.tokens import equals
from ..db.models import MFAMethod, MFARecoveryCode, User
from ..db.unit_of_work import UnitOfWork
from ..errors import ConflictError, InvalidCredentials, NotFound
from ..mail import Mailer
from ..revocation import Revocation
from ..settings import Settings
from ..throttle import Throttle, account_key
from ..types import Clock
from .audit import AuditManager
from .sessions import SessionManager

STEP = 30
RECOVERY_CODES = 10
_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"  # no 0/O, 1/I
logger = logging.getLogger("quart_authtuna")


@dataclass(frozen=True, slots=True)
class TotpSetup:
    """What the setup page shows: the secret for manual entry and an inline QR (data URI).

    Unpacks like upstream's return value: ``secret, url = await svc.mfa.setup_totp(...)``.
    """

    secret: str
    provisioning_uri: str
    qr_data_uri: str

    def __iter__(self) -> Iterator[str]:
        return iter((self.secret, self.provisioning_uri))


def new_recovery_code() -> str:
    """``XXXX-XXXX-XXXX`` from a 32-letter alphabet: 60 bits."""
    raw = "".join(secrets.choice(_ALPHABET) for _ in range(12))
    return f"{raw[:4]}-{raw[4:8]}-{raw[8:]}"


def normalize_code(code: str) -> str:
    return "".join(ch for ch in code.upper() if ch.isalnum())


class MFAManager:
    """Upstream names: setup_totp, verify_and_enable_totp, verify_code, disable_mfa."""

    def __init__(
        self, db: UnitOfWork, clock: Clock, settings: Settings, audit: AuditManager,
        encryptor: Encryptor, passwords: PasswordHasher, throttle: Throttle, mail: Mailer,
        sessions: SessionManager, revocation: Revocation,
    ) -> None:
        self._db = db
        self._clock = clock
        self._settings = settings
        self._audit = audit
        self._encryptor = encryptor
        self._passwords = passwords
        self._throttle = throttle
        self._mail = mail
        self._sessions = sessions
        self._revocation = revocation

    async def setup_totp(self, user_id: str, app_name: str | None = None) -> TotpSetup:
        """Start (or restart) enrolment: a new secret, stored encrypted, not yet active."""
        async with self._db.transaction() as tx:
            user = await self._user(tx, user_id)
            if user.mfa_enabled:
                raise ConflictError("Two-factor authentication is already on.")
            secret = pyotp.random_base32(32)
            await tx.execute(delete(MFAMethod).where(MFAMethod.user_id == user_id,
                                                     MFAMethod.method_type == "totp"))
            tx.add(MFAMethod(user_id=user_id, method_type="totp", is_verified=False,
                             secret_encrypted=self._encryptor.encrypt(secret),
                             created_at=self._clock()))
        issuer = app_name or self._settings.app_name
        uri = pyotp.TOTP(secret).provisioning_uri(name=user.email, issuer_name=issuer)
        qr = segno.make(uri, error="m").svg_data_uri(scale=5, border=2)
        return TotpSetup(secret, uri, qr)

    async def verify_and_enable_totp(self, user_id: str, verification_code: str,
                                     ip_address: str | None = None,
                                     keep_session_id: str | None = None) -> list[str]:
        """Confirm enrolment with a code; returns 10 recovery codes (shown once).

        Every other session of the user ends (``keep_session_id``, the stored id of the
        session that enrolled, stays signed in)."""
        async with self._db.transaction() as tx:
            method = await self._method(tx, user_id, verified=False)
            if not await self._accept(tx, method, verification_code):
                raise InvalidCredentials("That code is not valid. Check your device's clock.")
            method.is_verified = True
            user = await self._user(tx, user_id)
            user.mfa_enabled = True
            codes = await self._replace_codes(tx, user_id)
            ended = await self._sessions.terminate_all_for_user(
                user_id, except_session_id=keep_session_id, reason="mfa_enabled", session=tx)
            self._audit.record(tx, "MFA_ENABLED", user_id=user_id, ip_address=ip_address,
                               details={"sessions_ended": ended})
            self._revocation.user_changed(tx, user_id)
        self._mail.send_later("mfa_added", user.email, username=user.username,
                              sessions_ended=ended)
        return codes

    async def verify_code(self, user_id: str, code: str, ip_address: str | None = None) -> bool:
        """Check a TOTP code or a recovery code for an enrolled user (each usable once).

        The attempt is counted against the account before the check (RateLimited past the
        limit), so parallel guesses never exceed it; a success gives it back.
        """
        reservation = await self._throttle.reserve([account_key("", user_id)])
        async with self._db.transaction() as tx:
            method = await self._method(tx, user_id, verified=True)
            ok = await self._accept(tx, method, code) or await self._use_recovery(tx, user_id,
                                                                                 code)
            event = "MFA_VALIDATION_SUCCESS" if ok else "MFA_VALIDATION_FAILED"
            self._audit.record(tx, event, user_id=user_id, ip_address=ip_address)
            if ok:
                await self._throttle.release(reservation, session=tx)
        return ok

    async def disable_mfa(self, user_id: str, code: str, ip_address: str | None = None) -> None:
        """Turning MFA off needs a current TOTP or recovery code."""
        if not await self.verify_code(user_id, code, ip_address):
            raise InvalidCredentials("That code is not valid.")
        async with self._db.transaction() as tx:
            user = await self._user(tx, user_id)
            user.mfa_enabled = False
            await tx.execute(delete(MFAMethod).where(MFAMethod.user_id == user_id))
            await tx.execute(delete(MFARecoveryCode).where(MFARecoveryCode.user_id == user_id))
            self._audit.record(tx, "MFA_DISABLED", user_id=user_id, ip_address=ip_address)
            self._revocation.user_changed(tx, user_id)
        self._mail.send_later("mfa_removed", user.email, username=user.username)

    async def regenerate_recovery_codes(self, user_id: str, ip_address: str | None = None
                                        ) -> list[str]:
        """A new set of 10 codes; the old ones stop working. Callers require a fresh login."""
        async with self._db.transaction() as tx:
            await self._method(tx, user_id, verified=True)
            codes = await self._replace_codes(tx, user_id)
            self._audit.record(tx, "MFA_RECOVERY_CODES_REGENERATED", user_id=user_id,
                                   ip_address=ip_address)
            user = await self._user(tx, user_id)
        self._mail.send_later("mfa_added", user.email, username=user.username,
                                  regenerated=True)
        return codes

    async def remaining_recovery_codes(self, user_id: str) -> int:
        async with self._db.transaction() as tx:
            rows = (await tx.scalars(select(MFARecoveryCode.id).where(
                MFARecoveryCode.user_id == user_id, MFARecoveryCode.is_used.is_(False)))).all()
        return len(rows)

    # ---- internals ---------------------------------------------------------------------

    async def _accept(self, tx: AsyncSession, method: MFAMethod, code: str) -> bool:
        """A TOTP code for step t-1, t or t+1 newer than the last used step (atomic)."""
        digits = "".join(ch for ch in code if ch.isdigit())
        if len(digits) != 6 or len(code) > 16:
            return False
        try:
            totp = pyotp.TOTP(self._encryptor.decrypt(method.secret_encrypted))
        except ValueError:  # recovery codes still work
            logger.error("Cannot decrypt the TOTP secret of user %s: its key is no longer in "
                         "AUTHTUNA_FERNET_KEYS", method.user_id)
            return False
        now_step = int(self._clock() // STEP)
        for step in (now_step - 1, now_step, now_step + 1):
            if equals(totp.at(step * STEP), digits):
                claimed = await tx.execute(update(MFAMethod).where(
                    MFAMethod.id == method.id,
                    or_(MFAMethod.last_used_step.is_(None), MFAMethod.last_used_step < step),
                ).values(last_used_step=step))
                return bool(claimed.rowcount)
        return False

    async def _use_recovery(self, tx: AsyncSession, user_id: str, code: str) -> bool:
        cleaned = normalize_code(code)
        if len(cleaned) != 12:
            return False
        used = await tx.execute(update(MFARecoveryCode).where(
            MFARecoveryCode.user_id == user_id,
            MFARecoveryCode.hashed_code == self._passwords.hmac_digest(cleaned),
            MFARecoveryCode.is_used.is_(False)).values(is_used=True, used_at=self._clock()))
        if used.rowcount:
            self._audit.record(tx, "MFA_RECOVERY_CODE_USED", user_id=user_id)
        return bool(used.rowcount)

    async def _replace_codes(self, tx: AsyncSession, user_id: str) -> list[str]:
        await tx.execute(delete(MFARecoveryCode).where(MFARecoveryCode.user_id == user_id))
        codes = [new_recovery_code() for _ in range(RECOVERY_CODES)]
        now = self._clock()
        for code in codes:
            tx.add(MFARecoveryCode(user_id=user_id, created_at=now, is_used=False,
                                   hashed_code=self._passwords.hmac_digest(
                                       normalize_code(code))))
        return codes

    async def _method(self, tx: AsyncSession, user_id: str, *, verified: bool) -> MFAMethod:
        method = await tx.scalar(select(MFAMethod).where(
            MFAMethod.user_id == user_id, MFAMethod.method_type == "totp",
            MFAMethod.is_verified.is_(verified)))
        if method is None:
            raise NotFound("No authenticator app is being set up." if not verified
                           else "Two-factor authentication is not on.")
        return method

    async def _user(self, tx: AsyncSession, user_id: str) -> User:
        user = await tx.get(User, user_id)
        if user is None:
            raise NotFound("User not found.")
        return user

"""MFAManager: the TOTP and recovery-code tables (secret encrypted, replay-proof, ±1 step).

Table work only, inside the caller's transaction; the journeys (enrol, verify, disable,
regenerate) with their audit rows, mails and revocations are :mod:`..flows.totp`.
"""

from __future__ import annotations

import logging
import secrets
from collections.abc import Iterator
from dataclasses import dataclass

import pyotp
from sqlalchemy import delete, func, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from ..crypto.fernet import Encryptor
from ..crypto.passwords import PasswordHasher
from ..crypto.tokens import equals
from ..db.models import MFAMethod, MFARecoveryCode, User
from ..db.unit_of_work import UnitOfWork, affected
from ..errors import ConflictError, NotFound
from ..types import Clock

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


@dataclass(frozen=True, slots=True)
class MFAManager:
    """The ``mfa_methods`` and ``mfa_recovery_codes`` tables."""

    _db: UnitOfWork
    _clock: Clock
    _encryptor: Encryptor
    _passwords: PasswordHasher

    async def user(self, tx: AsyncSession, user_id: str) -> User:
        user = await tx.get(User, user_id)
        if user is None:
            raise NotFound("User not found.")
        return user

    async def new_secret(self, tx: AsyncSession, user: User) -> str:
        """A new, not yet active secret, stored encrypted (replaces an unfinished one)."""
        if user.mfa_enabled:
            raise ConflictError("Two-factor authentication is already on.")
        secret = pyotp.random_base32(32)
        await tx.execute(delete(MFAMethod).where(MFAMethod.user_id == user.id,
                                                 MFAMethod.method_type == "totp"))
        tx.add(MFAMethod(user_id=user.id, method_type="totp", is_verified=False,
                         secret_encrypted=self._encryptor.encrypt(secret),
                         created_at=self._clock()))
        return secret

    async def activate(self, tx: AsyncSession, user: User, code: str) -> bool:
        """Turn the pending secret on if ``code`` matches it; False otherwise."""
        method = await self._method(tx, user.id, verified=False)
        if not await self._accept(tx, method, code):
            return False
        method.is_verified = True
        user.mfa_enabled = True
        return True

    async def check(self, tx: AsyncSession, user_id: str, code: str) -> str | None:
        """Use a TOTP code or a recovery code once: ``"totp"``, ``"recovery"`` or None."""
        method = await self._method(tx, user_id, verified=True)
        if await self._accept(tx, method, code):
            return "totp"
        return "recovery" if await self.use_recovery_code(tx, user_id, code) else None

    async def require_enrolled(self, tx: AsyncSession, user_id: str) -> None:
        """NotFound unless TOTP is on, or the account has no password (a passkey-first
        account's recovery codes back its passkeys)."""
        user = await self.user(tx, user_id)
        if user.password_hash is None and not user.mfa_enabled:
            return
        await self._method(tx, user_id, verified=True)

    async def remove_all(self, tx: AsyncSession, user: User) -> None:
        """TOTP off; the recovery codes go too, unless they back a passwordless account."""
        user.mfa_enabled = False
        await tx.execute(delete(MFAMethod).where(MFAMethod.user_id == user.id))
        if user.password_hash is not None:
            await tx.execute(delete(MFARecoveryCode).where(MFARecoveryCode.user_id == user.id))

    async def replace_codes(self, tx: AsyncSession, user_id: str) -> list[str]:
        """A new set of recovery codes (returned once, stored as HMAC); old ones stop working."""
        await tx.execute(delete(MFARecoveryCode).where(MFARecoveryCode.user_id == user_id))
        codes = [new_recovery_code() for _ in range(RECOVERY_CODES)]
        now = self._clock()
        for code in codes:
            tx.add(MFARecoveryCode(user_id=user_id, created_at=now, is_used=False,
                                   hashed_code=self._passwords.hmac_digest(normalize_code(code))))
        return codes

    async def remaining_recovery_codes(self, user_id: str) -> int:
        async with self._db.transaction() as tx:
            count = await tx.scalar(select(func.count()).select_from(MFARecoveryCode).where(
                MFARecoveryCode.user_id == user_id, MFARecoveryCode.is_used.is_(False)))
        return int(count or 0)

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
                return bool(affected(claimed))
        return False

    async def use_recovery_code(self, tx: AsyncSession, user_id: str, code: str) -> bool:
        """Use one unused recovery code of the user (atomic); False if none matches."""
        cleaned = normalize_code(code)
        if len(cleaned) != 12:
            return False
        used = await tx.execute(update(MFARecoveryCode).where(
            MFARecoveryCode.user_id == user_id,
            MFARecoveryCode.hashed_code == self._passwords.hmac_digest(cleaned),
            MFARecoveryCode.is_used.is_(False)).values(is_used=True, used_at=self._clock()))
        return bool(affected(used))

    async def _method(self, tx: AsyncSession, user_id: str, *, verified: bool) -> MFAMethod:
        method = await tx.scalar(select(MFAMethod).where(
            MFAMethod.user_id == user_id, MFAMethod.method_type == "totp",
            MFAMethod.is_verified.is_(verified)))
        if method is None:
            raise NotFound("No authenticator app is being set up." if not verified
                           else "Two-factor authentication is not on.")
        return method

"""Passkeys a signed-in user manages: add (with its notice), rename, remove.

Upstream's names (this object is ``AuthService.passkeys``); the ceremonies and the table are
:class:`PasskeyManager`'s, the journeys with their audit rows and mails are here.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import func, select

from ..db.models import PasskeyCredential, User
from ..db.unit_of_work import UnitOfWork
from ..errors import ConflictError
from ..i18n import N_
from ..mail import Mailer
from ..managers.audit import AuditManager
from ..managers.passkeys import LOGIN, PasskeyLogin, PasskeyManager

_LAST_WAY_IN = N_("This passkey is your account's only way in: set a password or add another "
                "passkey before removing it.")


@dataclass(frozen=True, slots=True)
class Passkeys:
    """Register, list, rename and remove passkeys; ceremonies pass through to the store."""

    _db: UnitOfWork
    store: PasskeyManager
    _audit: AuditManager
    _mail: Mailer

    async def registration_options(self, user: User, binding: str) -> dict[str, Any]:
        return await self.store.registration_options(user, binding)

    async def register(self, user_id: str, response: dict[str, Any] | str, binding: str,
                       nickname: str = "Passkey", ip_address: str | None = None
                       ) -> PasskeyCredential:
        """Verify the attestation, store the passkey and tell the user by email."""
        verified = await self.store.verify_registration(user_id, response, binding)
        async with self._db.transaction() as tx:
            row = await self.store.add(tx, user_id, verified, response, nickname)
            self._audit.record(tx, "PASSKEY_ADDED", user_id=user_id, ip_address=ip_address,
                               details={"nickname": row.nickname})
            user = await tx.get(User, user_id)
            if user is not None:
                await self._mail.enqueue("passkey_added", user.email, session=tx,
                                         username=user.username, nickname=row.nickname)
        return row

    async def authentication_options(self, binding: str, user_id: str | None = None,
                                     ceremony: str = LOGIN) -> dict[str, Any]:
        return await self.store.authentication_options(binding, user_id, ceremony)

    async def authenticate(self, response: dict[str, Any] | str, binding: str,
                           ceremony: str = LOGIN, expected_user_id: str | None = None,
                           ip_address: str | None = None) -> PasskeyLogin:
        return await self.store.authenticate(response, binding, ceremony, expected_user_id,
                                             ip_address)

    async def list(self, user_id: str | None) -> Sequence[PasskeyCredential]:
        return await self.store.list(user_id)

    async def rename(self, user_id: str, credential_id: bytes, nickname: str) -> None:
        async with self._db.transaction() as tx:
            await self.store.rename(tx, user_id, credential_id, nickname)
            self._audit.record(tx, "PASSKEY_RENAMED", user_id=user_id)

    async def delete(self, user_id: str, credential_id: bytes, ip_address: str | None = None
                     ) -> None:
        """Remove the passkey and tell the user by email. An account without a password
        keeps its last passkey (ConflictError): set a password or add another first."""
        async with self._db.transaction() as tx:
            user = await tx.get(User, user_id)
            if user is not None and user.password_hash is None:
                left = await tx.scalar(select(func.count()).select_from(PasskeyCredential)
                                       .where(PasskeyCredential.user_id == user_id))
                if (left or 0) <= 1:
                    raise ConflictError(_LAST_WAY_IN)
            await self.store.remove(tx, user_id, credential_id)
            self._audit.record(tx, "PASSKEY_REMOVED", user_id=user_id, ip_address=ip_address)
            if user is not None:
                await self._mail.enqueue("passkey_removed", user.email, session=tx,
                                         username=user.username)

"""The one erase path: the owner deleting their account, and an admin's GDPR erase.

Erasing, in one transaction: every session ends and every API key dies (through
:class:`~..revocation.Revocation`); the user's audit rows keep their type, time and ids but
lose addresses and details; invitations to their address go; the archive row keeps no
personal data (in PII mode its details are sealed with the user's data key) and the account
is deleted with all that hangs off it (roles, memberships, passkeys, MFA, social links);
then the data key is shredded, so any copy of the sealed email or archive is unreadable.
A goodbye notice goes to the address after commit.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

from sqlalchemy import delete, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from ..crypto.pii import SHREDDED, PiiCipher
from ..db.models import ApiKey, AuditEvent, DeletedUser, EncryptionKey, Invitation, User
from ..db.unit_of_work import UnitOfWork
from ..errors import EscalationDenied, InputError, NotFound
from ..i18n import N_, gettext
from ..identifiers import canonical_email, canonical_username
from ..mail import Mailer
from ..managers.sessions import SessionManager
from ..managers.users import UserManager
from ..revocation import Revocation
from ..types import Clock, FieldError, RequestMeta
from .results import AccountDeleted

REASON = "account_deleted"


@dataclass(frozen=True, slots=True)
class AccountDeletion:
    """:meth:`delete` (the owner, typed confirmation) and :meth:`erase` (an admin) share
    :meth:`_erase`. The caller checks that the sign-in is fresh."""

    _db: UnitOfWork
    _users: UserManager
    _sessions: SessionManager
    _revocation: Revocation
    _mail: Mailer
    _pii: PiiCipher
    _clock: Clock

    async def delete(self, user_id: str, confirmation: str, meta: RequestMeta
                     ) -> AccountDeleted:
        """``confirmation`` must be the account's username (case does not matter)."""
        user = await self._users.get_by_id(user_id)
        if user is None:
            raise NotFound(N_("User not found."))
        if canonical_username(confirmation.strip() or "-") != user.username_canonical:
            raise InputError(FieldError("confirmation_mismatch",
                                        gettext("Type your username exactly as shown to confirm."),
                                        "confirmation"))
        # The owner's own address is personal data: their deletion row keeps none.
        return await self._erase(user, user_id, RequestMeta())

    async def erase(self, actor_id: str, user_id: str, meta: RequestMeta) -> AccountDeleted:
        """An admin's erase (upstream ``POST /admin/users/{id}/erase``); the rank rules of
        :meth:`UserManager.delete` apply, and nobody erases themselves here."""
        if actor_id == user_id:
            raise EscalationDenied(N_("Delete your own account from your settings page."))
        user = await self._users.get_by_id(user_id)
        if user is None:
            raise NotFound(N_("User not found."))
        return await self._erase(user, actor_id, meta)

    async def _erase(self, user: User, actor_id: str, meta: RequestMeta) -> AccountDeleted:
        user_id, email, username = user.id, user.email, user.username
        async with self._db.transaction() as tx:
            ended = await self._sessions.terminate_all_for_user(user_id, reason=REASON,
                                                                session=tx)
            keys = list((await tx.execute(delete(ApiKey).where(ApiKey.user_id == user_id)
                                          .returning(ApiKey.id))).scalars().all())
            for key_id in keys:
                self._revocation.api_key_revoked(tx, key_id)
            await _scrub_audit(tx, user_id)
            await tx.execute(delete(Invitation).where(or_(  # invitations hold the address
                Invitation.email_canonical == canonical_email(email),
                Invitation.accepted_by_id == user_id)))
            data_key = user.email_key_id
            await self._users.delete(user_id, deleter_id=actor_id, ip_address=meta.ip_address,
                                     session=tx)
            await self._strip_archive(tx, user_id, data_key)
            if data_key is not None:
                await tx.execute(update(EncryptionKey).where(EncryptionKey.id == data_key)
                                 .values(key_ciphertext=SHREDDED, deleted_at=self._clock()))
            await self._mail.enqueue("account_deleted", email, session=tx, username=username)
        return AccountDeleted(user_id, username, ended, len(keys))

    async def _strip_archive(self, tx: AsyncSession, user_id: str, data_key: str | None
                             ) -> None:
        """The archive keeps who erased and when the account was made; in PII mode the rest
        is sealed under the data key about to be shredded, otherwise it is dropped."""
        archive = await tx.get(DeletedUser, user_id)
        if archive is None:
            return
        key = self._pii.open_key(await tx.scalar(
            select(EncryptionKey.key_ciphertext).where(EncryptionKey.id == data_key))
        ) if data_key is not None else None
        if key is not None:
            archive.data_encrypted = self._pii.seal(key, json.dumps(archive.data))
        archive.email = None
        archive.data = {"deleted_by": archive.data.get("deleted_by"),
                        "created_at": archive.data.get("created_at"),
                        "sealed": key is not None}


async def _scrub_audit(tx: AsyncSession, user_id: str) -> None:
    """Audit rows about the user keep no personal data; rows of their acts keep no address."""
    blank = {"ip_address": None, "ip_address_encrypted": None, "ip_address_hash": None}
    await tx.execute(update(AuditEvent).where(AuditEvent.user_id == user_id)
                     .values(details={}, **blank))
    await tx.execute(update(AuditEvent).where(AuditEvent.actor_id == user_id)
                     .values(**blank))

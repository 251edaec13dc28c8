"""Deleting one's own account: confirm, end every session and key, erase, say goodbye."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import delete

from ..db.models import ApiKey
from ..db.unit_of_work import UnitOfWork
from ..errors import InputError, NotFound
from ..identifiers import canonical_username
from ..mail import Mailer
from ..managers.sessions import SessionManager
from ..managers.users import UserManager
from ..revocation import Revocation
from ..types import FieldError, RequestMeta
from .results import AccountDeleted

REASON = "account_deleted"


@dataclass(frozen=True, slots=True)
class AccountDeletion:
    """The owner's side of the erase path the admin uses (:meth:`UserManager.delete`).

    The caller checks that the sign-in is fresh; this journey checks the typed confirmation.
    """

    _db: UnitOfWork
    _users: UserManager
    _sessions: SessionManager
    _revocation: Revocation
    _mail: Mailer

    async def delete(self, user_id: str, confirmation: str, meta: RequestMeta
                     ) -> AccountDeleted:
        """``confirmation`` must be the account's username (case does not matter)."""
        user = await self._users.get_by_id(user_id)
        if user is None:
            raise NotFound("User not found.")
        if canonical_username(confirmation.strip() or "-") != user.username_canonical:
            raise InputError(FieldError("confirmation_mismatch",
                                        "Type your username exactly as shown to confirm.",
                                        "confirmation"))
        async with self._db.transaction() as tx:
            ended = await self._sessions.terminate_all_for_user(user_id, reason=REASON,
                                                                session=tx)
            keys = list((await tx.execute(delete(ApiKey).where(ApiKey.user_id == user_id)
                                          .returning(ApiKey.id))).scalars().all())
            for key_id in keys:
                self._revocation.api_key_revoked(tx, key_id)
            await self._users.delete(user_id, deleter_id=user_id, ip_address=meta.ip_address,
                                     session=tx)
            await self._mail.enqueue("account_deleted", user.email, session=tx,
                                     username=user.username)
        return AccountDeleted(user_id, user.username, ended, len(keys))

"""Changing one's username: the sign-up rules, throttled per account, audited."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from ..db.models import User
from ..db.unit_of_work import UnitOfWork
from ..errors import InputError, NotFound, UsernameTaken
from ..i18n import N_, gettext
from ..identifiers import canonical_username, clean_username
from ..managers.audit import AuditManager
from ..revocation import Revocation
from ..signals import user_updated
from ..throttle import Throttle, profile_key
from ..types import FieldError, RequestMeta
from .results import UsernameChanged

TAKEN = "That username is taken."


@dataclass(frozen=True, slots=True)
class Profile:
    """The signed-in user's own profile fields."""

    _db: UnitOfWork
    _throttle: Throttle
    _audit: AuditManager
    _revocation: Revocation

    async def change_username(self, user_id: str, username: str, meta: RequestMeta
                              ) -> UsernameChanged:
        """Rename the account (a new capitalisation of the same name too).

        Raises InputError for a name sign-up would refuse (length, characters, mixed or
        confusable scripts) or the current one; RateLimited past PROFILE_CHANGES_PER_HOUR
        attempts (taken names count, so the limit also caps probing); UsernameTaken (409)."""
        name = clean_username(username)
        canonical = canonical_username(name)
        await self._throttle.reserve([profile_key(user_id)])
        try:
            async with self._db.transaction() as tx:
                user = await tx.get(User, user_id)
                if user is None:
                    raise NotFound(N_("User not found."))
                if user.username == name:
                    raise InputError(FieldError("same_username", gettext("That is already your "
                                                "username."), "username"))
                taken = await tx.scalar(select(User.id).where(
                    User.username_canonical == canonical, User.id != user_id).limit(1))
                if taken is not None:
                    raise UsernameTaken(TAKEN)
                previous = user.username
                user.username, user.username_canonical = name, canonical
                await tx.flush()
                self._audit.record(tx, "USERNAME_CHANGED", user_id=user_id,
                                   ip_address=meta.ip_address,
                                   details={"from": previous, "to": name})
                self._db.emit(tx, user_updated, user=user, changes=["username"])
                self._revocation.user_changed(tx, user_id)
        except IntegrityError as exc:  # a concurrent rename or sign-up took it
            raise UsernameTaken(TAKEN) from exc
        return UsernameChanged(user, previous)

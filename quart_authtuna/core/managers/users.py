"""UserManager: create, look up, update, suspend and delete accounts."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import func, or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from ..crypto.passwords import PasswordHasher
from ..db.models import DeletedUser, Role, User, UserRole
from ..db.unit_of_work import UnitOfWork
from ..emailed_links import EmailedLinks
from ..errors import EscalationDenied, IdentifierTaken, InputError, NotFound
from ..identifiers import (
    canonical_email,
    canonical_username,
    clean_email,
    clean_username,
    looks_like_email,
)
from ..rbac import assignment
from ..rbac.checker import RbacChecker
from ..revocation import Revocation
from ..settings import Settings
from ..signals import user_created, user_deleted, user_suspended, user_unsuspended, user_updated
from ..types import SYSTEM_ACTOR, Clock, FieldError
from .audit import AuditManager
from .sessions import SessionManager

#: Fields a user (or an admin) may change through ``update``; anything else is refused.
UPDATABLE_FIELDS = frozenset({"username", "email", "first_name", "last_name"})
_TAKEN = "That username or email address cannot be used."


@dataclass(frozen=True, slots=True)
class UserManager:
    """Upstream ``UserManager`` names: create, get_by_id, get_by_email, update, suspend_user,
    unsuspend_user, delete, list."""

    _db: UnitOfWork
    _clock: Clock
    _settings: Settings
    _audit: AuditManager
    _passwords: PasswordHasher
    _rbac: RbacChecker
    _sessions: SessionManager
    _revocation: Revocation
    #: A changed address voids the user's outstanding emailed links (they went to the old one).
    _links: EmailedLinks

    async def create(
        self,
        email: str,
        username: str,
        password: str | None = None,
        *,
        password_hash: str | None = None,
        ip_address: str | None = None,
        is_active: bool = True,
        email_verified: bool = False,
        first_name: str | None = None,
        last_name: str | None = None,
        session: AsyncSession | None = None,
        user_id: str | None = None,
    ) -> User:
        """Create an account holding ``User`` in ``global``; the password must meet policy.

        ``password_hash`` instead of ``password``: a hash made earlier (a confirmed sign-up);
        neither: an account without a password (passkey-first). ``user_id``: an id chosen
        earlier (a passkey's user handle), else a new one.
        """
        settings = self._settings
        email = clean_email(email, settings.email_domains)
        username = clean_username(username)
        if password is not None:
            if password_hash is not None:
                raise ValueError("give a password or its hash, not both")
            self._passwords.policy.enforce(password, username=username, email=email)
            password_hash = await self._passwords.hash(password)
        now = self._clock()
        user = User(
            **({"id": user_id} if user_id else {}),
            username=username, username_canonical=canonical_username(username), email=email,
            email_canonical=canonical_email(email), password_hash=password_hash,
            is_active=is_active, email_verified=email_verified, first_name=first_name,
            last_name=last_name, created_at=now,
            password_changed_at=now if password_hash else None,
        )
        try:
            async with self._db.transaction(session) as tx:
                await self._ensure_free(tx, user.username_canonical, user.email_canonical)
                tx.add(user)
                await tx.flush()
                role_id = await tx.scalar(select(Role.id).where(Role.name == "User"))
                if role_id is not None:
                    tx.add(UserRole(user_id=user.id, role_id=role_id, scope="global",
                                    given_by_id=SYSTEM_ACTOR, given_at=now))
                self._audit.record(tx, "USER_CREATED", user_id=user.id, ip_address=ip_address)
                self._db.emit(tx, user_created, user=user)
        except IntegrityError as exc:  # a concurrent sign-up won the race
            raise IdentifierTaken(FieldError("identifier_taken", _TAKEN)) from exc
        return user

    async def get_by_id(self, user_id: str, session: AsyncSession | None = None) -> User | None:
        async with self._db.transaction(session) as tx:
            return await tx.get(User, user_id)

    async def get_by_email(self, email: str, session: AsyncSession | None = None) -> User | None:
        """Match on the canonical form, so case and compatibility variants find the account."""
        async with self._db.transaction(session) as tx:
            return await tx.scalar(select(User).where(
                User.email_canonical == canonical_email(email)))

    async def get_by_username(
        self, username: str, session: AsyncSession | None = None
    ) -> User | None:
        async with self._db.transaction(session) as tx:
            return await tx.scalar(select(User).where(
                User.username_canonical == canonical_username(username)))

    async def get_by_identifier(
        self, username_or_email: str, session: AsyncSession | None = None
    ) -> User | None:
        """An identifier with ``@`` is an email, otherwise a username: never both."""
        if looks_like_email(username_or_email):
            return await self.get_by_email(username_or_email, session)
        return await self.get_by_username(username_or_email, session)

    async def update(
        self,
        user_id: str,
        data: dict[str, Any],
        actor_id: str | None = None,
        ip_address: str | None = None,
    ) -> User:
        """Change profile fields; an actor other than the user must outrank them."""
        unknown = set(data) - UPDATABLE_FIELDS
        if unknown:
            raise InputError([FieldError("not_updatable", f"{name} cannot be changed here.",
                                              name) for name in sorted(unknown)])
        changes = dict(data)
        if "username" in changes:
            changes["username"] = clean_username(changes["username"])
            changes["username_canonical"] = canonical_username(changes["username"])
        if "email" in changes:
            changes["email"] = clean_email(changes["email"], self._settings.email_domains)
            changes["email_canonical"] = canonical_email(changes["email"])
            changes["email_verified"] = False
        try:
            async with self._db.transaction() as tx:
                user = await self._load(tx, user_id)
                if actor_id not in (None, user_id):
                    await self._authorize_on(tx, actor_id, user_id)
                await self._ensure_free(tx, changes.get("username_canonical"),
                                        changes.get("email_canonical"), exclude=user_id)
                for key, value in changes.items():
                    setattr(user, key, value)
                if "email" in changes:
                    await self._links.void(tx, user_id)
                self._audit.record(tx, "USER_UPDATED", user_id=user_id, actor_id=actor_id,
                                       ip_address=ip_address, details={"fields": sorted(data)})
                self._db.emit(tx, user_updated, user=user, changes=sorted(data))
                self._revocation.user_changed(tx, user_id)
        except IntegrityError as exc:
            raise IdentifierTaken(FieldError("identifier_taken", _TAKEN)) from exc
        return user

    async def suspend_user(self, user_id: str, admin_id: str, reason: str = "", *,
                           ip_address: str | None = None) -> User:
        """Deactivate the account and end all of its sessions in the same transaction."""
        return await self._set_active(user_id, admin_id, reason, active=False, ip=ip_address)

    async def unsuspend_user(self, user_id: str, admin_id: str, reason: str = "", *,
                             ip_address: str | None = None) -> User:
        return await self._set_active(user_id, admin_id, reason, active=True, ip=ip_address)

    async def delete(self, user_id: str, deleter_id: str = SYSTEM_ACTOR,
                     ip_address: str | None = None, session: AsyncSession | None = None
                     ) -> None:
        """Archive (without credentials) and delete; audit rows survive with user_id NULL."""
        async with self._db.transaction(session) as tx:
            user = await self._load(tx, user_id)
            if deleter_id != user_id:
                await self._authorize_on(tx, deleter_id, user_id)
            tx.add(DeletedUser(
                user_id=user.id, email=None if self._settings.pii_encryption_enabled
                else user.email, initiated_at=self._clock(),
                data={"username": user.username, "created_at": user.created_at,
                      "email_verified": user.email_verified, "deleted_by": deleter_id}))
            self._audit.record(tx, "USER_DELETED", user_id=user_id, actor_id=deleter_id,
                                   ip_address=ip_address, details={"user_id": user_id})
            await tx.flush()
            await tx.delete(user)
            self._db.emit(tx, user_deleted, user_id=user_id, actor_id=deleter_id)
            self._revocation.user_changed(tx, user_id)

    async def list(self, skip: int = 0, limit: int = 50, search: str | None = None
                   ) -> Sequence[User]:
        """Users ordered by creation, optionally filtered by a username/email fragment."""
        stmt = select(User).order_by(User.created_at, User.id).offset(skip).limit(min(limit, 500))
        if search:
            needle = f"%{canonical_email(search)}%"
            stmt = stmt.where(or_(User.username_canonical.like(needle),
                                  User.email_canonical.like(needle)))
        async with self._db.transaction() as tx:
            return (await tx.scalars(stmt)).all()

    async def count(self) -> int:
        async with self._db.transaction() as tx:
            return int(await tx.scalar(select(func.count()).select_from(User)) or 0)

    # ---- internals ---------------------------------------------------------------------

    async def _set_active(self, user_id: str, admin_id: str, reason: str, *, active: bool,
                          ip: str | None = None) -> User:
        async with self._db.transaction() as tx:
            user = await self._load(tx, user_id)
            await self._authorize_on(tx, admin_id, user_id)
            user.is_active = active
            event = "USER_UNSUSPENDED" if active else "USER_SUSPENDED"
            self._audit.record(tx, event, user_id=user_id, actor_id=admin_id, ip_address=ip,
                                   details={"reason": reason[:500]})
            if not active:
                await self._sessions.terminate_all_for_user(
                    user_id, reason="suspended", session=tx, actor_id=admin_id, ip_address=ip)
            signal = user_unsuspended if active else user_suspended
            self._db.emit(tx, signal, user=user, actor_id=admin_id, reason=reason)
            self._revocation.user_changed(tx, user_id)
        return user

    async def _authorize_on(self, tx: AsyncSession, actor_id: str | None, user_id: str) -> None:
        """Nobody acts on a user at or above their own level (``system`` excepted)."""
        if actor_id == SYSTEM_ACTOR:
            return
        if actor_id is None:
            raise EscalationDenied("An actor is required.")
        actor = await self._rbac.grants_for(actor_id, tx, fresh=True)
        target = await self._rbac.grants_for(user_id, tx, fresh=True)
        if not assignment.can_manage_user(actor, target):
            raise EscalationDenied("You may not act on this user.")

    async def _load(self, tx: AsyncSession, user_id: str) -> User:
        user = await tx.get(User, user_id)
        if user is None:
            raise NotFound("User not found.")
        return user

    async def _ensure_free(self, tx: AsyncSession, username_canonical: str | None,
                           email_canonical: str | None, exclude: str | None = None) -> None:
        conditions = []
        if username_canonical:
            conditions.append(User.username_canonical == username_canonical)
        if email_canonical:
            conditions.append(User.email_canonical == email_canonical)
        if not conditions:
            return
        stmt = select(User.id).where(or_(*conditions))
        if exclude:
            stmt = stmt.where(User.id != exclude)
        if (await tx.scalar(stmt.limit(1))) is not None:
            raise IdentifierTaken(FieldError("identifier_taken", _TAKEN))

"""Read-only queries behind the admin pages: user search (keyset) and one user's record.

Every read costs a fixed number of statements whatever the page size (no N+1): a search is
one statement for the page and one for the roles of the users on it; a user's record is one
statement per table family. Pages are found by keyset (``WHERE (key, id) > cursor``), never
by OFFSET (a row comparison an index on ``(key, id)`` answers), so page 1,000 costs what
page 1 does; ``skip`` is kept for upstream's callers.
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Final, Literal

from sqlalchemy import ColumnElement, exists, literal, or_, select, tuple_
from sqlalchemy.orm import InstrumentedAttribute

from .db.models import ApiKey, AuditEvent, Role, User, UserRole, UserSession
from .db.unit_of_work import UnitOfWork
from .errors import InputError, NotFound
from .identifiers import canonical_email
from .rbac.scopes import validate_scope
from .types import Clock, FieldError

Sort = Literal["newest", "oldest", "username", "-username", "email"]
#: sort → (column, descending)
SORTS: Final[dict[str, tuple[InstrumentedAttribute[Any], bool]]] = {
    "newest": (User.created_at, True),
    "oldest": (User.created_at, False),
    "username": (User.username_canonical, False),
    "-username": (User.username_canonical, True),
    "email": (User.email_canonical, False),
}
MAX_LIMIT: Final = 100


@dataclass(frozen=True, slots=True)
class UserQuery:
    """What an admin searches for; every field is optional.

    ``q`` matches the start of the username or email (case-insensitive); ``role`` with
    ``scope`` matches holders of the role there (any scope without one); ``mfa`` is two-factor.
    """

    q: str = ""
    role: str | None = None
    scope: str | None = None
    is_active: bool | None = None
    verified: bool | None = None
    mfa: bool | None = None
    sort: str = "newest"
    limit: int = 25
    cursor: str | None = None
    skip: int = 0


@dataclass(frozen=True, slots=True)
class UserRow:
    """A user on a result page, with the (role, scope) pairs held."""

    user: User
    roles: tuple[tuple[str, str], ...]


@dataclass(frozen=True, slots=True)
class UserPage:
    rows: list[UserRow]
    #: Pass as ``cursor`` for the next page; None on the last page.
    next_cursor: str | None


@dataclass(frozen=True, slots=True)
class HeldRole:
    name: str
    scope: str
    level: int | None
    given_by: str
    given_at: float


@dataclass(frozen=True, slots=True)
class UserRecord:
    """Everything the user detail page shows (five statements, one transaction)."""

    user: User
    roles: list[HeldRole]
    sessions: Sequence[UserSession]
    api_keys: Sequence[ApiKey]
    recent_events: Sequence[AuditEvent] = field(default_factory=list)

    @property
    def max_level(self) -> int | None:
        levels = [r.level for r in self.roles if r.level is not None]
        return max(levels) if levels else None


def _bad(message: str, param: str) -> InputError:
    return InputError([FieldError("invalid", message, param)])


def encode_cursor(sort: str, key: Any, user_id: str) -> str:
    raw = json.dumps([sort, key, user_id], separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(cursor: str, sort: str) -> tuple[Any, str]:
    """The (key, id) after which the next page starts; InputError for a forged cursor."""
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        kind, key, user_id = json.loads(raw)
    except (binascii.Error, ValueError, TypeError):
        raise _bad("That page link is not valid; start again.", "cursor") from None
    if kind != sort or not isinstance(user_id, str) or not isinstance(key, str | int | float):
        raise _bad("That page link is not valid; start again.", "cursor")
    return key, user_id


def _prefix(value: str) -> str:
    escaped = value.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"{escaped}%"


@dataclass(frozen=True, slots=True)
class AdminQueries:
    """The admin area's reads (writes go through :mod:`.flows.admin_users`)."""

    _db: UnitOfWork
    _clock: Clock

    async def search_users(self, query: UserQuery) -> UserPage:
        """One page of users matching ``query`` and the roles each holds (two statements)."""
        if query.sort not in SORTS:
            raise _bad(f"Sort by one of: {', '.join(SORTS)}.", "sort")
        column, descending = SORTS[query.sort]
        limit = max(1, min(query.limit, MAX_LIMIT))
        stmt = select(User).where(*self._filters(query))
        if query.cursor:
            key, after = decode_cursor(query.cursor, query.sort)
            position, bound = tuple_(column, User.id), tuple_(literal(key), literal(after))
            stmt = stmt.where(position < bound if descending else position > bound)
        elif query.skip > 0:
            stmt = stmt.offset(query.skip)  # upstream compatibility only; prefer the cursor
        order = (column.desc(), User.id.desc()) if descending else (column.asc(), User.id.asc())
        stmt = stmt.order_by(*order).limit(limit + 1)
        async with self._db.transaction() as tx:
            users = list((await tx.scalars(stmt)).all())
            more = len(users) > limit
            users = users[:limit]
            held = (await tx.execute(
                select(UserRole.user_id, Role.name, UserRole.scope)
                .join(Role, Role.id == UserRole.role_id)
                .where(UserRole.user_id.in_([u.id for u in users]))
                .order_by(Role.name, UserRole.scope))).all() if users else []
        roles: dict[str, list[tuple[str, str]]] = {}
        for user_id, name, scope in held:
            roles.setdefault(user_id, []).append((name, scope))
        rows = [UserRow(u, tuple(roles.get(u.id, ()))) for u in users]
        last = users[-1] if users else None
        cursor = (encode_cursor(query.sort, getattr(last, column.key), last.id)
                  if more and last is not None else None)
        return UserPage(rows, cursor)

    def _filters(self, query: UserQuery) -> list[ColumnElement[bool]]:
        where: list[ColumnElement[bool]] = []
        needle = query.q.strip()
        if needle:
            pattern = _prefix(canonical_email(needle))
            # In PII mode the email column holds a keyed HMAC: the prefix finds no email
            # there, the exact address still does (the column type HMACs both).
            where.append(or_(User.username_canonical.like(pattern, escape="\\"),
                             User.email_canonical.like(pattern, escape="\\"),
                             User.email_canonical == canonical_email(needle)))
        if query.role:
            held = (select(UserRole.user_id).join(Role, Role.id == UserRole.role_id)
                    .where(UserRole.user_id == User.id, Role.name == query.role))
            if query.scope:
                try:
                    held = held.where(UserRole.scope == validate_scope(query.scope))
                except ValueError as exc:
                    raise _bad(str(exc), "scope") from None
            where.append(exists(held))
        for flag, column in ((query.is_active, User.is_active),
                             (query.verified, User.email_verified),
                             (query.mfa, User.mfa_enabled)):
            if flag is not None:
                where.append(column.is_(flag))
        return where

    async def user_record(self, user_id: str, events: int = 10) -> UserRecord:
        """The user, roles with levels, live sessions, API keys and latest audit events."""
        now = self._clock()
        async with self._db.transaction() as tx:
            user = await tx.get(User, user_id)
            if user is None:
                raise NotFound("User not found.")
            roles = [HeldRole(*row) for row in (await tx.execute(
                select(Role.name, UserRole.scope, Role.level, UserRole.given_by_id,
                       UserRole.given_at)
                .join(Role, Role.id == UserRole.role_id)
                .where(UserRole.user_id == user_id)
                .order_by(Role.level.desc(), Role.name, UserRole.scope))).all()]
            sessions = (await tx.scalars(select(UserSession).where(
                UserSession.user_id == user_id, UserSession.active.is_(True),
                UserSession.etime > now, UserSession.e_abs_time > now)
                .order_by(UserSession.mtime.desc()))).all()
            keys = (await tx.scalars(select(ApiKey).where(ApiKey.user_id == user_id)
                                     .order_by(ApiKey.created_at.desc(), ApiKey.id))).all()
            recent = (await tx.scalars(select(AuditEvent).where(AuditEvent.user_id == user_id)
                                       .order_by(AuditEvent.timestamp.desc(),
                                                 AuditEvent.id.desc()).limit(events))).all()
        return UserRecord(user, roles, sessions, keys, recent)

    async def user_events(self, user_id: str, skip: int = 0, limit: int = 50
                          ) -> Sequence[AuditEvent]:
        """The user's audit events, newest first (upstream's skip/limit)."""
        async with self._db.transaction() as tx:
            if await tx.get(User, user_id) is None:
                raise NotFound("User not found.")
            return (await tx.scalars(
                select(AuditEvent).where(AuditEvent.user_id == user_id)
                .order_by(AuditEvent.timestamp.desc(), AuditEvent.id.desc())
                .offset(max(skip, 0)).limit(max(1, min(limit, 500))))).all()

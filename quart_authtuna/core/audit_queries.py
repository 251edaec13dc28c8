"""Read-only queries behind the admin audit log: filters, keyset pages both ways, exports.

A page costs a fixed number of statements whatever its size or depth: one to resolve the
``user`` filter (only when given), one for the rows, and one for the usernames of every user
and actor on the page. Pages are found by keyset on ``(timestamp, id)``, newest first, never
by OFFSET; a cursor says which way it reads, so Previous costs what Next does. Exports read
the same pages in batches, so memory stays flat whatever the log's size; starting one is the
only write here (an ``AUDIT_LOG_EXPORTED`` row with the admin, the address and the filters).
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import AsyncIterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Final, Literal

from sqlalchemy import ColumnElement, Float, Integer, bindparam, or_, select, tuple_
from sqlalchemy.ext.asyncio import AsyncSession

from .crypto.tokens import keyed_digest
from .db.models import AuditEvent, User
from .db.unit_of_work import UnitOfWork
from .errors import InputError
from .i18n import N_
from .identifiers import canonical_email, canonical_username
from .managers.audit import AuditManager
from .settings import Settings
from .types import Clock, FieldError, RequestMeta

Direction = Literal["older", "newer"]

#: The event types this library (and upstream) writes; the filter also takes any other.
KNOWN_EVENT_TYPES: Final = (
    "API_KEY_CREATED", "API_KEY_DELETED", "AUDIT_LOG_EXPORTED", "DEFAULTS_PROVISIONED",
    "EMAIL_CHANGED",
    "EMAIL_CHANGE_REQUESTED", "EMAIL_VERIFICATION_RESEND", "EMAIL_VERIFICATION_SENT",
    "EMAIL_VERIFIED", "LOGIN_FAILED", "LOGIN_SUCCESS", "MFA_DISABLED", "MFA_ENABLED",
    "MFA_RECOVERY_CODES_REGENERATED", "MFA_RECOVERY_CODE_USED", "MFA_VALIDATION_FAILED",
    "MFA_VALIDATION_SUCCESS", "PASSKEY_ADDED", "PASSKEY_CLONE_SUSPECTED", "PASSKEY_LOGIN",
    "PASSKEY_REMOVED", "PASSKEY_RENAMED", "PASSWORDLESS_LOGIN_RATE_LIMITED",
    "PASSWORDLESS_LOGIN_REQUESTED", "PASSWORDLESS_LOGIN_SUCCESS", "PASSWORD_CHANGED",
    "PASSWORD_CHANGE_FAILED", "PASSWORD_REHASHED", "PASSWORD_RESET_COMPLETED",
    "PASSWORD_RESET_RATE_LIMITED", "PASSWORD_RESET_REQUESTED", "PASSWORD_RESET_SENT_BY_ADMIN",
    "PERMISSION_CREATED", "REAUTHENTICATED", "REAUTHENTICATION_FAILED", "ROLE_ASSIGNED",
    "ROLE_CREATED", "ROLE_DELETED", "ROLE_GRANT_ADDED", "ROLE_PERMISSION_ADDED",
    "ROLE_PERMISSION_REMOVED", "ROLE_REMOVED", "SESSIONS_TERMINATED_ALL", "SESSION_CREATED",
    "SESSION_INVALIDATED", "SESSION_IP_UPDATED", "SESSION_TERMINATED", "TOKEN_USED",
    "USERNAME_CHANGED", "USER_CREATED", "USER_DELETED", "USER_SIGNUP_COMPLETED",
    "USER_SIGNUP_EMAIL_REGISTERED", "USER_SIGNUP_PENDING", "USER_SUSPENDED",
    "USER_UNSUSPENDED", "USER_UPDATED",
)
MAX_LIMIT: Final = 200
EXPORT_BATCH: Final = 1000
_BAD_CURSOR: Final = "That page link is not valid; start again from the first page."


@dataclass(frozen=True, slots=True)
class AuditQuery:
    """What an admin looks for; every field is optional.

    ``user`` is a user's id, username or email (``user_id`` only that id); ``ip`` an exact
    address; ``date_from`` and ``date_to`` are ``YYYY-MM-DD`` days in UTC, both included.
    """

    event_type: str = ""
    user: str = ""
    user_id: str | None = None
    ip: str = ""
    date_from: str = ""
    date_to: str = ""
    limit: int = 50
    cursor: str | None = None


@dataclass(frozen=True, slots=True)
class AuditPage:
    """Events newest first, the usernames of the users and actors on them, and the cursors."""

    rows: Sequence[AuditEvent]
    #: user id → username, for every user and actor on the page who still exists.
    names: Mapping[str, str] = field(default_factory=dict)
    #: Older events (the Next link); None on the last page.
    next_cursor: str | None = None
    #: Newer events (the Previous link); None on the first page.
    prev_cursor: str | None = None


def _bad(message: str, param: str) -> InputError:
    return InputError([FieldError("invalid", message, param)])


def encode_cursor(direction: Direction, event: AuditEvent) -> str:
    """A page link reading ``direction`` from ``event`` (which it excludes)."""
    raw = json.dumps(["audit", direction, event.timestamp, event.id], separators=(",", ":"))
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


def decode_cursor(cursor: str) -> tuple[Direction, float, int]:
    """(direction, timestamp, id) of a page link; InputError for a forged one."""
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        kind, direction, at, event_id = json.loads(raw)
    except (binascii.Error, ValueError, TypeError):
        raise _bad(_BAD_CURSOR, "cursor") from None
    if (kind != "audit" or direction not in ("older", "newer")
            or not isinstance(at, int | float) or isinstance(at, bool)
            or not isinstance(event_id, int) or isinstance(event_id, bool)):
        raise _bad(_BAD_CURSOR, "cursor")
    return direction, float(at), event_id


def _day(value: str, param: str) -> date | None:
    value = value.strip()
    if not value:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise _bad(N_("Give a date as YYYY-MM-DD."), param) from None


def _epoch(day: date) -> float:
    return datetime(day.year, day.month, day.day, tzinfo=UTC).timestamp()


@dataclass(frozen=True, slots=True)
class AuditQueries:
    """The audit log's reads (rows are written by :class:`.managers.audit.AuditManager`)."""

    _db: UnitOfWork
    _clock: Clock
    _settings: Settings
    _audit: AuditManager

    async def page(self, query: AuditQuery) -> AuditPage:
        """One page of events matching ``query`` (at most three statements)."""
        limit = max(1, min(query.limit, MAX_LIMIT))
        direction: Direction = "older"
        key: tuple[float, int] | None = None
        if query.cursor:
            direction, at, event_id = decode_cursor(query.cursor)
            key = (at, event_id)
        where = self._static_filters(query)
        async with self._db.transaction() as tx:
            if query.user.strip():
                where.append(AuditEvent.user_id.in_(await self._user_ids(tx, query.user)))
            rows, names = await self._read(tx, where, direction, key, limit + 1)
        more = len(rows) > limit
        if direction == "older":
            rows = rows[:limit]
            older = encode_cursor("older", rows[-1]) if more else None
            newer = encode_cursor("newer", rows[0]) if key and rows else None
        else:
            rows = rows[-limit:] if more else rows
            newer = encode_cursor("newer", rows[0]) if more else None
            older = encode_cursor("older", rows[-1]) if rows else None
        return AuditPage(rows, names, older, newer)

    async def names(self, events: Sequence[AuditEvent]) -> dict[str, str]:
        """user id → username for the users and actors of ``events`` (one statement)."""
        async with self._db.transaction() as tx:
            return await usernames(tx, events)

    async def export(self, query: AuditQuery, actor_id: str, meta: RequestMeta, kind: str,
                     batch: int = EXPORT_BATCH) -> AsyncIterator[AuditPage]:
        """Every event matching ``query`` (its cursor ignored), newest first, in batches.

        The filters are checked (a bad one raises here, before anything is sent), the user
        resolved and the export recorded, in one transaction; each batch is then its own
        short read (two statements).
        """
        where = self._static_filters(query)
        async with self._db.transaction() as tx:
            if query.user.strip():
                where.append(AuditEvent.user_id.in_(await self._user_ids(tx, query.user)))
            filters = {name: value for name in ("event_type", "user", "ip", "date_from",
                                                "date_to") if (value := getattr(query, name))}
            self._audit.record(tx, "AUDIT_LOG_EXPORTED", actor_id=actor_id,
                               ip_address=meta.ip_address,
                               details={"format": kind, "filters": filters})
        return self._batches(where, max(1, batch))

    async def _batches(self, where: list[ColumnElement[bool]], batch: int
                       ) -> AsyncIterator[AuditPage]:
        key: tuple[float, int] | None = None
        while True:
            async with self._db.transaction() as tx:
                rows, names = await self._read(tx, where, "older", key, batch)
            if rows:
                yield AuditPage(rows, names)
            if len(rows) < batch:
                return
            key = (rows[-1].timestamp, rows[-1].id)

    def _static_filters(self, query: AuditQuery) -> list[ColumnElement[bool]]:
        where: list[ColumnElement[bool]] = []
        if query.user_id is not None:
            where.append(AuditEvent.user_id == query.user_id)
        if query.event_type.strip():
            where.append(AuditEvent.event_type == query.event_type.strip()[:100])
        ip = query.ip.strip()[:45]
        if ip:
            pepper = self._settings.password_pepper
            digest = keyed_digest(pepper.reveal().encode(), ip) if pepper else None
            where.append(or_(AuditEvent.ip_address == ip, AuditEvent.ip_address_hash == digest)
                         if digest else AuditEvent.ip_address == ip)
        start, end = _day(query.date_from, "date_from"), _day(query.date_to, "date_to")
        if start and end and end < start:
            raise _bad(N_("The end date is before the start date."), "date_to")
        if start:
            where.append(AuditEvent.timestamp >= _epoch(start))
        if end:
            where.append(AuditEvent.timestamp < _epoch(end + timedelta(days=1)))
        return where

    @staticmethod
    async def _user_ids(tx: AsyncSession, needle: str) -> list[str]:
        """Ids of the users whose id, username or email is ``needle`` (one statement)."""
        needle = needle.strip()[:320]
        return list((await tx.scalars(select(User.id).where(or_(
            User.id == needle[:64], User.username_canonical == canonical_username(needle),
            User.email_canonical == canonical_email(needle))))).all())

    @staticmethod
    async def _read(tx: AsyncSession, where: list[ColumnElement[bool]], direction: Direction,
                    key: tuple[float, int] | None, limit: int
                    ) -> tuple[list[AuditEvent], dict[str, str]]:
        """Rows newest first past ``key`` in ``direction``, and the names on them."""
        stmt = select(AuditEvent).where(*where)
        position = tuple_(AuditEvent.timestamp, AuditEvent.id)
        if key is not None:
            bound = tuple_(bindparam("at", key[0], type_=Float()),
                           bindparam("after", key[1], type_=Integer()))
            stmt = stmt.where(position < bound if direction == "older" else position > bound)
        if direction == "older":
            stmt = stmt.order_by(AuditEvent.timestamp.desc(), AuditEvent.id.desc())
        else:
            stmt = stmt.order_by(AuditEvent.timestamp.asc(), AuditEvent.id.asc())
        rows = list((await tx.scalars(stmt.limit(limit))).all())
        if direction == "newer":
            rows.reverse()
        return rows, await usernames(tx, rows)


async def usernames(tx: AsyncSession, events: Sequence[AuditEvent]) -> dict[str, str]:
    """user id → username for the users and actors of ``events`` (one statement, or none)."""
    ids = {i for e in events for i in (e.user_id, e.actor_id) if i}
    if not ids:
        return {}
    found = await tx.execute(select(User.id, User.username).where(User.id.in_(sorted(ids))))
    return {user_id: name for user_id, name in found.all()}


"""The admin dashboard's figures: accounts by state, live sessions, and activity per day.

Three statements whatever the number of rows: one aggregate for the accounts and live
sessions, and one ``GROUP BY`` day for each of sign-ups and sign-ins. A day is a UTC
calendar day; the day of a timestamp ``ts`` is ``floor((ts - start) / 86400)`` computed in
SQL (see :class:`day_index`), so SQLite and PostgreSQL group alike and no query runs per day.

Sign-ups are ``users.created_at``; sign-ins are ``LOGIN_SUCCESS`` audit rows, which every
way in (password, emailed link, passkey, after a second factor) writes exactly once. The
``system`` user is not a person and is never counted.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Final

from sqlalchemy import ColumnElement, Integer, Select, case, func, select
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.functions import FunctionElement

from .db.models import AuditEvent, User, UserSession
from .db.unit_of_work import UnitOfWork
from .defaults import SYSTEM_USER_ID
from .types import Clock

DAY: Final = 86_400
#: The audit event every successful sign-in writes (flows/first_factor.py).
SIGN_IN_EVENT: Final = "LOGIN_SUCCESS"
MAX_DAYS: Final = 366


class day_index(FunctionElement[int]):  # noqa: N801 - an SQL function, named as one
    """``floor(seconds / 86400)`` of a non-negative number of seconds, as an SQL expression.

    PostgreSQL's ``CAST(x AS INTEGER)`` rounds, so elsewhere it is ``FLOOR``; SQLite may lack
    ``FLOOR`` (it needs the math extension) and its cast truncates, which for ``x >= 0`` is
    the floor.
    """

    type = Integer()
    inherit_cache = True


@compiles(day_index)
def _day_index(element: day_index, compiler: SQLCompiler, **kw: Any) -> str:
    return f"FLOOR(({compiler.process(element.clauses, **kw)}) / {DAY}.0)"


@compiles(day_index, "sqlite")
def _day_index_sqlite(element: day_index, compiler: SQLCompiler, **kw: Any) -> str:
    return f"CAST(({compiler.process(element.clauses, **kw)}) / {DAY}.0 AS INTEGER)"


@dataclass(frozen=True, slots=True)
class DayTotals:
    """One UTC day: the epoch second it starts at and what happened in it."""

    start: float
    signups: int
    signins: int

    @property
    def date(self) -> str:
        """``YYYY-MM-DD``."""
        return datetime.fromtimestamp(self.start, UTC).date().isoformat()


@dataclass(frozen=True, slots=True)
class DashboardStats:
    """Counts now, and ``days`` in order, oldest first, today last (every day, even empty)."""

    users: int
    active: int
    verified: int
    mfa: int
    suspended: int
    live_sessions: int
    days: tuple[DayTotals, ...]

    @property
    def signups(self) -> int:
        return sum(d.signups for d in self.days)

    @property
    def signins(self) -> int:
        return sum(d.signins for d in self.days)

    def as_json(self) -> dict[str, Any]:
        return {"users": self.users, "active": self.active, "verified": self.verified,
                "mfa_enabled": self.mfa, "suspended": self.suspended,
                "live_sessions": self.live_sessions,
                "days": [{"date": d.date, "start": d.start, "signups": d.signups,
                          "signins": d.signins} for d in self.days]}


def _count(condition: ColumnElement[bool]) -> ColumnElement[int]:
    return func.count(case((condition, 1)))


def _per_day(column: Any, start: float, end: float, *where: ColumnElement[bool]
             ) -> Select[tuple[int, int]]:
    """``(day index, rows)`` of the rows whose ``column`` falls in ``[start, end)``."""
    inner = (select(day_index(column - start).label("day"))
             .where(column >= start, column < end, *where).subquery())
    return select(inner.c.day, func.count()).group_by(inner.c.day)


@dataclass(frozen=True, slots=True)
class AdminStats:
    """The dashboard's reads (upstream's ``get_dashboard_stats``)."""

    _db: UnitOfWork
    _clock: Clock

    async def dashboard(self, days: int = 30) -> DashboardStats:
        """Account and session counts now, and sign-ups and sign-ins on each of the last
        ``days`` UTC days (today included); three statements."""
        days = max(1, min(days, MAX_DAYS))
        now = self._clock()
        start = float((int(now) // DAY - days + 1) * DAY)
        end = start + days * DAY
        person = User.id != SYSTEM_USER_ID
        live = (select(func.count()).select_from(UserSession).where(
            UserSession.active.is_(True), UserSession.etime > now,
            UserSession.e_abs_time > now).scalar_subquery())
        counts = select(_count(person), _count(person & User.is_active.is_(True)),
                        _count(person & User.email_verified.is_(True)),
                        _count(person & User.mfa_enabled.is_(True)),
                        _count(person & User.is_active.is_(False)), live)
        async with self._db.transaction() as tx:
            users, active, verified, mfa, suspended, sessions = (await tx.execute(counts)).one()
            signups = _by_day((await tx.execute(
                _per_day(User.created_at, start, end, person))).all())
            signins = _by_day((await tx.execute(_per_day(
                AuditEvent.timestamp, start, end, AuditEvent.event_type == SIGN_IN_EVENT)
            )).all())
        series = tuple(DayTotals(start + i * DAY, signups.get(i, 0), signins.get(i, 0))
                       for i in range(days))
        return DashboardStats(users, active, verified, mfa, suspended, sessions, series)


def _by_day(rows: Sequence[Any]) -> dict[int, int]:
    return {int(day): int(count) for day, count in rows}

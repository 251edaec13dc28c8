"""Attempt limits kept in the database (so they hold across workers and under concurrency).

Each key counts attempts in a window; its prefix picks the policy (limit, window, what a lock
means). ``reserve`` counts one attempt per key *before* the secret is checked, in one short
committed transaction: a conditional upsert (``INSERT .. ON CONFLICT DO UPDATE .. WHERE
locked_until <= now .. RETURNING``) that takes the row lock, so of N concurrent callers at most
``limit`` pass on SQLite and PostgreSQL alike. The attempt that reaches the limit locks the key
at once; past the limit (escalating keys) each further attempt after a lock doubles the delay,
up to LOGIN_LOCKOUT_DURATION_SECONDS. ``release`` undoes a reservation after a success.

Keys: ``acct:`` an account (its id, else the canonical identifier typed, so unknown accounts
behave like real ones), ``dev:`` a trusted device, ``sess:`` a signed-in session, ``ip:`` a
client address (sign-in attempts), ``ipreq:`` a client address (requests for emailed tokens),
``mail:``/``mailip:`` mails per address and per requesting address (see :mod:`.mail_quota`),
``profile:`` a signed-in user's identifier changes (username, requests to change the email).
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterable, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass, field

from sqlalchemy import case, delete, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncSession

from .db.models import ThrottleCounter
from .db.unit_of_work import UnitOfWork, dialect_of
from .errors import RateLimited
from .identifiers import canonical_email
from .settings import Settings
from .types import Clock

BASE_DELAY = 30.0
HOUR = 3600.0
#: Username changes and email-change requests one account may attempt per hour.
PROFILE_CHANGES_PER_HOUR = 10
#: GDPR data exports of one account per hour (by the owner and admins together).
EXPORTS_PER_HOUR = 5


def account_key(identifier: str, user_id: str | None = None) -> str:
    """The account's key: its id when it exists, else the canonical identifier typed."""
    return "acct:" + (f"id:{user_id}" if user_id else canonical_email(identifier)[:230])


def ip_key(ip_address: str | None) -> str | None:
    """Sign-in attempts from one client address."""
    return f"ip:{ip_address}" if ip_address else None


def device_key(device_id: str) -> str:
    """Sign-in attempts from one trusted device (instead of the account key)."""
    return f"dev:{device_id}"


def session_key(session_id: str) -> str:
    """Password checks made by a signed-in session (re-authentication, change password)."""
    return f"sess:{session_id}"


def request_key(ip_address: str | None) -> str | None:
    """Requests for emailed tokens (reset, magic link, verification) from one address."""
    return f"ipreq:{ip_address}" if ip_address else None


def export_key(user_id: str) -> str:
    """GDPR exports of the account ``user_id`` (whoever asks)."""
    return f"export:{user_id}"


def profile_key(user_id: str) -> str:
    """Changes of a signed-in user's username or email address (tried, taken or not)."""
    return f"profile:{user_id}"


@dataclass(frozen=True, slots=True)
class Policy:
    """How one kind of key is limited.

    ``escalate``: past the limit, locks double (else the key waits for its window to end).
    ``forget``: a success deletes the counter (else it gives back the one attempt).
    ``requester``: the key belongs to whoever asks (an address, a device), so its lock may be
    told to them; an account key's lock must not be (see :mod:`.lockout`).
    """

    limit: int
    window: float
    escalate: bool
    forget: bool
    requester: bool


@dataclass(frozen=True, slots=True)
class Reservation:
    """What one ``reserve`` counted; pass it to ``Throttle.release`` after a success.

    ``keys``: the keys counted. ``locked``: silent keys found locked (not counted), with the
    seconds until they open. ``locks``: keys this reservation locked, with the lock's end.
    """

    keys: tuple[str, ...] = ()
    locked: dict[str, float] = field(default_factory=dict)
    locks: dict[str, float] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class Throttle:
    """Per-key attempt counters: ``reserve`` before checking a secret, ``release`` after success.

    Arguments:
        db: the unit of work.
        settings, clock: the limits, and the time.
    """

    _db: UnitOfWork
    _settings: Settings
    _clock: Clock

    def policy(self, key: str) -> Policy:
        """The policy of ``key``, chosen by its prefix."""
        s = self._settings
        login = s.login_rate_limit_window_seconds
        policies = {
            "acct": (s.max_login_attempts_per_user, login, True, True, False),
            "dev": (s.max_login_attempts_per_user, login, True, True, True),
            "sess": (s.max_login_attempts_per_user, login, True, True, True),
            "ip": (s.max_login_attempts_per_ip, login, True, False, True),
            "ipreq": (s.max_token_requests_per_ip_per_hour, HOUR, False, False, True),
            "mail": (s.mail_max_per_address_per_hour, HOUR, False, False, False),
            "mailip": (s.mail_max_per_ip_per_hour, HOUR, False, False, True),
            "profile": (PROFILE_CHANGES_PER_HOUR, HOUR, False, False, True),
            "export": (EXPORTS_PER_HOUR, HOUR, False, False, True),
        }
        found = policies.get(key.partition(":")[0])
        if found is None:
            raise ValueError(f"no throttle policy for key {key!r}")
        limit, window, escalate, forget, requester = found
        return Policy(max(1, limit), float(window), escalate, forget, requester)

    # ---- reserve before verifying, release after success -------------------------------

    async def reserve(self, keys: Sequence[str | None], *, silent: Sequence[str | None] = (),
                      session: AsyncSession | None = None) -> Reservation:
        """Count one attempt for each key, atomically, in a transaction of its own (or in
        ``session``'s, under a savepoint: then the counts commit or roll back with the flow).

        Raises RateLimited (counting nothing) while any key of ``keys`` is locked. A locked
        key of ``silent`` raises nothing: it is reported in ``Reservation.locked`` and not
        counted, while the other keys are. Keys are locked in sorted order (no deadlocks).
        """
        quiet = {k for k in silent if k}
        wanted = sorted({k for k in keys if k} | quiet)
        now = self._clock()
        counted: list[str] = []
        locked: dict[str, float] = {}
        locks: dict[str, float] = {}
        async with self._db.transaction(session) as outer, _savepoint(outer, session) as tx:
            for key in wanted:
                taken, until = await self._take(tx, key, now)
                if not taken:
                    locked[key] = until - now
                    continue
                counted.append(key)
                if until > now:
                    locks[key] = until
            refused = [wait for key, wait in locked.items() if key not in quiet]
            if refused:
                raise RateLimited(max(refused))
        return Reservation(tuple(counted), locked, locks)

    async def release(self, reservation: Reservation, session: AsyncSession | None = None
                      ) -> None:
        """After a success: forget account and device keys, give back the others' attempt."""
        async with self._db.transaction(session) as tx:
            for key in reservation.keys:
                if self.policy(key).forget:
                    await tx.execute(delete(ThrottleCounter).where(ThrottleCounter.key == key))
                    continue
                values: dict[str, object] = {"failures": case(
                    (ThrottleCounter.failures > 0, ThrottleCounter.failures - 1), else_=0)}
                ours = reservation.locks.get(key)
                if ours is not None:
                    values["locked_until"] = case(
                        (ThrottleCounter.locked_until <= ours, 0.0),
                        else_=ThrottleCounter.locked_until)
                await tx.execute(update(ThrottleCounter).where(ThrottleCounter.key == key)
                                 .values(values))

    async def forget(self, keys: Iterable[str | None], session: AsyncSession | None = None
                     ) -> None:
        """Delete the counters of these keys (after a successful login or reset)."""
        wanted = [k for k in keys if k]
        async with self._db.transaction(session) as tx:
            await tx.execute(delete(ThrottleCounter).where(ThrottleCounter.key.in_(wanted)))

    async def _take(self, tx: AsyncSession, key: str, now: float) -> tuple[bool, float]:
        """Count one attempt on ``key`` unless it is locked: (taken, locked_until)."""
        policy = self.policy(key)
        insert = pg_insert if dialect_of(tx) == "postgresql" else sqlite_insert
        expired = ThrottleCounter.window_start <= now - policy.window
        upsert = insert(ThrottleCounter).values(key=key, failures=1, window_start=now,
                                                locked_until=0.0)
        stmt = upsert.on_conflict_do_update(
            index_elements=["key"],
            set_={"failures": case((expired, 1), else_=ThrottleCounter.failures + 1),
                  "window_start": case((expired, now), else_=ThrottleCounter.window_start)},
            where=ThrottleCounter.locked_until <= now,
        ).returning(ThrottleCounter.failures, ThrottleCounter.window_start)
        row = (await tx.execute(stmt)).first()
        if row is None:
            until = await tx.scalar(select(ThrottleCounter.locked_until)
                                    .where(ThrottleCounter.key == key))
            return False, float(until or now)
        count, start = int(row[0]), float(row[1])
        if count < policy.limit:
            return True, 0.0
        until = self._lock_end(policy, count, start, now)
        await tx.execute(update(ThrottleCounter).where(ThrottleCounter.key == key)
                         .values(locked_until=until))
        return True, until

    def _lock_end(self, policy: Policy, count: int, window_start: float, now: float) -> float:
        if not policy.escalate:
            return window_start + policy.window
        over = count - policy.limit
        return now + min(BASE_DELAY * (1 << min(over, 16)),
                         float(self._settings.login_lockout_duration_seconds))



@asynccontextmanager
async def _savepoint(tx: AsyncSession, joined: AsyncSession | None
                     ) -> AsyncIterator[AsyncSession]:
    """A savepoint in a joined transaction (a refusal undoes only this step), else nothing."""
    if joined is None:
        yield tx
        return
    async with tx.begin_nested():
        yield tx

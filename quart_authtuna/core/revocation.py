"""Revocation: the one place that makes committed changes reach the in-process caches.

Flows and managers say *what* changed, inside their transaction; after it commits the event
is published through a :class:`Broadcaster` (this process at once, then the other processes
through PostgreSQL NOTIFY or Redis pub/sub, see :mod:`.broadcast`), and every process drops
exactly the cache entries the event names. No other module drops cache entries.

Verbs: :meth:`Revocation.sessions_ended`, :meth:`~Revocation.user_changed`,
:meth:`~Revocation.grants_changed`, :meth:`~Revocation.api_key_revoked`.

Events from other processes are hints: they only make this process ask the database again
(a forged one cannot refuse what the database accepts). ``reconnected`` says the channel was
lost, so events may have been missed: everything cached is verified again once.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass
from typing import Literal, Protocol

from sqlalchemy import Executable
from sqlalchemy.ext.asyncio import AsyncSession

from .db.unit_of_work import UnitOfWork
from .managers.api_key_cache import PrincipalCache
from .rbac.checker import RbacChecker
from .sessions.cache import SessionCache

Kind = Literal["sessions_ended", "user_changed", "grants_changed", "api_key_revoked",
               "reconnected"]
Handler = Callable[["RevocationEvent"], Awaitable[None]]


@dataclass(frozen=True, slots=True)
class RevocationEvent:
    """What changed. ``ids`` are stored session ids, user ids or key ids, by ``kind``;
    ``grants_changed`` with no ids means everyone (a role or permission definition changed)."""

    kind: Kind
    ids: tuple[str, ...] = ()
    #: Received from another process (a hint: drop, never refuse by itself).
    remote: bool = False


class Broadcaster(Protocol):
    """Carries events to every process that serves this database.

    ``publish`` delivers to this process's handlers before it returns, then to the others;
    ``connected`` is False while the channel to the others is down (see ``/healthz``).
    ``epoch`` numbers the channel's connections while it is connected to other processes
    and every event travels with its commit (PostgreSQL NOTIFY), None otherwise (Redis, the
    in-process one): what this process read while the epoch stays the same is kept current
    by the events (see :meth:`Revocation.epoch`).
    """

    name: str

    def statements(self, event: RevocationEvent) -> list[Executable]:
        """SQL that sends ``event`` to the other processes as part of the publishing
        transaction, so it reaches them if and only if the change commits; empty when the
        broadcaster sends after the commit instead."""
        ...

    @property
    def epoch(self) -> int | None: ...

    @property
    def connected(self) -> bool: ...

    def subscribe(self, handler: Handler) -> None: ...

    async def publish(self, event: RevocationEvent, *, sent: bool = False) -> None:
        """Deliver here, then to the others unless ``sent`` (by :meth:`statements`)."""
        ...

    async def start(self) -> None: ...

    async def close(self) -> None: ...


class InProcessBroadcaster:
    """Delivers events to this process's subscribers, at once (one process only)."""

    name = "local"
    #: Other processes hear nothing from this one: caches are never trusted past the interval.
    epoch: int | None = None

    def __init__(self) -> None:
        self._handlers: list[Handler] = []

    @property
    def connected(self) -> bool:
        return True

    def subscribe(self, handler: Handler) -> None:
        self._handlers.append(handler)

    def statements(self, event: RevocationEvent) -> list[Executable]:
        return []

    async def publish(self, event: RevocationEvent, *, sent: bool = False) -> None:
        for handler in self._handlers:
            await handler(event)

    async def start(self) -> None:
        return None

    async def close(self) -> None:
        return None


class Revocation:
    """Publishes what a transaction changed once it commits, and applies what arrives.

    Arguments:
        db: registers the after-commit publication.
        sessions, grants, api_keys: this process's caches.
        broadcaster: where events travel (in-process by default).
    """

    def __init__(self, db: UnitOfWork, sessions: SessionCache, grants: RbacChecker,
                 api_keys: PrincipalCache, broadcaster: Broadcaster | None = None) -> None:
        self._db = db
        self._sessions = sessions
        self._grants = grants
        self._api_keys = api_keys
        self.broadcaster = broadcaster or InProcessBroadcaster()
        self.broadcaster.subscribe(self.apply)

    # ---- verbs (inside a transaction; published after it commits) --------------------

    def sessions_ended(self, tx: AsyncSession, session_ids: Iterable[str]) -> None:
        """These sessions were ended: their cookies are refused from now on."""
        self._later(tx, RevocationEvent("sessions_ended", tuple(session_ids)))

    def user_changed(self, tx: AsyncSession, user_id: str) -> None:
        """Anything a session caches about the user changed: re-verify its sessions."""
        self._later(tx, RevocationEvent("user_changed", (user_id,)))

    def grants_changed(self, tx: AsyncSession, user_ids: Iterable[str] | None = None) -> None:
        """Roles or permissions changed for these users (``None``: for everyone)."""
        self._later(tx, RevocationEvent("grants_changed",
                                        () if user_ids is None else tuple(user_ids)))

    def api_key_revoked(self, tx: AsyncSession, key_id: str) -> None:
        self._later(tx, RevocationEvent("api_key_revoked", (key_id,)))

    async def publish(self, event: RevocationEvent) -> None:
        """Publish now (for changes made outside a unit of work, e.g. provisioning)."""
        await self.broadcaster.publish(event)

    def epoch(self) -> int | None:
        """The cross-process channel's connection number while connected, else None.

        State read from the database while ``epoch()`` returned ``e`` (and not dropped by an
        event since) is as current as the database as long as ``epoch()`` still returns
        ``e``: every change made through the product announces itself in under a second, and
        a lost connection changes the number (and clears the caches, ``reconnected``).
        """
        return self.broadcaster.epoch

    def forget_sessions(self, session_ids: Iterable[str]) -> None:
        """Local only: the database says these sessions are unusable; ask it next time."""
        for session_id in session_ids:
            self._sessions.drop(session_id)

    # ---- applying ----------------------------------------------------------------------

    async def apply(self, event: RevocationEvent) -> None:
        """Drop what ``event`` names from this process's caches."""
        if event.kind == "sessions_ended":
            for session_id in event.ids:
                self._sessions.drop(session_id, revoked=not event.remote)
        elif event.kind == "user_changed":
            self._grants.invalidate(event.ids)
            self._api_keys.drop_users(frozenset(event.ids))
            for user_id in event.ids:
                self._sessions.drop_user(user_id)
        elif event.kind == "grants_changed":
            ids = frozenset(event.ids) if event.ids else None
            self._grants.invalidate(ids)
            self._api_keys.drop_users(ids)
        elif event.kind == "api_key_revoked":
            for key_id in event.ids:
                self._api_keys.drop_key(key_id)
        elif event.kind == "reconnected":
            self._sessions.clear()
            self._grants.invalidate(None)
            self._api_keys.drop_users(None)

    def _later(self, tx: AsyncSession, event: RevocationEvent) -> None:
        sends = self.broadcaster.statements(event)  # PostgreSQL: NOTIFY commits with tx
        for statement in sends:
            self._db.before_commit(tx, statement)

        async def publish() -> None:
            await self.broadcaster.publish(event, sent=bool(sends))

        self._db.after_commit(tx, publish)

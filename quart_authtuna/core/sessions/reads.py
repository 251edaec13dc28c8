"""Batched reads for session checks: the due checks of one event-loop tick share one query.

A check asks for its session row (with the user) and perhaps for the user's grants; the
requests made while the event loop runs one batch of ready tasks are answered by one
``SELECT ... WHERE session_id IN (...)`` and one grants query for the distinct users, in one
read-only unit of work. At most one batch is in flight: what arrives meanwhile waits for it
and goes out together (fewer, larger queries under load).
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

from sqlalchemy import select

from ..db.models import User, UserSession
from ..db.unit_of_work import UnitOfWork
from ..rbac.checker import load_many_grants
from ..rbac.grants import Grants

#: The session row, its user, and the user's grants if ``needs_grants`` asked for them.
Found = tuple[UserSession, User, Grants | None] | None


def _never(_user_id: str) -> bool:
    return False


class BatchedReads:
    """Collects session and grants reads and answers them a batch at a time.

    Arguments:
        needs_grants: whether a user's grants must be read with their session (not cached).
    """

    def __init__(self, db: UnitOfWork, needs_grants: Callable[[str], bool] = _never) -> None:
        self._db = db
        self._needs_grants = needs_grants
        self._sessions: dict[str, asyncio.Future[Found]] = {}
        self._grants: dict[str, asyncio.Future[Grants]] = {}
        self._scheduled = False
        self._running: asyncio.Task[None] | None = None
        #: Batches run so far (for tests and benchmarks).
        self.batches = 0

    async def session(self, session_id: str) -> Found:
        """The session row, its user and perhaps grants; None when there is no such session."""
        found: Found = await self._ask(self._sessions, session_id)
        return found

    async def grants(self, user_id: str) -> Grants:
        grants: Grants = await self._ask(self._grants, user_id)
        return grants

    async def _ask(self, pending: dict[str, asyncio.Future[Any]], key: str) -> Any:
        future = pending.get(key)
        if future is None:
            future = pending[key] = asyncio.get_running_loop().create_future()
            self._schedule()
        return await asyncio.shield(future)

    def _schedule(self) -> None:
        if not self._scheduled and self._running is None:
            self._scheduled = True
            asyncio.get_running_loop().call_soon(self._start)

    def _start(self) -> None:
        self._scheduled = False
        if self._running is not None or not (self._sessions or self._grants):
            return
        sessions, self._sessions = self._sessions, {}
        grants, self._grants = self._grants, {}
        self._running = asyncio.ensure_future(self._run(sessions, grants))
        self._running.add_done_callback(self._finished)

    def _finished(self, _task: asyncio.Task[None]) -> None:
        self._running = None
        self._start()  # what arrived meanwhile

    async def _run(self, sessions: dict[str, asyncio.Future[Found]],
                   grants: dict[str, asyncio.Future[Grants]]) -> None:
        self.batches += 1
        try:
            async with self._db.reading() as tx:
                rows: dict[str, tuple[UserSession, User]] = {}
                if sessions:
                    result = await tx.execute(select(UserSession, User).join(
                        User, User.id == UserSession.user_id).where(
                        UserSession.session_id.in_(list(sessions))))
                    rows = {row.session_id: (row, user) for row, user in result.all()}
                users = set(grants) | {user.id for _, user in rows.values()
                                       if self._needs_grants(user.id)}
                loaded = await load_many_grants(tx, users) if users else {}
        except BaseException as exc:  # every waiter gets the failure (503 upstream)
            waiting: list[asyncio.Future[Any]] = [*sessions.values(), *grants.values()]
            for future in waiting:
                if not future.done():
                    future.set_exception(exc)
            if not isinstance(exc, Exception):
                raise
            return
        for session_id, asked in sessions.items():
            if not asked.done():
                found = rows.get(session_id)
                asked.set_result(None if found is None else (*found, loaded.get(found[1].id)))
        for user_id, waiting_grants in grants.items():
            if not waiting_grants.done():
                waiting_grants.set_result(loaded[user_id])

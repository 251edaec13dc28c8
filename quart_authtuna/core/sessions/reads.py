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
from .ticks import TickBatch

#: The session row, its user, and the user's grants if ``needs_grants`` asked for them.
Found = tuple[UserSession, User, Grants | None] | None
_Work = tuple[dict[str, "asyncio.Future[Found]"], dict[str, "asyncio.Future[Grants]"]]


def _never(_user_id: str) -> bool:
    return False


class BatchedReads(TickBatch):
    """Collects session and grants reads and answers them a batch at a time.

    Arguments:
        needs_grants: whether a user's grants must be read with their session (not cached).
    """

    def __init__(self, db: UnitOfWork, needs_grants: Callable[[str], bool] = _never) -> None:
        super().__init__()
        self._db = db
        self._needs_grants = needs_grants
        self._sessions: dict[str, asyncio.Future[Found]] = {}
        self._grants: dict[str, asyncio.Future[Grants]] = {}

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

    def _take(self) -> _Work | None:
        if not (self._sessions or self._grants):
            return None
        work = (self._sessions, self._grants)
        self._sessions, self._grants = {}, {}
        return work

    def _waiters(self, work: _Work) -> list[asyncio.Future[Any]]:
        return [*work[0].values(), *work[1].values()]

    async def _run(self, work: _Work) -> None:
        sessions, grants = work
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
        for session_id, asked in sessions.items():
            if not asked.done():
                found = rows.get(session_id)
                asked.set_result(None if found is None else (*found, loaded.get(found[1].id)))
        for user_id, waiting_grants in grants.items():
            if not waiting_grants.done():
                waiting_grants.set_result(loaded[user_id])

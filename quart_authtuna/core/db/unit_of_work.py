"""UnitOfWork: the engine, one transaction per unit of work, and what runs after commit."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from typing import Any

from blinker import NamedSignal
from sqlalchemy import CursorResult, Executable, Result, text
from sqlalchemy import exc as sa_exc
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from ..errors import DatabaseUnavailable
from ..settings import Settings
from .base import Base
from .engine import READ_ONLY, make_engine, make_sessionmaker

_AFTER_COMMIT = "authtuna_after_commit"
_BEFORE_COMMIT = "authtuna_before_commit"
AfterCommit = Callable[[], Awaitable[Any]]


class UnitOfWork:
    """Owns the engine; :meth:`transaction` opens (or joins) one unit of work.

    Arguments:
        settings: the database URL, schema and pool settings.
        sender: the object signals are sent from (the AuthService facade).
    """

    def __init__(self, settings: Settings, *, sender: object) -> None:
        self._settings = settings
        self._sender = sender
        self._engine: AsyncEngine | None = None
        self._sessionmaker: async_sessionmaker[AsyncSession] | None = None

    @property
    def started(self) -> bool:
        return self._engine is not None

    @property
    def engine(self) -> AsyncEngine:
        if self._engine is None:
            raise RuntimeError("AuthService.start() has not been awaited")
        return self._engine

    def open(self) -> None:
        """Create the engine and sessionmaker (no connection is made yet)."""
        if self._engine is None:
            self._engine = make_engine(self._settings)
            self._sessionmaker = make_sessionmaker(self._engine)

    async def create_all(self) -> None:
        """Create missing tables (and the schema, when DATABASE_SCHEMA is set)."""
        async with self.engine.begin() as conn:
            schema = self._settings.database_schema
            if schema and conn.dialect.name == "postgresql":
                await conn.execute(text(f'CREATE SCHEMA IF NOT EXISTS "{schema}"'))
            await conn.run_sync(Base.metadata.create_all)

    async def close(self) -> None:
        if self._engine is not None:
            await self._engine.dispose()
        self._engine = self._sessionmaker = None

    @asynccontextmanager
    async def transaction(self, session: AsyncSession | None = None
                          ) -> AsyncIterator[AsyncSession]:
        """Join ``session`` if given, else open, commit and close one unit of work.

        Statements registered with :meth:`before_commit` run last inside the outermost unit;
        callbacks registered with :meth:`after_commit` run once it commits.
        """
        if session is not None:
            yield session
            return
        if self._sessionmaker is None:
            raise RuntimeError("AuthService.start() has not been awaited")
        try:
            async with self._sessionmaker() as own:
                async with own.begin():
                    yield own
                    for statement in own.info.pop(_BEFORE_COMMIT, []):
                        await own.execute(statement)
        except UNAVAILABLE as exc:
            raise DatabaseUnavailable(self._settings.database_retry_after) from exc
        for callback in own.info.pop(_AFTER_COMMIT, []):
            await callback()

    @asynccontextmanager
    async def reading(self) -> AsyncIterator[AsyncSession]:
        """A session for reads only: no write lock (SQLite skips BEGIN IMMEDIATE), rolled
        back at the end; nothing to commit, no after-commit callbacks."""
        if self._sessionmaker is None:
            raise RuntimeError("AuthService.start() has not been awaited")
        try:
            async with self._sessionmaker() as own:
                await own.connection(execution_options={READ_ONLY: True})
                yield own
        except UNAVAILABLE as exc:
            raise DatabaseUnavailable(self._settings.database_retry_after) from exc

    def before_commit(self, session: AsyncSession, statement: Executable) -> None:
        """Execute ``statement`` at the end of ``session``'s unit of work, so that it
        commits with it (or not at all)."""
        session.info.setdefault(_BEFORE_COMMIT, []).append(statement)

    def after_commit(self, session: AsyncSession, callback: AfterCommit) -> None:
        """Run ``callback`` after ``session`` commits (dropped on rollback)."""
        session.info.setdefault(_AFTER_COMMIT, []).append(callback)

    def emit(self, session: AsyncSession, signal: NamedSignal, **kwargs: Any) -> None:
        """Send ``signal`` (from the facade) once ``session`` commits."""

        async def send() -> None:
            await signal.send_async(self._sender, _sync_wrapper=_call_sync,  # type: ignore[arg-type]
                                    **kwargs)

        self.after_commit(session, send)


#: What "the database is not there" looks like: no connection could be made or kept, none
#: was free within DATABASE_POOL_TIMEOUT, or (SQLite) it stayed locked past the busy timeout.
#: asyncpg raises plain OSError (refused, timed out) when connecting.
UNAVAILABLE = (sa_exc.OperationalError, sa_exc.InterfaceError, sa_exc.DisconnectionError,
                sa_exc.TimeoutError, OSError)


def affected(result: Result[Any]) -> int:
    """Rows an UPDATE or DELETE matched (``execute`` is typed as a plain Result)."""
    cursor: CursorResult[Any] = result  # type: ignore[assignment]
    return cursor.rowcount


def dialect_of(session: AsyncSession) -> str:
    """``"postgresql"`` or ``"sqlite"``: the database this session talks to."""
    return session.get_bind().dialect.name


def _call_sync(func: Callable[..., Any]) -> Callable[..., Awaitable[Any]]:
    """Let plain (sync) receivers listen to signals sent with ``send_async``."""

    async def inner(*args: Any, **kwargs: Any) -> Any:
        return func(*args, **kwargs)

    return inner

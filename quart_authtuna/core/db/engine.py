"""One async engine and sessionmaker per service: aiosqlite or asyncpg, tuned per dialect."""

from __future__ import annotations

from typing import Any

from sqlalchemy import event
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)

from ..settings import Settings

#: Execution option of a connection that only reads (SQLite then skips BEGIN IMMEDIATE).
READ_ONLY = "authtuna_read_only"


def normalise_url(url: str) -> str:
    """Accept plain ``sqlite://`` and ``postgresql://`` URLs and pick the async driver."""
    for plain, driver in (("sqlite://", "sqlite+aiosqlite://"),
                          ("postgresql://", "postgresql+asyncpg://"),
                          ("postgres://", "postgresql+asyncpg://")):
        if url.startswith(plain):
            return driver + url[len(plain):]
    return url


def make_engine(settings: Settings) -> AsyncEngine:
    """Build the engine for ``settings``; SQLite pragmas are attached to this engine only."""
    url = make_url(normalise_url(settings.default_database_uri.reveal()))
    options: dict[str, Any] = {"pool_pre_ping": settings.database_pool_pre_ping,
                               "pool_timeout": settings.database_pool_timeout}
    if url.get_backend_name() == "sqlite":
        options["connect_args"] = {"timeout": 30}
        if url.database in (None, "", ":memory:") or "mode=memory" in str(url):
            del options["pool_timeout"]  # one shared connection (StaticPool): no pool to wait on
        engine = create_async_engine(url, **options)
        _tune_sqlite(engine)
        return engine
    options.update(
        pool_size=settings.database_pool_size,
        max_overflow=settings.database_max_overflow,
        pool_recycle=settings.database_pool_recycle,
    )
    # An unreachable server fails the connection (503) after this, not asyncpg's 60 s.
    connect: dict[str, Any] = {"timeout": settings.database_connect_timeout}
    if settings.database_schema:
        connect["server_settings"] = {"search_path": settings.database_schema}
    options["connect_args"] = connect
    return create_async_engine(url, **options)


def _tune_sqlite(engine: AsyncEngine) -> None:
    """WAL, foreign keys, a busy timeout, and BEGIN IMMEDIATE so writers queue, not fail."""

    @event.listens_for(engine.sync_engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        for pragma in ("journal_mode=WAL", "foreign_keys=ON", "busy_timeout=30000",
                       "synchronous=NORMAL"):
            cursor.execute(f"PRAGMA {pragma}")
        cursor.close()

    @event.listens_for(engine.sync_engine, "begin")
    def _on_begin(connection: Any) -> None:
        if not connection.get_execution_options().get(READ_ONLY):  # a probe takes no lock
            connection.exec_driver_sql("BEGIN IMMEDIATE")


def make_sessionmaker(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    """Sessions for one unit of work each; objects stay usable after commit."""
    return async_sessionmaker(engine, expire_on_commit=False)

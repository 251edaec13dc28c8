"""The tables at startup: AUTO_CREATE_DATABASE makes them on SQLite (development); anywhere
else the shipped migrations do (``quart authtuna db upgrade``), and a database without them
is refused with that advice instead of failing later on a raw SQL error.

==========================  ================================================================
AUTO_CREATE_DATABASE        At startup
==========================  ================================================================
unset (auto), SQLite        create the missing tables, seed the default roles
unset (auto), PostgreSQL    create nothing; refuse to start if the tables are missing
true, SQLite                as unset
true, PostgreSQL            a warning; create the tables, record them at the migrations'
                            head (so ``db upgrade`` applies later revisions), seed. With
                            PRODUCTION on, refused (:meth:`Settings.production_problems`)
false                       create nothing; refuse to start if the tables are missing
==========================  ================================================================

A database that cannot be reached at startup is not refused: requests answer 503 until it is
back (docs/deployment.md).
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from typing import Any

from sqlalchemy import inspect

from ..errors import ConfigurationError
from ..settings import Settings
from .engine import READ_ONLY
from .models import User
from .unit_of_work import UNAVAILABLE, UnitOfWork

logger = logging.getLogger("quart_authtuna")

UPGRADE = "quart authtuna db upgrade"


def on_sqlite(settings: Settings) -> bool:
    """Whether DEFAULT_DATABASE_URI is a SQLite database."""
    return settings.default_database_uri.reveal().startswith("sqlite")


def creates_tables(settings: Settings) -> bool:
    """AUTO_CREATE_DATABASE as set, or (unset) whether the database is SQLite."""
    chosen = settings.auto_create_database
    return on_sqlite(settings) if chosen is None else chosen


async def prepare(db: UnitOfWork, settings: Settings,
                  provision: Callable[[], Awaitable[Any]]) -> None:
    """Create (and ``provision``) the tables when :func:`creates_tables`, else make sure they
    are there; ConfigurationError naming ``db upgrade`` when they are not."""
    if not creates_tables(settings):
        await require_tables(db)
        return
    if on_sqlite(settings):
        await db.create_all()
    else:
        logger.warning(
            "AUTHTUNA_AUTO_CREATE_DATABASE is on with a %s database: tables are created for "
            "development and recorded at the migrations' head. Deployments leave it unset and "
            "run `%s` instead.", db.engine.dialect.name, UPGRADE)
        await db.create_all()
        from . import migrations  # Alembic loads only on this path

        await migrations.stamp_if_unversioned(db.engine, settings.database_schema)
    await provision()


async def require_tables(db: UnitOfWork) -> None:
    """Refuse a reachable database without the package's tables."""
    try:
        async with db.engine.connect() as conn:
            await conn.execution_options(**{READ_ONLY: True})
            present = await conn.run_sync(
                lambda sync: inspect(sync).has_table(User.__tablename__))
    except UNAVAILABLE:  # down now: requests answer 503 until it is back
        return
    if not present:
        raise ConfigurationError([
            f"The database has no quart-authtuna tables: run `{UPGRADE}` (docs/deployment.md)"
            ", or on SQLite in development leave AUTHTUNA_AUTO_CREATE_DATABASE unset"])

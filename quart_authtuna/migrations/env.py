"""Alembic environment: migrate on the connection the caller passes (``quart authtuna db``),
or else on the engine the AUTHTUNA_* environment configures (async, DATABASE_SCHEMA honoured)."""

from __future__ import annotations

import asyncio
import os

from alembic import context
from sqlalchemy import Connection

from quart_authtuna.core.db import migrations
from quart_authtuna.core.db.engine import make_engine
from quart_authtuna.core.settings import Settings


def _run(connection: Connection) -> None:
    context.configure(connection=connection, **migrations.CONTEXT_OPTIONS)
    with context.begin_transaction():
        context.run_migrations()


async def _run_on_configured_engine() -> None:
    settings = Settings.from_sources(environ=os.environ)
    engine = make_engine(settings)
    try:
        await migrations.on_connection(engine, settings.database_schema, _run)
    finally:
        await engine.dispose()


if context.is_offline_mode():
    raise SystemExit("quart-authtuna migrations run online only (no --sql)")
_connection = context.config.attributes.get("connection")
if _connection is not None:
    _run(_connection)
else:
    asyncio.run(_run_on_configured_engine())

"""Per-test database state: a fresh SQLite file, or a fresh PostgreSQL schema dropped after."""

from __future__ import annotations

import os
import secrets
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import text
from sqlalchemy.ext.asyncio import create_async_engine

from quart_authtuna.core import AuthService, Settings

PG_URL_ENV = "AUTHTUNA_TEST_DATABASE_URL"
BACKENDS = ("sqlite", "postgresql")


def postgres_url() -> str | None:
    return os.environ.get(PG_URL_ENV) or None


def in_ci() -> bool:
    return os.environ.get("CI", "").lower() in ("1", "true", "yes")


@asynccontextmanager
async def database_overrides(backend: str, tmp_path: Path) -> AsyncIterator[dict[str, str]]:
    """Settings overrides pointing at an empty database of ``backend`` (whose tables the
    service creates when it starts)."""
    if backend == "sqlite":
        yield {"DEFAULT_DATABASE_URI": f"sqlite+aiosqlite:///{tmp_path}/authtuna.db"}
        return
    url = postgres_url()
    assert url, f"{PG_URL_ENV} is not set"
    schema = f"authtuna_test_{secrets.token_hex(6)}"
    try:
        # create_all is faster than migrating each test's schema (test_migrations proves
        # the two equal); on PostgreSQL it has to be asked for (core/db/schema_setup.py).
        yield {"DEFAULT_DATABASE_URI": url, "DATABASE_SCHEMA": schema,
               "AUTO_CREATE_DATABASE": True}
    finally:
        engine = create_async_engine(url)
        async with engine.begin() as conn:
            await conn.execute(text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
        await engine.dispose()


async def upgrade_database(settings: dict[str, Any]) -> None:
    """What ``quart authtuna db upgrade`` does (migrate to head, seed the default roles), on
    the database ``settings`` name: how a production database gets its tables."""
    from quart_authtuna.core.db import migrations  # Alembic: only for the tests that migrate

    service = AuthService(Settings.from_sources(overrides={**settings,
                                                           "AUTO_CREATE_DATABASE": None}))
    service.db.open()
    try:
        await migrations.upgrade(service.engine, service.settings.database_schema)
        await service.provision_defaults()
    finally:
        await service.db.close()

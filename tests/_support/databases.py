"""Per-test database state: a fresh SQLite file, or a fresh PostgreSQL schema dropped after."""

from __future__ import annotations

import os
import secrets
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

from sqlalchemy import text
from sqlalchemy.ext.asyncio import create_async_engine

PG_URL_ENV = "AUTHTUNA_TEST_DATABASE_URL"
BACKENDS = ("sqlite", "postgresql")


def postgres_url() -> str | None:
    return os.environ.get(PG_URL_ENV) or None


def in_ci() -> bool:
    return os.environ.get("CI", "").lower() in ("1", "true", "yes")


@asynccontextmanager
async def database_overrides(backend: str, tmp_path: Path) -> AsyncIterator[dict[str, str]]:
    """Settings overrides pointing at an empty database of ``backend``."""
    if backend == "sqlite":
        yield {"DEFAULT_DATABASE_URI": f"sqlite+aiosqlite:///{tmp_path}/authtuna.db"}
        return
    url = postgres_url()
    assert url, f"{PG_URL_ENV} is not set"
    schema = f"authtuna_test_{secrets.token_hex(6)}"
    try:
        yield {"DEFAULT_DATABASE_URI": url, "DATABASE_SCHEMA": schema}
    finally:
        engine = create_async_engine(url)
        async with engine.begin() as conn:
            await conn.execute(text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
        await engine.dispose()

"""Alembic migrations of the package's tables: upgrade, downgrade, current revision and the
check that the migrated schema equals the models.

The scripts live in ``quart_authtuna/migrations`` (``env.py``, ``versions/``). Each function
here takes the service's async engine and runs Alembic on one of its connections, inside one
transaction, so ``DATABASE_SCHEMA`` (the engine's ``search_path``) applies to Alembic too.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import JSON, Connection, text
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlalchemy.types import TypeDecorator

from . import models as _models  # noqa: F401  (registers every table on Base.metadata)
from .base import Base
from .engine import READ_ONLY

#: Where env.py, script.py.mako and versions/ are (shipped in the wheel).
SCRIPT_LOCATION = Path(__file__).resolve().parents[2] / "migrations"

T = TypeVar("T")


def include_object(obj: Any, name: str | None, type_: str, reflected: bool,
                   compare_to: Any) -> bool:
    """Compare only our tables: an application's own tables in the same database are not ours
    to drop."""
    return not (type_ == "table" and reflected and compare_to is None)


def render_item(type_: str, obj: Any, autogen_context: Any) -> str | bool:
    """Write the JSON/JSONB column type as the models declare it (Alembic's default rendering
    names an unimported ``Text``), and our own column types as the SQLAlchemy type they store
    (a revision must not import package code that later changes)."""
    if type_ != "type":
        return False
    if isinstance(obj, TypeDecorator):
        impl = obj.impl_instance
        return render_item(type_, impl, autogen_context) or f"sa.{impl!r}"
    if isinstance(obj, JSON) and "postgresql" in obj._variant_mapping:
        autogen_context.imports.add("from sqlalchemy.dialects import postgresql")
        return 'sa.JSON().with_variant(postgresql.JSONB(), "postgresql")'
    return False


#: Options shared by env.py, the check and autogenerate.
CONTEXT_OPTIONS: dict[str, Any] = {
    "target_metadata": Base.metadata,
    "include_object": include_object,
    "render_item": render_item,
    "compare_type": True,
    "render_as_batch": True,  # ALTERs on SQLite go through batch mode
}


def alembic_config(connection: Connection | None = None) -> Config:
    """An Alembic config for the shipped scripts, optionally bound to ``connection``."""
    config = Config()
    config.set_main_option("script_location", str(SCRIPT_LOCATION))
    if connection is not None:
        config.attributes["connection"] = connection
    return config


def head_revision() -> str | None:
    """The newest revision of the shipped scripts."""
    return ScriptDirectory.from_config(alembic_config()).get_current_head()


@dataclass(frozen=True, slots=True)
class SchemaCheck:
    """Where the database stands against the scripts and the models."""

    current: str | None
    head: str | None
    differences: tuple[str, ...]

    @property
    def ok(self) -> bool:
        return self.current == self.head and not self.differences


async def on_connection(engine: AsyncEngine, schema: str | None,
                        work: Callable[[Connection], T]) -> T:
    """Run ``work`` on a sync connection of ``engine`` in one transaction, creating the
    PostgreSQL ``schema`` first when one is set.

    On SQLite foreign keys are off meanwhile: batch mode rebuilds a table by dropping it, and
    with them on that drop would cascade into every child row. They are checked after.
    """
    async with engine.connect() as conn:
        sqlite = conn.dialect.name == "sqlite"
        if sqlite:  # a PRAGMA inside a transaction is ignored, so none is begun for it
            await conn.execution_options(**{READ_ONLY: True})
            await conn.exec_driver_sql("PRAGMA foreign_keys=OFF")
            await conn.commit()
            await conn.execution_options(**{READ_ONLY: False})
        try:
            async with conn.begin():
                if schema and not sqlite and conn.dialect.name == "postgresql":
                    await conn.execute(text(f'CREATE SCHEMA IF NOT EXISTS "{schema}"'))
                result = await conn.run_sync(work)
                if sqlite:
                    broken = (await conn.exec_driver_sql("PRAGMA foreign_key_check")).all()
                    if broken:
                        raise RuntimeError(f"migration broke foreign keys: {broken[:5]}")
                return result
        finally:
            if sqlite:
                await conn.execution_options(**{READ_ONLY: True})
                await conn.exec_driver_sql("PRAGMA foreign_keys=ON")
                await conn.commit()
                await conn.execution_options(**{READ_ONLY: False})


async def upgrade(engine: AsyncEngine, schema: str | None, revision: str = "head") -> None:
    """Apply the scripts up to ``revision`` (one transaction on PostgreSQL)."""
    await on_connection(engine, schema,
                         lambda c: command.upgrade(alembic_config(c), revision))


async def downgrade(engine: AsyncEngine, schema: str | None, revision: str) -> None:
    """Undo the scripts down to ``revision`` (``base`` drops every table)."""
    await on_connection(engine, schema,
                         lambda c: command.downgrade(alembic_config(c), revision))


async def stamp(engine: AsyncEngine, schema: str | None, revision: str = "head") -> None:
    """Record ``revision`` as applied without running anything."""
    await on_connection(engine, schema, lambda c: command.stamp(alembic_config(c), revision))


def _stamp_if_unversioned(conn: Connection) -> None:
    context = MigrationContext.configure(conn)
    if context.get_current_revision() is None:
        context.stamp(ScriptDirectory.from_config(alembic_config()), "head")


async def stamp_if_unversioned(engine: AsyncEngine, schema: str | None) -> None:
    """Record the head revision on a database that has none (tables just made by
    ``create_all``, equal to the models), so later revisions apply with ``db upgrade``."""
    await on_connection(engine, schema, _stamp_if_unversioned)


def _current(conn: Connection) -> str | None:
    return MigrationContext.configure(conn).get_current_revision()


async def current(engine: AsyncEngine, schema: str | None) -> str | None:
    """The revision the database is at (None: never migrated)."""
    return await on_connection(engine, schema, _current)


def _check(conn: Connection) -> SchemaCheck:
    context = MigrationContext.configure(conn, opts=CONTEXT_OPTIONS)
    diffs = compare_metadata(context, Base.metadata)
    return SchemaCheck(_current(conn), head_revision(), tuple(repr(d) for d in diffs))


async def check(engine: AsyncEngine, schema: str | None) -> SchemaCheck:
    """Compare the database with the head revision and with the models."""
    return await on_connection(engine, schema, _check)

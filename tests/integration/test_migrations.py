"""The shipped Alembic migrations produce exactly the models, keep existing rows, undo to
base, and run from ``quart authtuna db ...``; on SQLite and on PostgreSQL."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
import sqlalchemy as sa
from alembic.script import ScriptDirectory
from sqlalchemy.ext.asyncio import AsyncEngine

from quart_authtuna.core import AuthService, Settings
from quart_authtuna.core.db import migrations
from quart_authtuna.core.db.base import JsonType
from quart_authtuna.core.db.engine import make_engine
from quart_authtuna.core.db.models import Role, User, UserRole, UserSession
from tests._support.databases import database_overrides
from tests.conftest import TEST_SETTINGS
from tests.integration.conftest import build_app

INITIAL = "0001"
OURS = {"users", "roles", "user_roles", "sessions", "audit_events"}


@pytest.fixture(name="overrides")
async def _overrides(backend: str, tmp_path: Path) -> AsyncIterator[dict[str, Any]]:
    async with database_overrides(backend, tmp_path) as db:
        yield {**TEST_SETTINGS, **db, "AUTO_CREATE_DATABASE": False}


@pytest.fixture(name="engine")
async def _engine(overrides: dict[str, Any]) -> AsyncIterator[tuple[AsyncEngine, str | None]]:
    settings = Settings.from_sources(overrides=overrides)
    engine = make_engine(settings)
    yield engine, settings.database_schema
    await engine.dispose()


async def _tables(engine: AsyncEngine) -> set[str]:
    async with engine.connect() as conn:
        return set(await conn.run_sync(lambda c: sa.inspect(c).get_table_names()))


async def test_upgrade_head_on_an_empty_database_equals_the_models(
        engine: tuple[AsyncEngine, str | None]) -> None:
    eng, schema = engine
    assert await migrations.current(eng, schema) is None
    await migrations.upgrade(eng, schema)
    state = await migrations.check(eng, schema)
    assert state.differences == (), "\n".join(state.differences)
    assert state.current == state.head == migrations.head_revision() and state.ok


async def test_create_all_gives_the_same_names_as_the_migrations(
        engine: tuple[AsyncEngine, str | None], overrides: dict[str, Any]) -> None:
    """AUTO_CREATE_DATABASE (create_all) and the migrations name every constraint alike; on
    PostgreSQL the tables it made are recorded at head (SQLite's wait for ``db upgrade``)."""
    eng, schema = engine
    async with AuthService(Settings.from_sources(overrides={
            **overrides, "AUTO_CREATE_DATABASE": True})):
        pass
    state = await migrations.check(eng, schema)
    stamped = migrations.head_revision() if eng.dialect.name == "postgresql" else None
    assert state.differences == () and state.current == stamped


async def test_an_applications_own_tables_are_left_alone(
        engine: tuple[AsyncEngine, str | None]) -> None:
    eng, schema = engine
    await migrations.upgrade(eng, schema)
    async with eng.begin() as conn:
        await conn.execute(sa.text("CREATE TABLE app_orders (id INTEGER PRIMARY KEY)"))
    assert (await migrations.check(eng, schema)).ok
    await migrations.downgrade(eng, schema, "base")
    assert await _tables(eng) == {"app_orders", "alembic_version"}


def test_own_column_types_are_written_as_the_type_they_store() -> None:
    class Wrapped(sa.types.TypeDecorator[str]):
        impl = sa.String
        cache_ok = True

    class WrappedJson(sa.types.TypeDecorator[Any]):
        impl = JsonType
        cache_ok = True

    context = SimpleNamespace(imports=set())
    assert migrations.render_item("type", Wrapped(320), context) == "sa.String(length=320)"
    assert migrations.render_item("type", WrappedJson(), context) == (
        'sa.JSON().with_variant(postgresql.JSONB(), "postgresql")')
    assert context.imports == {"from sqlalchemy.dialects import postgresql"}
    assert migrations.render_item("type", sa.Integer(), context) is False


def _row(table: sa.Table, n: int, given: dict[str, Any]) -> dict[str, Any]:
    """``given`` plus a plain value for every other required column (the table as it stood
    at the initial revision, so later column additions do not break this test)."""
    row = dict(given)
    for col in table.columns:
        if col.name in row or col.nullable or col.autoincrement is True and col.primary_key:
            continue
        kind = col.type.python_type if not isinstance(col.type, sa.JSON) else list
        row[col.name] = {str: f"{col.name}-{n}", bool: False, float: 1.0, int: 0,
                         bytes: b"", list: []}[kind]
    return row


async def test_upgrading_from_the_initial_revision_keeps_the_data(
        engine: tuple[AsyncEngine, str | None], overrides: dict[str, Any]) -> None:
    eng, schema = engine
    await migrations.upgrade(eng, schema, INITIAL)
    async with eng.begin() as conn:
        meta = sa.MetaData()
        await conn.run_sync(lambda c: meta.reflect(c, only=sorted(OURS)))
        users, roles = meta.tables["users"], meta.tables["roles"]
        for n in (1, 2):
            await conn.execute(users.insert().values(_row(users, n, {
                "id": f"u{n}", "username": f"User{n}", "username_canonical": f"user{n}",
                "is_active": True})))
        await conn.execute(roles.insert().values(_row(roles, 1, {"id": 900, "name": "Old"})))
        await conn.execute(meta.tables["user_roles"].insert().values(_row(
            meta.tables["user_roles"], 1, {"user_id": "u1", "role_id": 900,
                                           "scope": "org:acme"})))
        await conn.execute(meta.tables["sessions"].insert().values(_row(
            meta.tables["sessions"], 1, {"session_id": "s1", "user_id": "u2",
                                         "active": True, "etime": 2e9})))

    await migrations.upgrade(eng, schema)
    assert (await migrations.check(eng, schema)).ok
    async with AuthService(Settings.from_sources(overrides=overrides)) as svc:
        async with svc.transaction() as tx:
            names = set((await tx.scalars(sa.select(User.username))).all())
            grant = (await tx.execute(sa.select(UserRole.user_id, Role.name, UserRole.scope)
                                      .join(Role, Role.id == UserRole.role_id))).one()
            session = await tx.get(UserSession, "s1")
        assert names == {"User1", "User2"}
        assert tuple(grant) == ("u1", "Old", "org:acme")
        assert session is not None and session.user_id == "u2" and session.active


async def test_downgrade_base_removes_every_table(
        engine: tuple[AsyncEngine, str | None]) -> None:
    eng, schema = engine
    await migrations.upgrade(eng, schema)
    assert OURS <= await _tables(eng)
    await migrations.downgrade(eng, schema, "base")
    assert await _tables(eng) <= {"alembic_version"}
    assert await migrations.current(eng, schema) is None
    await migrations.upgrade(eng, schema)  # and up again
    assert (await migrations.check(eng, schema)).ok


def test_db_commands(overrides: dict[str, Any]) -> None:
    runner = build_app(overrides).test_cli_runner()

    def run(*args: str, ok: bool = True) -> str:
        result = runner.invoke(args=["authtuna", "db", *args])
        assert (result.exit_code == 0) is ok, result.output
        return str(result.output)

    head = migrations.head_revision()
    assert run("current") == f"current: none\nhead: {head}\n"
    assert "quart authtuna db upgrade" in run("check", ok=False)
    assert f"Database at revision {head}." in run("upgrade")
    assert run("current") == f"current: {head}\nhead: {head}\n"
    assert "OK: at head" in run("check")

    async def sql(statement: str) -> None:
        engine = make_engine(Settings.from_sources(overrides=overrides))
        async with engine.begin() as conn:
            await conn.execute(sa.text(statement))
        await engine.dispose()

    asyncio.run(sql("DROP INDEX ix_sessions_user_id"))  # the tables no longer equal the models
    out = run("check", ok=False)
    assert "ix_sessions_user_id" in out and "add a revision" in out, out
    asyncio.run(sql("CREATE INDEX ix_sessions_user_id ON sessions (user_id)"))
    assert "OK: at head" in run("check")
    assert "Database at revision" in run("upgrade")  # idempotent
    # the default roles are seeded, so the first admin can be made right away
    created = runner.invoke(args=["authtuna", "create-user", "--username", "root", "--email",
                                  "root@example.com", "--superadmin"])
    assert created.exit_code == 0, created.output
    scripts = ScriptDirectory.from_config(migrations.alembic_config())
    previous = scripts.get_revision(head).down_revision
    assert f"at revision {previous or 'base (no tables)'}." in run("downgrade", "-1")
    run("upgrade")
    assert "base (no tables)" in run("downgrade", "base")
    assert run("current").startswith("current: none")


def test_upgrade_adopts_tables_made_by_auto_create(overrides: dict[str, Any]) -> None:
    """A development database made by create_all (AUTO_CREATE_DATABASE on SQLite, or on any
    database before it recorded the head) moves to migrations in one step."""
    runner = build_app(overrides).test_cli_runner()

    async def create() -> None:
        svc = AuthService(Settings.from_sources(overrides=overrides))
        svc.db.open()
        try:
            await svc.create_all()
        finally:
            await svc.db.close()

    asyncio.run(create())
    result = runner.invoke(args=["authtuna", "db", "upgrade"])
    assert result.exit_code == 0 and "recorded as head" in result.output, result.output
    assert "OK" in runner.invoke(args=["authtuna", "db", "check"]).output


def test_env_py_alone_migrates_the_database_the_environment_configures(
        overrides: dict[str, Any], monkeypatch: pytest.MonkeyPatch) -> None:
    """Plain Alembic (no connection passed) builds the engine from AUTHTUNA_* itself."""
    from alembic import command

    for key in ("DEFAULT_DATABASE_URI", "DATABASE_SCHEMA"):
        if key in overrides:
            monkeypatch.setenv(f"AUTHTUNA_{key}", overrides[key])
    command.upgrade(migrations.alembic_config(), "head")

    async def state() -> migrations.SchemaCheck:
        engine = make_engine(Settings.from_sources(overrides=overrides))
        try:
            return await migrations.check(engine, overrides.get("DATABASE_SCHEMA"))
        finally:
            await engine.dispose()

    assert asyncio.run(state()).ok


async def test_a_batch_rebuild_of_a_parent_table_keeps_its_children(
        engine: tuple[AsyncEngine, str | None]) -> None:
    """SQLite batch mode drops and recreates a table; the children of ``users`` survive it."""
    from alembic.operations import Operations
    from alembic.runtime.migration import MigrationContext

    eng, schema = engine
    await migrations.upgrade(eng, schema)
    async with eng.begin() as conn:
        meta = sa.MetaData()
        await conn.run_sync(lambda c: meta.reflect(c, only=["users", "sessions"]))
        users, sessions = meta.tables["users"], meta.tables["sessions"]
        await conn.execute(users.insert().values(_row(users, 1, {"id": "u1"})))
        await conn.execute(sessions.insert().values(_row(sessions, 1, {
            "session_id": "s1", "user_id": "u1"})))

    def rebuild(conn: sa.Connection) -> None:
        ops = Operations(MigrationContext.configure(conn))
        recreate = "always" if conn.dialect.name == "sqlite" else "auto"
        with ops.batch_alter_table("users", recreate=recreate) as batch:
            batch.add_column(sa.Column("nickname", sa.String(20), nullable=True))

    await migrations.on_connection(eng, schema, rebuild)
    async with eng.connect() as conn:
        assert (await conn.execute(sa.text("SELECT user_id FROM sessions"))).all() == [("u1",)]
        if conn.dialect.name == "sqlite":  # and the service's connections enforce keys again
            assert (await conn.exec_driver_sql("PRAGMA foreign_keys")).scalar() == 1

"""AUTO_CREATE_DATABASE is for SQLite development: unset, startup creates tables on SQLite only;
on PostgreSQL the migrations do (``quart authtuna db upgrade``) and a database without tables
is refused with that advice; asked for explicitly on PostgreSQL it warns and records the
migrations' head, and production refuses it (core/db/schema_setup.py)."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from cryptography.fernet import Fernet
from quart import Quart
from quart.testing.app import LifespanError
from sqlalchemy import inspect

from quart_authtuna import AuthTuna
from quart_authtuna.core import AuthService, Settings
from quart_authtuna.core.db import migrations
from quart_authtuna.core.db.schema_setup import creates_tables
from quart_authtuna.core.errors import ConfigurationError, DatabaseUnavailable
from tests._support.databases import (
    database_overrides,
    in_ci,
    postgres_url,
    upgrade_database,
)
from tests._support.smtp import free_port
from tests.conftest import PASSWORD, TEST_SETTINGS

PG = "postgresql+asyncpg://app:pw@db.example/app"
SQLITE = "sqlite+aiosqlite:///./dev.db"
UPGRADE = "quart authtuna db upgrade"
PRODUCTION = {"PRODUCTION": True, "JWT_SECRET_KEY": "prod-jwt-" + "J" * 40,
              "ENCRYPTION_PRIMARY_KEY": "prod-enc-" + "E" * 40,
              "FERNET_KEYS": [Fernet.generate_key().decode()],
              "PASSWORD_PEPPER": "prod-pepper-" + "P" * 40,
              "API_BASE_URL": "https://auth.example.com"}


@pytest.fixture(name="pg")
def _pg() -> Iterator[None]:
    if postgres_url() is None:
        if in_ci():
            pytest.fail("CI must run the PostgreSQL leg")
        pytest.skip("needs PostgreSQL (AUTHTUNA_TEST_DATABASE_URL)")
    yield


async def _tables(svc: AuthService) -> set[str]:
    async with svc.engine.connect() as conn:
        return set(await conn.run_sync(lambda sync: inspect(sync).get_table_names()))


@pytest.mark.parametrize(("raw", "url", "creates"), [
    (None, SQLITE, True), (None, PG, False), ("auto", PG, False), ("", SQLITE, True),
    ("true", PG, True), ("false", SQLITE, False), (True, SQLITE, True), ("off", PG, False)])
def test_unset_means_sqlite_only_and_true_or_false_still_decide(
        raw: Any, url: str, creates: bool) -> None:
    settings = Settings.from_sources(environ={"AUTHTUNA_DEFAULT_DATABASE_URI": url,
                                              **({} if raw is None else {
                                                  "AUTHTUNA_AUTO_CREATE_DATABASE": raw})})
    assert creates_tables(settings) is creates


def test_production_refuses_it_on_postgresql_and_names_db_upgrade() -> None:
    with pytest.raises(ConfigurationError, match=UPGRADE) as refused:
        Settings.from_sources(overrides={**PRODUCTION, "DEFAULT_DATABASE_URI": PG,
                                         "AUTO_CREATE_DATABASE": True}).checked()
    assert refused.value.problems == [
        "AUTHTUNA_AUTO_CREATE_DATABASE must be unset in production (SQLite development "
        "only): run `quart authtuna db upgrade` at each deploy"]
    for allowed in ({"DEFAULT_DATABASE_URI": PG},
                    {"DEFAULT_DATABASE_URI": PG, "AUTO_CREATE_DATABASE": False},
                    {"DEFAULT_DATABASE_URI": SQLITE, "AUTO_CREATE_DATABASE": True}):
        Settings.from_sources(overrides={**PRODUCTION, **allowed}).checked()


async def test_a_database_without_tables_is_refused_at_startup_with_the_fix(
        backend: str, tmp_path: Path) -> None:
    async with database_overrides(backend, tmp_path) as db:
        unset = {**TEST_SETTINGS, **db, "AUTO_CREATE_DATABASE": None}  # PostgreSQL: no tables
        if backend == "sqlite":
            unset["AUTO_CREATE_DATABASE"] = False  # SQLite creates them unless told not to
        svc = AuthService(Settings.from_sources(overrides=unset))
        with pytest.raises(ConfigurationError, match=UPGRADE):
            await svc.start()
        app = Quart(__name__)
        app.config.update({f"AUTHTUNA_{k}": v for k, v in unset.items() if v is not None})
        AuthTuna(app)
        with pytest.raises(LifespanError, match=UPGRADE):  # the server does not start
            async with app.test_app():
                pass
        probe = AuthService(Settings.from_sources(overrides=unset))
        probe.db.open()
        try:
            assert await _tables(probe) == set()  # nothing was created behind our back
        finally:
            await probe.db.close()

        await upgrade_database(unset)  # the fix the message names
        async with AuthService(Settings.from_sources(overrides=unset)) as migrated:
            user = await migrated.users.create("pat@example.com", "pat", PASSWORD)
            assert await migrated.users.get_by_email("pat@example.com") is not None
            assert user.id


async def test_an_unreachable_database_is_not_refused_at_startup() -> None:
    dead = f"postgresql+asyncpg://postgres@127.0.0.1:{free_port()}/test"
    svc = AuthService(Settings.from_sources(overrides={
        **TEST_SETTINGS, "DEFAULT_DATABASE_URI": dead, "DATABASE_CONNECT_TIMEOUT": 1.0,
        "REVOCATION_BROADCASTER": "local"}))
    await svc.start()  # requests answer 503 until it is back (test_outages.py)
    try:
        assert svc.db.started  # started, not refused
        with pytest.raises(DatabaseUnavailable):  # and the database is really not there
            await svc.users.get_by_username("pat")
    finally:
        await svc.close()


async def test_asked_for_on_postgresql_it_warns_creates_and_records_the_head(
        pg: None, tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    async with database_overrides("postgresql", tmp_path) as db:
        settings = Settings.from_sources(overrides={**TEST_SETTINGS, **db})
        assert settings.auto_create_database is True
        caplog.set_level(logging.WARNING, "quart_authtuna")
        for _ in range(2):  # a restart finds the head recorded and keeps it
            async with AuthService(settings) as svc:
                state = await migrations.check(svc.engine, settings.database_schema)
                assert state.ok, state  # so `db upgrade` applies the next revisions later
                assert await svc.roles.get_by_name("Admin") is not None  # seeded
        warned = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING
                  and "AUTO_CREATE_DATABASE" in r.getMessage()]
        assert len(warned) == 2 and UPGRADE in warned[0]

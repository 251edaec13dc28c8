"""``quart authtuna db ...``: apply, undo and check the shipped Alembic migrations on the
app's configured database (DATABASE_SCHEMA included)."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, TypeVar

import click
from quart.cli import ScriptInfo

from .core.service import AuthService

if TYPE_CHECKING:  # Alembic (and Mako) load only when a db command runs
    from .core.db.migrations import SchemaCheck

T = TypeVar("T")


def _run(work: Callable[[AuthService], Awaitable[T]]) -> T:
    """Run ``work`` with the app's engine open but the service not started (starting creates
    tables with AUTO_CREATE_DATABASE, and refuses a database that has none)."""
    app = click.get_current_context().ensure_object(ScriptInfo).load_app()
    service: AuthService = app.extensions["authtuna"].service

    async def main() -> T:
        service.db.open()
        try:
            return await work(service)
        finally:
            await service.db.close()

    return asyncio.run(main())


@click.group("db")
def db() -> None:
    """Schema migrations (Alembic, shipped with the package)."""


@db.command("upgrade")
@click.argument("revision", default="head")
def upgrade(revision: str) -> None:
    """Migrate the database up to REVISION (default: head), then seed the default roles."""
    from .core.db import migrations

    async def work(svc: AuthService) -> str:
        schema = svc.settings.database_schema
        state = await migrations.check(svc.engine, schema)
        if revision == "head" and state.current is None and not state.differences:
            # Tables made by AUTO_CREATE_DATABASE from these very models: adopt them.
            await migrations.stamp(svc.engine, schema, "head")
            note = " (existing tables match the models; recorded as head)"
        else:
            await migrations.upgrade(svc.engine, schema, revision)
            note = ""
        now = await migrations.current(svc.engine, schema)
        if now == migrations.head_revision():
            await svc.provision_defaults()
        return f"Database at revision {now}{note}."

    click.echo(_run(work))


@db.command("downgrade", context_settings={"ignore_unknown_options": True})  # -1
@click.argument("revision")
def downgrade(revision: str) -> None:
    """Undo migrations down to REVISION: an id, -N for N steps, or ``base`` (drops every
    quart-authtuna table)."""
    from .core.db import migrations

    async def work(svc: AuthService) -> str | None:
        await migrations.downgrade(svc.engine, svc.settings.database_schema, revision)
        return await migrations.current(svc.engine, svc.settings.database_schema)

    click.echo(f"Database at revision {_run(work) or 'base (no tables)'}.")


@db.command("current")
def current() -> None:
    """Print the revision the database is at, and the newest one shipped."""
    from .core.db import migrations

    async def work(svc: AuthService) -> str | None:
        return await migrations.current(svc.engine, svc.settings.database_schema)

    click.echo(f"current: {_run(work) or 'none'}\nhead: {migrations.head_revision()}")


@db.command("check")
def check() -> None:
    """Fail unless the database is at head and its tables equal the models."""
    from .core.db import migrations

    async def work(svc: AuthService) -> SchemaCheck:
        return await migrations.check(svc.engine, svc.settings.database_schema)

    state = _run(work)
    if state.ok:
        click.echo(f"OK: at head {state.head}; the tables equal the models.")
        return
    lines = [f"current: {state.current or 'none'}, head: {state.head}"]
    lines += [f"  {diff}" for diff in state.differences]
    if state.current == state.head and state.differences:
        lines.append("The models differ from the migrations: add a revision "
                     "(python tools/migrations.py revision -m '...', docs/deployment.md).")
    elif state.current != state.head:
        lines.append("Run: quart authtuna db upgrade")
    raise click.ClickException("\n".join(lines))

"""``quart authtuna ...`` commands: create users (the first admin), assign roles."""

from __future__ import annotations

import asyncio
import secrets
from collections.abc import Awaitable, Callable
from typing import Any

import click
from quart.cli import ScriptInfo

from .core.service import AuthService


def _run(work: Callable[[AuthService], Awaitable[Any]]) -> Any:
    """Run ``work`` with the app's started service (Quart's with_appcontext would already
    hold the event loop, so the app is loaded here and the loop is ours)."""
    app = click.get_current_context().ensure_object(ScriptInfo).load_app()
    service: AuthService = app.extensions["authtuna"].service

    async def main() -> Any:
        async with app.app_context():
            await service.start()
            try:
                return await work(service)
            finally:
                await service.close()

    return asyncio.run(main())


@click.group("authtuna")
def cli() -> None:
    """Manage quart-authtuna users and roles."""


@cli.command("create-user")
@click.option("--username", prompt=True)
@click.option("--email", prompt=True)
@click.option("--password", default=None, help="Omit to generate a strong one-time password.")
@click.option("--superadmin", is_flag=True, help="Give the SuperAdmin role (global).")
@click.option("--admin", is_flag=True, help="Give the Admin role (global).")
def create_user(username: str, email: str, password: str | None, superadmin: bool,
                admin: bool) -> None:
    """Create a verified user; prints the password when it was generated."""
    generated = password is None
    password = password or secrets.token_urlsafe(18)

    async def work(svc: AuthService) -> str:
        user = await svc.users.create(email, username, password, email_verified=True)
        for role, wanted in (("SuperAdmin", superadmin), ("Admin", admin)):
            if wanted:
                await svc.roles.assign_to_user(user.id, role, "system", scope="global")
        return user.id

    user_id = _run(work)
    click.echo(f"Created user {username} ({user_id}).")
    if generated:
        click.echo(f"One-time password: {password}\nSign in and change it right away.")


@cli.command("assign-role")
@click.argument("username")
@click.argument("role")
@click.option("--scope", default="global", show_default=True)
def assign_role(username: str, role: str, scope: str) -> None:
    """Give ROLE to USERNAME in SCOPE (as the system)."""

    async def work(svc: AuthService) -> None:
        user = await svc.users.get_by_username(username)
        if user is None:
            raise click.ClickException(f"No user named {username!r}.")
        await svc.roles.assign_to_user(user.id, role, "system", scope=scope)

    _run(work)
    click.echo(f"{username} now holds {role} in {scope}.")

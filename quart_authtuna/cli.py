"""``quart authtuna ...`` commands: create users (the first admin), roles, suspension,
sessions. Every change runs the admin flows as the system actor, so it is audited."""

from __future__ import annotations

import asyncio
import os
import secrets
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import click
from quart.cli import ScriptInfo

from .core.admin_queries import UserPage, UserQuery
from .core.cleanup import CleanupReport
from .core.dev_secrets import fresh_secrets
from .core.errors import AuthTunaError
from .core.service import AuthService
from .core.types import SYSTEM_ACTOR, RequestMeta
from .db_cli import db


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
            except AuthTunaError as exc:
                raise click.ClickException(exc.message) from None
            finally:
                await service.close()

    return asyncio.run(main())


@click.group("authtuna")
def cli() -> None:
    """Manage quart-authtuna users and roles."""


cli.add_command(db)


ENV_TEMPLATE = """\
# quart-authtuna settings, written by `quart authtuna init`.
# Keep this file private (mode 0600) and out of version control. The `quart` command reads
# .env when python-dotenv is installed; elsewhere load it yourself (`set -a; . ./.env`,
# systemd EnvironmentFile=, docker --env-file). Every setting: docs/settings.md.

# ---- Secrets: fresh random values made for this file ------------------------------------
# Signs session cookies. Rotate: move the old value to AUTHTUNA_JWT_FALLBACK_SECRET_KEYS.
AUTHTUNA_JWT_SECRET_KEY={JWT_SECRET_KEY}
# Signs CSRF tokens. Rotate: move the old value to AUTHTUNA_ENCRYPTION_SECONDARY_KEYS.
AUTHTUNA_ENCRYPTION_PRIMARY_KEY={ENCRYPTION_PRIMARY_KEY}
# Encrypts cookie payloads and TOTP secrets; comma-separated, the first encrypts.
# Rotate: put a new key first and keep the old ones after it.
AUTHTUNA_FERNET_KEYS={FERNET_KEYS}
# Keys every password hash. Never change or lose it: no stored password would verify.
AUTHTUNA_PASSWORD_PEPPER={PASSWORD_PEPPER}

# ---- Decide before deploying (uncomment and fill in) ------------------------------------
# Refuse to start with missing or weak secrets, Secure cookies, https base URL.
# AUTHTUNA_PRODUCTION=true
# The public address of the app: links in mails and the passkey origin follow it.
# AUTHTUNA_API_BASE_URL=https://app.example.com
# AUTHTUNA_APP_NAME=My app
# PostgreSQL for anything with more than one process (default: SQLite ./authtuna_dev.db).
# Its tables come from `quart authtuna db upgrade`, run at each deploy (SQLite: at startup).
# AUTHTUNA_DEFAULT_DATABASE_URI=postgresql+asyncpg://app:password@127.0.0.1:5432/app
# Proxies (IPs or CIDRs) whose X-Forwarded-For is believed; empty: the TCP peer is the client.
# AUTHTUNA_TRUSTED_PROXIES=127.0.0.1
# Mail: off means nothing is sent (development prints each mail to the console).
# AUTHTUNA_EMAIL_ENABLED=true
# AUTHTUNA_SMTP_HOST=smtp.example.com
# AUTHTUNA_SMTP_PORT=587
# AUTHTUNA_SMTP_USERNAME=
# AUTHTUNA_SMTP_PASSWORD=
# AUTHTUNA_DEFAULT_SENDER_EMAIL=noreply@example.com
# Who may sign up (comma-separated domains; * is anyone) and whether email must be verified.
# AUTHTUNA_EMAIL_DOMAINS=*
# AUTHTUNA_REQUIRE_EMAIL_VERIFICATION=true
# Roles whose holders must turn on two-factor sign-in.
# AUTHTUNA_MFA_REQUIRED_ROLES=SuperAdmin,Admin
"""


@cli.command("init")
@click.option("--output", "-o", default=".env", show_default=True, type=click.Path(
    dir_okay=False, path_type=Path), help="File to write.")
@click.option("--force", is_flag=True, help="Overwrite an existing file.")
def init(output: Path, force: bool) -> None:
    """Write a commented .env with fresh secrets and the settings a deployment decides."""
    if output.exists() and not force:
        raise click.ClickException(f"{output} exists; pass --force to overwrite it.")
    output.unlink(missing_ok=True)
    fd = os.open(output, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as out:
        out.write(ENV_TEMPLATE.format(**fresh_secrets()))
    click.echo(f"Wrote {output} (mode 0600) with fresh secrets; fill in the deployment part.")


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


async def _user_id(svc: AuthService, username: str) -> str:
    user = await svc.users.get_by_username(username)
    if user is None:
        raise click.ClickException(f"No user named {username!r}.")
    return user.id


@cli.command("list-users")
@click.option("--search", "q", default="", help="Start of a username or email address.")
@click.option("--role", default=None)
@click.option("--scope", default=None)
@click.option("--suspended", is_flag=True, help="Only suspended accounts.")
@click.option("--limit", default=50, show_default=True)
def list_users(q: str, role: str | None, scope: str | None, suspended: bool,
               limit: int) -> None:
    """List users (newest first): username, email, state and roles."""

    async def work(svc: AuthService) -> UserPage:
        return await svc.admin_queries.search_users(UserQuery(
            q=q, role=role, scope=scope, is_active=False if suspended else None,
            limit=limit))

    page = _run(work)
    for row in page.rows:
        state = "active" if row.user.is_active else "suspended"
        roles = ", ".join(f"{name}@{at}" for name, at in row.roles) or "-"
        click.echo(f"{row.user.username}\t{row.user.email}\t{state}\t{roles}")
    if not page.rows:
        click.echo("No users match.")


@cli.command("suspend")
@click.argument("username")
@click.option("--reason", default="", help="Kept in the audit log.")
def suspend(username: str, reason: str) -> None:
    """Suspend USERNAME and end every one of its sessions (as the system)."""

    async def work(svc: AuthService) -> None:
        await svc.flows.admin_users.set_active(SYSTEM_ACTOR, await _user_id(svc, username),
                                               False, reason)

    _run(work)
    click.echo(f"{username} is suspended and signed out everywhere.")


@cli.command("unsuspend")
@click.argument("username")
@click.option("--reason", default="")
def unsuspend(username: str, reason: str) -> None:
    """Make USERNAME active again (as the system)."""

    async def work(svc: AuthService) -> None:
        await svc.flows.admin_users.set_active(SYSTEM_ACTOR, await _user_id(svc, username),
                                               True, reason)

    _run(work)
    click.echo(f"{username} is active again.")


@cli.command("revoke-role")
@click.argument("username")
@click.argument("role")
@click.option("--scope", default="global", show_default=True)
def revoke_role(username: str, role: str, scope: str) -> None:
    """Take ROLE in SCOPE away from USERNAME (as the system)."""

    async def work(svc: AuthService) -> None:
        await svc.flows.admin_users.revoke_role(SYSTEM_ACTOR, await _user_id(svc, username),
                                                role, scope)

    _run(work)
    click.echo(f"{username} no longer holds {role} in {scope}.")


@cli.command("end-sessions")
@click.argument("username")
def end_sessions(username: str) -> None:
    """End every session of USERNAME (as the system)."""

    async def work(svc: AuthService) -> int:
        done = await svc.flows.admin_users.end_all_sessions(SYSTEM_ACTOR,
                                                            await _user_id(svc, username))
        return done.count

    click.echo(f"Ended {_run(work)} session(s) of {username}.")


@cli.command("erase-user")
@click.argument("username")
@click.confirmation_option(prompt="Erase this account for good (GDPR)?")
def erase_user(username: str) -> None:
    """Erase USERNAME (GDPR): the admin page's erase, as the system."""

    async def work(svc: AuthService) -> None:
        await svc.flows.account_deletion.erase(SYSTEM_ACTOR, await _user_id(svc, username),
                                               RequestMeta())

    _run(work)
    click.echo(f"Erased {username}: sessions and keys ended, data key shredded.")


@cli.command("rewrap-keys")
def rewrap_keys() -> None:
    """After prepending a new FERNET_KEY: re-wrap every user's PII data key under it."""
    click.echo(f"Re-wrapped {_run(lambda svc: svc.rewrap_pii_keys())} data key(s).")


@cli.command("cleanup")
def cleanup() -> None:
    """Remove expired sessions, tokens, sign-ups, challenges and throttle counters, and audit
    rows older than AUDIT_RETENTION_DAYS (in small batches; safe while serving)."""

    async def work(svc: AuthService) -> CleanupReport:
        return await svc.cleanup.run()

    report = _run(work)
    for table, count in report.removed.items():
        click.echo(f"{table}\t{count}")
    click.echo(f"Removed {report.total} row(s).")

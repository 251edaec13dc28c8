"""``quart authtuna ...``: the first admin is made from the command line, never by default."""

from __future__ import annotations

import asyncio
from pathlib import Path

from quart_authtuna.core import AuthService, Settings
from tests.conftest import PASSWORD, TEST_SETTINGS
from tests.integration.conftest import build_app


def test_create_superadmin_and_assign_role(tmp_path: Path) -> None:
    settings = {**TEST_SETTINGS, "DEFAULT_DATABASE_URI": f"sqlite+aiosqlite:///{tmp_path}/c.db"}
    runner = build_app(settings).test_cli_runner()
    result = runner.invoke(args=["authtuna", "create-user", "--username", "root",
                                 "--email", "root@example.com", "--superadmin"])
    assert result.exit_code == 0, result.output
    password = result.output.split("One-time password: ")[1].split()[0]
    assert len(password) >= 20
    result = runner.invoke(args=["authtuna", "assign-role", "root", "OrgOwner",
                                 "--scope", "org:acme"])
    assert result.exit_code == 0, result.output
    missing = runner.invoke(args=["authtuna", "assign-role", "nobody", "User"])
    assert missing.exit_code != 0 and "No user named" in missing.output

    async def check() -> None:
        async with AuthService(Settings.from_sources(overrides=settings)) as svc:
            user, _ = await svc.login("root", password)
            assert await svc.rbac.has_role(user.id, "SuperAdmin")
            assert await svc.rbac.has_role(user.id, "OrgOwner", "org:acme/team:x")

    asyncio.run(check())


def test_list_suspend_unsuspend_revoke_and_end_sessions_as_the_system(tmp_path: Path) -> None:
    settings = {**TEST_SETTINGS, "DEFAULT_DATABASE_URI": f"sqlite+aiosqlite:///{tmp_path}/c.db"}
    runner = build_app(settings).test_cli_runner()

    def run(*args: str) -> str:
        result = runner.invoke(args=["authtuna", *args])
        assert result.exit_code == 0, result.output
        return str(result.output)

    run("create-user", "--username", "carol", "--email", "carol@example.com",
        "--password", "correct horse battery staple")
    run("assign-role", "carol", "OrgOwner", "--scope", "org:acme")
    assert "carol\tcarol@example.com\tactive" in run("list-users", "--search", "car")
    assert "OrgOwner@org:acme" in run("list-users", "--role", "OrgOwner")

    async def sign_in() -> None:
        async with AuthService(Settings.from_sources(overrides=settings)) as svc:
            await svc.login("carol", "correct horse battery staple")

    asyncio.run(sign_in())
    assert "Ended 1 session(s)" in run("end-sessions", "carol")
    assert "no longer holds OrgOwner" in run("revoke-role", "carol", "OrgOwner", "--scope",
                                             "org:acme")
    assert "suspended" in run("suspend", "carol", "--reason", "abuse")
    assert "carol" in run("list-users", "--suspended")
    assert "active again" in run("unsuspend", "carol")
    missing = runner.invoke(args=["authtuna", "revoke-role", "carol", "OrgOwner"])
    assert missing.exit_code != 0 and "does not hold" in missing.output

    async def check() -> None:
        async with AuthService(Settings.from_sources(overrides=settings)) as svc:
            user = await svc.users.get_by_username("carol")
            assert user is not None and user.is_active
            kinds = {(e.event_type, e.actor_id)
                     for e in await svc.audit.get_events_for_user(user.id)}
            assert {("USER_SUSPENDED", "system"), ("USER_UNSUSPENDED", "system"),
                    ("ROLE_REMOVED", "system"), ("SESSIONS_TERMINATED_ALL", "system")} <= kinds

    asyncio.run(check())


def test_erase_user_and_rewrap_keys_in_pii_mode(tmp_path: Path) -> None:
    from cryptography.fernet import Fernet

    old = {**TEST_SETTINGS, "DEFAULT_DATABASE_URI": f"sqlite+aiosqlite:///{tmp_path}/c.db",
           "PII_ENCRYPTION_ENABLED": True, "PII_HMAC_KEY": "h" * 48}
    runner = build_app(old).test_cli_runner()
    for name in ("dora", "eve"):
        created = runner.invoke(args=["authtuna", "create-user", "--username", name, "--email",
                                      f"{name}@example.com", "--password", PASSWORD])
        assert created.exit_code == 0, created.output
    erased = runner.invoke(args=["authtuna", "erase-user", "dora", "--yes"])
    assert erased.exit_code == 0 and "data key shredded" in erased.output
    new_key = Fernet.generate_key().decode()
    rotated = {**old, "FERNET_KEYS": [new_key, *old["FERNET_KEYS"]]}
    rewrapped = build_app(rotated).test_cli_runner().invoke(args=["authtuna", "rewrap-keys"])
    assert rewrapped.exit_code == 0 and "Re-wrapped" in rewrapped.output

    async def check() -> None:
        only_new = {**old, "FERNET_KEYS": [new_key]}
        async with AuthService(Settings.from_sources(overrides=only_new)) as svc:
            assert await svc.users.get_by_username("dora") is None
            eve = await svc.users.get_by_email("EVE@example.com")
            assert eve is not None and eve.email == "eve@example.com"

    asyncio.run(check())

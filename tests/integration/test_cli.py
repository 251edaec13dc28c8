"""``quart authtuna ...``: the first admin is made from the command line, never by default."""

from __future__ import annotations

import asyncio
from pathlib import Path

from quart_authtuna.core import AuthService, Settings
from tests.conftest import TEST_SETTINGS
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

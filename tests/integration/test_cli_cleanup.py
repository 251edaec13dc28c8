"""``quart authtuna cleanup`` prunes what has expired and says how much."""

from __future__ import annotations

import asyncio
from pathlib import Path

from sqlalchemy import func, select

from quart_authtuna.core import AuthService, Settings
from quart_authtuna.core.db.models import UserSession
from tests.conftest import TEST_SETTINGS
from tests.integration.conftest import build_app


def test_cleanup_command_removes_ended_sessions(tmp_path: Path) -> None:
    settings = {**TEST_SETTINGS, "DEFAULT_DATABASE_URI": f"sqlite+aiosqlite:///{tmp_path}/c.db"}
    runner = build_app(settings).test_cli_runner()
    created = runner.invoke(args=["authtuna", "create-user", "--username", "dora", "--email",
                                  "dora@example.com", "--password", "correct horse battery"])
    assert created.exit_code == 0, created.output

    async def sign_in_and_out() -> None:
        async with AuthService(Settings.from_sources(overrides=settings)) as svc:
            user, issued = await svc.login("dora", "correct horse battery")
            await svc.sessions.terminate(issued.session_id)
            await svc.login("dora", "correct horse battery")  # this one stays

    asyncio.run(sign_in_and_out())
    result = runner.invoke(args=["authtuna", "cleanup"])
    assert result.exit_code == 0, result.output
    assert "user_sessions\t1" in result.output
    assert "Removed " in result.output

    async def sessions_left() -> int:
        async with AuthService(Settings.from_sources(overrides=settings)) as svc:
            async with svc.transaction() as tx:
                return int(await tx.scalar(select(func.count()).select_from(UserSession)) or 0)

    assert asyncio.run(sessions_left()) == 1

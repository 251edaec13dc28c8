"""Two real server processes (the ``hypercorn`` command, one port each) on one database: a
sign-out in one is refused by the other within a second, although the other's verification
interval is a minute. On PostgreSQL (LISTEN/NOTIFY) and over Redis pub/sub."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path
from typing import Any

import pytest

from quart_authtuna.core import AuthService, Settings
from tests._support.brokers import redis_url_or_skip
from tests._support.databases import database_overrides
from tests._support.workers import request, serving_processes
from tests.conftest import PASSWORD, TEST_SETTINGS

INTERVAL = 60


@pytest.fixture(params=["postgres", "redis"])
def broker(request: pytest.FixtureRequest, backend: str) -> str:
    if request.param == "postgres" and backend != "postgresql":
        pytest.skip("LISTEN/NOTIFY needs the PostgreSQL leg")
    return str(request.param)


async def test_logout_in_one_process_is_refused_by_the_other_within_a_second(
        backend: str, broker: str, tmp_path: Path) -> None:
    extra: dict[str, Any] = {"REVOCATION_BROADCASTER": broker, "SESSION_SECURE": False,
                             "SESSION_DB_VERIFICATION_INTERVAL": INTERVAL}
    if broker == "redis":
        extra["REDIS_URL"] = await redis_url_or_skip()
    async with database_overrides(backend, tmp_path) as db:
        config = {**TEST_SETTINGS, **db, **extra}
        async with AuthService(Settings.from_sources(overrides=config)) as svc:
            await svc.users.create("pat@example.com", "pat", PASSWORD, email_verified=True)
        with serving_processes(config, servers=2) as processes:
            one, other = processes.ports
            login = await request(one, "POST", "/auth/login", json_body={
                "username_or_email": "pat", "password": PASSWORD})
            assert login.status == 200, login.body
            cookie = login.cookies["session_token"]
            seen = await request(other, "GET", "/protected", cookie=cookie)
            assert seen.status == 200 and seen.worker != login.worker
            cookie = seen.cookies.get("session_token") or cookie

            out = await request(one, "POST", "/auth/logout", cookie=cookie, json_body={})
            assert out.status == 200, out.body
            start = time.monotonic()
            while (answer := await request(other, "GET", "/protected", cookie=cookie)
                   ).status == 200:
                assert time.monotonic() - start < 1.0, "still signed in after 1 s"
                await asyncio.sleep(0.01)
            elapsed = time.monotonic() - start
            assert answer.status == 401 and answer.worker == seen.worker
            print(f"refused by the other process after {elapsed * 1000:.0f} ms")

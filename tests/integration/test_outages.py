"""The database goes away: signed-in requests answer 503 with Retry-After (never 500, never
as if anonymous), pages that need no database still render, and service comes back by
itself. A full pool answers 503 after DATABASE_POOL_TIMEOUT instead of hanging.

The outage is real: a TCP proxy (tests/_support/tcp_proxy.py) sits between the app and the
real PostgreSQL and is cut (connections refused, or accepted and never answered).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from typing import Any

import pytest
from quart.typing import TestAppProtocol as AppUnderTest
from sqlalchemy import text
from sqlalchemy.engine import make_url

from quart_authtuna.core import AuthService
from tests._support.clock import FakeClock
from tests._support.databases import in_ci, postgres_url
from tests._support.tcp_proxy import TcpProxy
from tests._support.web import ORIGIN, submit
from tests.conftest import PASSWORD
from tests.integration.conftest import build_app

JSON = {"Accept": "application/json"}
INTERVAL = 10.0


@pytest.fixture(name="pg_url")
def _pg_url() -> str:
    url = postgres_url()
    if url is None:
        if in_ci():
            pytest.fail("CI must run the outage tests on PostgreSQL")
        pytest.skip("outage tests need PostgreSQL (AUTHTUNA_TEST_DATABASE_URL)")
    return url


@pytest.fixture(name="proxy")
async def _proxy(pg_url: str) -> AsyncIterator[TcpProxy]:
    url = make_url(pg_url)
    proxy = await TcpProxy(url.host or "127.0.0.1", url.port or 5432).start()
    try:
        yield proxy
    finally:
        await proxy.close()


@pytest.fixture(name="outage_app")
async def _outage_app(pg_url: str, proxy: TcpProxy, clock: FakeClock,
                      app_settings: dict[str, Any]) -> AsyncIterator[AppUnderTest]:
    url = make_url(pg_url).set(port=proxy.port).render_as_string(hide_password=False)
    schema = f"authtuna_outage_{int(time.time() * 1000) % 10**9}"
    app = build_app({**app_settings, "DEFAULT_DATABASE_URI": url, "DATABASE_SCHEMA": schema,
                     "AUTO_CREATE_DATABASE": True,
                     "DATABASE_CONNECT_TIMEOUT": 1.0, "DATABASE_POOL_TIMEOUT": 1,
                     "DATABASE_POOL_SIZE": 2, "DATABASE_MAX_OVERFLOW": 0})
    service: AuthService = app.extensions["authtuna"].service
    service.clock = clock
    try:
        async with app.test_app() as test_app:
            yield test_app
    finally:
        await proxy.restore()
        from sqlalchemy.ext.asyncio import create_async_engine

        engine = create_async_engine(pg_url)
        async with engine.begin() as conn:
            await conn.execute(text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
        await engine.dispose()


async def signed_in(test_app: AppUnderTest, face: str) -> Any:
    service: AuthService = test_app.app.extensions["authtuna"].service  # type: ignore[attr-defined]
    await service.users.create("olive@example.com", "olive", PASSWORD, email_verified=True)
    client = test_app.test_client()
    response = await submit(client, "/auth/login",
                            {"username_or_email": "olive", "password": PASSWORD}, face=face)
    assert response.status_code in (200, 302)
    assert (await client.get("/protected", headers=JSON)).status_code == 200
    return client


def assert_unavailable(response: Any) -> None:
    assert response.status_code == 503
    assert response.headers["Retry-After"] == "5"
    assert "session_token" not in response.headers.get("Set-Cookie", "")


@pytest.mark.parametrize("mode", ["refuse", "blackhole"])
async def test_signed_in_requests_answer_503_while_the_database_is_down_then_recover(
        outage_app: AppUnderTest, proxy: TcpProxy, clock: FakeClock, face: str,
        mode: str) -> None:
    client = await signed_in(outage_app, face)
    headers = JSON if face == "json" else {}
    await proxy.cut(mode)  # type: ignore[arg-type]
    assert (await client.get("/protected", headers=headers)).status_code == 200  # cached
    clock.advance(INTERVAL + 1)  # the session must be checked against the database now

    started = time.perf_counter()
    response = await client.get("/protected", headers=headers)
    waited = time.perf_counter() - started
    assert_unavailable(response)
    assert waited < 5, f"503 after {waited:.1f}s"
    body = await response.get_data(as_text=True)
    if face == "json":
        assert (await response.get_json())["errors"][0]["code"] == "unavailable"
    else:
        assert "Temporarily unavailable" in body and "olive" not in body

    assert_unavailable(await client.get("/projects/p1", headers=headers))  # permission guard
    assert_unavailable(await client.post("/auth/logout", headers={**headers,
                                                                   "Origin": ORIGIN}))
    assert (await client.get("/bare")).status_code == 200  # asks nobody's identity

    stranger = outage_app.test_client()
    assert (await stranger.get("/bare")).status_code == 200
    assert (await stranger.get("/protected", headers=JSON)).status_code == 401  # anonymous
    assert (await stranger.get("/auth/login")).status_code == 200  # the sign-in page
    attempt = await stranger.post("/auth/login", json={"username_or_email": "olive",
                                                       "password": PASSWORD},
                                  headers={"Origin": ORIGIN})
    assert_unavailable(attempt)  # not "wrong password"

    await proxy.restore()  # no restart: the pool reconnects by itself
    response = await client.get("/protected", headers=JSON)
    assert response.status_code == 200, await response.get_data(as_text=True)
    assert (await response.get_json())["username"] == "olive"


@pytest.mark.settings(REVOCATION_BROADCASTER="local")
async def test_a_full_pool_answers_503_after_the_pool_timeout(
        outage_app: AppUnderTest, clock: FakeClock) -> None:
    """Without NOTIFY vouching for the cache (``local``), the due check needs a connection;
    with NOTIFY connected it needs none, so a full pool would not matter to it."""
    client = await signed_in(outage_app, "json")
    service: AuthService = outage_app.app.extensions["authtuna"].service  # type: ignore[attr-defined]
    assert service.mail.queue is not None
    await service.mail.queue.stop()  # the sender must not wait for a connection either
    held = [await service.engine.connect() for _ in range(2)]  # DATABASE_POOL_SIZE=2
    try:
        clock.advance(INTERVAL + 1)
        started = time.perf_counter()
        response = await client.get("/protected", headers=JSON)
        waited = time.perf_counter() - started
        assert_unavailable(response)
        assert 0.9 < waited < 3, f"503 after {waited:.2f}s (DATABASE_POOL_TIMEOUT=1)"
    finally:
        for conn in held:
            await conn.close()
    assert (await client.get("/protected", headers=JSON)).status_code == 200


async def test_mail_waits_in_the_outbox_while_the_database_is_down(
        outage_app: AppUnderTest, proxy: TcpProxy) -> None:
    """The sender survives an outage: it logs, waits, and drains once the database is back."""
    service: AuthService = outage_app.app.extensions["authtuna"].service  # type: ignore[attr-defined]
    user = await service.users.create("moe@example.com", "moe", PASSWORD, email_verified=True)
    assert service.mail.queue is not None
    await service.mail.queue.stop()
    await service.mail.enqueue("password_change", user.email, username="moe", login_url="x")
    await proxy.cut("refuse")
    await service.mail.start()
    await asyncio.sleep(0.3)  # the sender tries, fails, and keeps running
    await proxy.restore()
    await service.mail.drain()
    assert service.mail.outbox.last("password_change", "moe@example.com") is not None


async def test_an_api_key_is_never_refused_as_invalid_while_the_database_is_down(
        outage_app: AppUnderTest, proxy: TcpProxy) -> None:
    service: AuthService = outage_app.app.extensions["authtuna"].service  # type: ignore[attr-defined]
    user = await service.users.create("kit@example.com", "kit", PASSWORD, email_verified=True)
    plaintext = (await service.api_keys.create_key(user.id, "k", "master")).plaintext
    await proxy.cut("refuse")
    client = outage_app.test_client()
    response = await client.get("/protected", headers={**JSON,
                                                       "Authorization": f"Bearer {plaintext}"})
    assert_unavailable(response)  # not 401 "invalid key"
    await proxy.restore()
    response = await client.get("/protected", headers={**JSON,
                                                       "Authorization": f"Bearer {plaintext}"})
    assert response.status_code == 200

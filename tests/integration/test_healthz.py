"""``/healthz`` (off by default): 200 while the database answers and the revocation channel is
up, 503 JSON with Retry-After otherwise; no sign-in, and cheap under frequent probes."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import event
from sqlalchemy.engine import make_url

from quart_authtuna.core import AuthService
from tests._support.brokers import TcpProxy
from tests._support.databases import database_overrides
from tests.integration.conftest import build_app

HEALTHY_LOCAL = {"database": "ok", "revocations": {"broadcaster": "local", "connected": True}}


async def test_off_by_default(client: Any) -> None:
    assert (await client.get("/healthz")).status_code == 404


@pytest.mark.settings(HEALTHZ_ENABLED=True)
async def test_healthy_answers_200_without_signing_in(client: Any, svc: AuthService) -> None:
    response = await client.get("/healthz")
    assert response.status_code == 200
    body = await response.get_json()
    kind = "postgres" if svc.engine.dialect.name == "postgresql" else "local"
    assert body == {"status": 200, "data": {
        "database": "ok", "revocations": {"broadcaster": kind, "connected": True}}}
    assert "set-cookie" not in response.headers
    assert response.headers["Cache-Control"].startswith("no-store")


@pytest.mark.settings(HEALTHZ_ENABLED=True, HEALTHZ_PATH="/_lb/health")
async def test_the_path_is_a_setting(client: Any) -> None:
    assert (await client.get("/_lb/health")).status_code == 200
    assert (await client.get("/healthz")).status_code == 404


@pytest.mark.settings(HEALTHZ_ENABLED=True)
async def test_probes_share_one_database_check_a_second(client: Any, svc: AuthService) -> None:
    seen: list[str] = []

    def before(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        seen.append(statement)

    await asyncio.sleep(1.05)  # the start-up's answer (if any) is no longer reused
    event.listen(svc.engine.sync_engine, "before_cursor_execute", before)
    try:
        answers = await asyncio.gather(*(client.get("/healthz") for _ in range(50)))
    finally:
        event.remove(svc.engine.sync_engine, "before_cursor_execute", before)
    assert {r.status_code for r in answers} == {200}
    assert [s for s in seen if "SELECT 1" in s] == ["SELECT 1"]
    assert len(seen) == 1


@pytest.mark.settings(HEALTHZ_ENABLED=True)  # auto: postgres on PostgreSQL
async def test_a_stopped_listener_answers_503(backend: str, client: Any,
                                              svc: AuthService) -> None:
    if backend != "postgresql":
        pytest.skip("the PostgreSQL broadcaster needs the PostgreSQL leg")
    await svc.revocation.broadcaster.close()
    response = await client.get("/healthz")
    assert response.status_code == 503
    assert response.headers["Retry-After"] == "5"
    body = await response.get_json()
    assert body["data"]["revocations"] == {"broadcaster": "postgres", "connected": False}
    assert body["errors"][0]["code"] == "unavailable"


async def test_an_unreachable_database_answers_503_then_200_when_it_returns(
        backend: str, tmp_path: Path, app_settings: dict[str, Any]) -> None:
    """PostgreSQL behind a TCP proxy that the test cuts and restores."""
    if backend != "postgresql":
        pytest.skip("needs the PostgreSQL leg")
    async with database_overrides(backend, tmp_path) as db:
        url = make_url(db["DEFAULT_DATABASE_URI"])
        proxy = TcpProxy(url.host or "127.0.0.1", url.port or 5432)
        await proxy.start()
        moved = url.set(host="127.0.0.1", port=proxy.port).render_as_string(False)
        app = build_app({**app_settings, **db, "DEFAULT_DATABASE_URI": moved,
                         "HEALTHZ_ENABLED": True, "DATABASE_POOL_TIMEOUT": 2})
        try:
            async with app.test_app() as test_app:
                client = test_app.test_client()
                assert (await client.get("/healthz")).status_code == 200
                await proxy.cut()
                await asyncio.sleep(1.05)
                start = time.monotonic()
                response = await client.get("/healthz")
                assert time.monotonic() - start < 5
                assert response.status_code == 503
                body = await response.get_json()
                assert body["data"]["database"] == "unreachable"
                await proxy.restore()
                deadline = time.monotonic() + 15
                while (await client.get("/healthz")).status_code != 200:
                    assert time.monotonic() < deadline, "not healthy again after 15 s"
                    await asyncio.sleep(0.2)
        finally:
            await proxy.close()

"""What a signed-in person sees while the database is down: a "Temporarily unavailable" page
(503, Retry-After), still signed in; once the database is back, the dashboard again, with no
restart. Chromium against Hypercorn, the real PostgreSQL behind a TCP proxy that is cut.
Screenshots at 1280 and 390 px go to tests/artifacts/screenshots/."""

from __future__ import annotations

import asyncio
import secrets
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy.engine import make_url

from tests._support.databases import in_ci, postgres_url
from tests._support.live_server import serving
from tests._support.tcp_proxy import TcpProxy
from tests.browser.conftest import _drop_schema, new_page, screenshots, sign_in_with_password
from tests.conftest import PASSWORD, TEST_SETTINGS
from tests.integration.conftest import build_app

pytestmark = pytest.mark.browser


async def test_the_dashboard_says_unavailable_while_the_database_is_down(
        browser: Any, artifacts: Path) -> None:
    url = postgres_url()
    if url is None:
        if in_ci():
            pytest.fail("CI must run the outage journey on PostgreSQL")
        pytest.skip("the outage journey needs PostgreSQL (AUTHTUNA_TEST_DATABASE_URL)")
    parsed = make_url(url)
    proxy = await TcpProxy(parsed.host or "127.0.0.1", parsed.port or 5432).start()
    schema = f"authtuna_browser_{secrets.token_hex(6)}"
    app = build_app({**TEST_SETTINGS, "SESSION_SECURE": False,
                     "DEFAULT_DATABASE_URI": parsed.set(port=proxy.port).render_as_string(
                         hide_password=False),
                     "DATABASE_SCHEMA": schema, "DATABASE_CONNECT_TIMEOUT": 1.0,
                     "AUTO_CREATE_DATABASE": True,
                     "SESSION_DB_VERIFICATION_INTERVAL": 1.0})
    try:
        async with serving(app) as port:
            origin = f"http://localhost:{port}"
            service = app.extensions["authtuna"].service
            await service.users.create("nell@example.com", "nell", PASSWORD,
                                       email_verified=True)
            context, page = await new_page(browser)
            await sign_in_with_password(page, origin, "nell", PASSWORD, "/ui/dashboard")
            await proxy.cut("refuse")
            await asyncio.sleep(1.2)  # past the verification interval
            response = await page.goto(f"{origin}/ui/dashboard")
            assert response is not None and response.status == 503
            assert response.headers["retry-after"] == "5"
            assert "Temporarily unavailable" in (await page.text_content("h1") or "")
            await screenshots(page, "outage-503", artifacts / "screenshots")
            bare = await page.goto(f"{origin}/bare")  # a page that asks nobody's identity
            assert bare is not None and bare.status == 200
            await proxy.restore()
            back = await page.goto(f"{origin}/ui/dashboard")
            assert back is not None and back.status == 200  # still signed in, no restart
            assert "nell" in (await page.content())
            await context.close()
    finally:
        await proxy.close()
        await _drop_schema(url, schema)

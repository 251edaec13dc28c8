"""The test kit in Chromium (issue 10): a browser given ``session_cookie(...).playwright()``
is signed in over real HTTP, without the login form. Screenshots at 1280 and 390 px go to
tests/artifacts/screenshots/."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from quart_authtuna.testing import session_cookie
from tests.conftest import PASSWORD

if TYPE_CHECKING:
    from tests.browser.conftest import LiveServer

pytestmark = pytest.mark.browser
SHOTS = Path(__file__).resolve().parents[1] / "artifacts" / "screenshots"


@pytest.mark.parametrize("width", [1280, 390])
async def test_a_browser_with_the_kits_cookie_is_signed_in(
        browser: Any, live_server: LiveServer, width: int) -> None:
    origin = live_server.origin
    user = await live_server.create_user("bea", PASSWORD)
    cookie = await live_server.call(session_cookie(live_server.app, "bea"))
    context = await browser.new_context(viewport={"width": width, "height": 900})
    try:
        await context.add_cookies([cookie.playwright(origin)])
        page = await context.new_page()
        page.set_default_timeout(10_000)
        response = await page.goto(f"{origin}/protected")
        assert response is not None and response.status == 200
        assert (await response.json())["id"] == user.id
        await page.goto(f"{origin}/ui/settings")
        assert page.url == f"{origin}/ui/settings", "no detour through the login page"
        assert "bea" in await page.content()
        SHOTS.mkdir(parents=True, exist_ok=True)
        await page.screenshot(path=SHOTS / f"kit-signed-in-settings-{width}.png",
                              full_page=True)
        stored = {c["name"]: c for c in await context.cookies(origin)}
        assert stored[cookie.name]["httpOnly"] and stored[cookie.name]["value"] == cookie.value
    finally:
        await context.close()

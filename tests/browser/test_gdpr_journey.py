"""GDPR in Chromium: the owner downloads their data from settings; an admin downloads it
from the user page and erases the account, which signs the owner's browser out at once.
Screenshots at 1280 and 390 px go to tests/artifacts/screenshots/."""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from tests.browser.conftest import sign_in_with_password
from tests.conftest import PASSWORD

if TYPE_CHECKING:
    from tests.browser.conftest import LiveServer

pytestmark = pytest.mark.browser
SHOTS = Path(__file__).resolve().parents[1] / "artifacts" / "screenshots"


async def shoot(page: Any, name: str) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    for width in (1280, 390):
        await page.set_viewport_size({"width": width, "height": 900})
        await page.screenshot(path=SHOTS / f"gdpr-{name}-{width}.png", full_page=True)
        if width == 390:
            wide = await page.evaluate("document.documentElement.scrollWidth")
            assert wide <= width, f"{name} scrolls sideways at {width}px ({wide}px)"
    await page.set_viewport_size({"width": 1280, "height": 900})


async def downloaded(page: Any, click: Any) -> dict[str, Any]:
    async with page.expect_download() as info:
        await click()
    download = await info.value
    assert download.suggested_filename.startswith("authtuna-export-")
    return dict(json.loads(Path(await download.path()).read_text()))


async def test_export_then_admin_erase(browser: Any, live_server: LiveServer) -> None:
    origin = live_server.origin
    ada = await live_server.create_user("ada", PASSWORD)
    boss = await live_server.create_user("boss", PASSWORD)
    await live_server.call(live_server.service.roles.assign_to_user(
        boss.id, "Admin", "system", scope="global"))

    owner = await browser.new_context(viewport={"width": 1280, "height": 900},
                                      accept_downloads=True)
    page = await owner.new_page()
    page.set_default_timeout(10_000)
    await sign_in_with_password(page, origin, "ada", PASSWORD, "/ui/settings")
    section = page.locator("#export")
    await section.scroll_into_view_if_needed()
    await shoot(page, "settings")
    document = await downloaded(page, lambda: section.locator("button").click())
    assert document["profile"]["username"] == "ada" and document["sessions"]
    await page.goto(f"{origin}/ui/settings/export")
    await shoot(page, "export-page")

    admin = await browser.new_context(viewport={"width": 1280, "height": 900},
                                      accept_downloads=True)
    desk = await admin.new_page()
    desk.set_default_timeout(10_000)
    await sign_in_with_password(desk, origin, "boss", PASSWORD, f"/admin/users/{ada.id}")
    await desk.locator("#privacy-title").scroll_into_view_if_needed()
    await shoot(desk, "admin-user")
    theirs = await downloaded(desk, lambda: desk.click('button:has-text("Download JSON")'))
    assert theirs["profile"]["id"] == ada.id
    await desk.click('a:has-text("Erase account")')
    await shoot(desk, "erase-confirm")
    async with desk.expect_navigation(url=lambda url: "done=erased" in url):
        await desk.click('button:has-text("Erase ada for good")')
    assert "data key shredded" in await desk.locator(".at-alert").first.inner_text()
    await shoot(desk, "erased")

    await page.goto(f"{origin}/ui/settings")
    assert "/auth/login" in page.url  # the owner's browser is signed out at once
    await owner.close()
    await admin.close()

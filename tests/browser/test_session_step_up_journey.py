"""Stolen-cookie step-up with two Chromium contexts: the owner's laptop and a thief's
browser holding a copy of the laptop's (since rotated) cookie. The thief is refused, the
owner is not logged out: they confirm their password on a page that says why, get a fresh
session, and receive a mail; the copied cookie never works again. Screenshots at 1280 and
390 px go to tests/artifacts/screenshots/."""

from __future__ import annotations

import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from tests.browser.conftest import sign_in_with_password
from tests.conftest import PASSWORD

if TYPE_CHECKING:
    from tests._support.smtp import SmtpServer
    from tests.browser.conftest import LiveServer

pytestmark = pytest.mark.browser
SHOTS = Path(__file__).resolve().parents[1] / "artifacts" / "screenshots"
THIEF_UA = "Mozilla/5.0 (X11; Linux x86_64) Thief/1.0"


class ShiftedClock:
    """The server's clock, moved forward on demand (the verification interval is 10 s)."""

    def __init__(self) -> None:
        self.offset = 0.0

    def __call__(self) -> float:
        return time.time() + self.offset


async def shoot(page: Any, name: str) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    for width in (1280, 390):
        await page.set_viewport_size({"width": width, "height": 900})
        await page.screenshot(path=SHOTS / f"step-up-{name}-{width}.png", full_page=True)
        if width == 390:
            wide = await page.evaluate("document.documentElement.scrollWidth")
            assert wide <= width, f"{name} scrolls sideways at {width}px ({wide}px)"
    await page.set_viewport_size({"width": 1280, "height": 900})


async def test_copied_cookie_is_refused_and_the_owner_steps_up(
        browser: Any, live_server: LiveServer, smtp_server: SmtpServer) -> None:
    origin, clock = live_server.origin, ShiftedClock()
    live_server.service.clock = clock
    await live_server.create_user("owner", PASSWORD)
    laptop = await browser.new_context(viewport={"width": 1280, "height": 900})
    page = await laptop.new_page()
    page.set_default_timeout(10_000)
    await sign_in_with_password(page, origin, "owner", PASSWORD, "/ui/settings")
    copied = await laptop.cookies()
    clock.offset += 301  # past the rotation period (300 s): the next request rotates the string
    await page.reload()
    assert [c["value"] for c in await laptop.cookies() if c["name"] == "session_token"] != [
        c["value"] for c in copied if c["name"] == "session_token"]

    thief = await browser.new_context(user_agent=THIEF_UA)
    await thief.add_cookies(copied)
    stolen = await thief.new_page()
    await stolen.goto(f"{origin}/ui/settings")
    assert "/auth/login" in stolen.url  # refused: the thief sees the sign-in page

    await page.goto(f"{origin}/ui/settings")
    assert "/auth/reauthenticate" in page.url and "why=other_device" in page.url
    assert await page.locator(".at-alert-warning").count() == 1
    await shoot(page, "reauthenticate")
    messages = await smtp_server.wait_for(2, timeout=10)  # the new-login mail, then this
    flagged = [m for m in messages if "Someone else used" in str(m["Subject"])]
    assert len(flagged) == 1 and flagged[0]["To"] == "owner@example.com"

    await page.fill('input[name="password"]', PASSWORD)
    async with page.expect_navigation(url=lambda url: url.endswith("/ui/settings")):
        await page.click('form.at-form button[type="submit"]')
    assert await page.locator("h1").first.inner_text() == "Settings"

    await thief.clear_cookies()
    await thief.add_cookies(copied)
    await stolen.goto(f"{origin}/ui/settings")
    assert "/auth/login" in stolen.url
    await page.reload()  # the owner is still signed in, on the new session
    assert page.url.endswith("/ui/settings")
    await thief.close()
    await laptop.close()

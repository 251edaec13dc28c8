"""A person changes their email address in Chromium: the profile page, the request form, the
link read from the mail the new address received, the confirmation; every user-area page is
captured at 1280 px and 390 px (tests/artifacts/screenshots/) and none scrolls sideways."""

from __future__ import annotations

import re
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from tests._support.smtp import SmtpServer, text_and_html
from tests.browser.conftest import sign_in_with_password
from tests.conftest import PASSWORD

if TYPE_CHECKING:
    from tests.browser.conftest import LiveServer

pytestmark = pytest.mark.browser

USERNAME, OLD, NEW = "ines", "ines@example.com", "ines.new@example.org"
WIDTHS = {"desktop": 1280, "phone": 390}
NO_SIDEWAYS_SCROLL = "() => document.documentElement.scrollWidth <= window.innerWidth"


async def capture(page: Any, folder: Path, name: str) -> None:
    """Screenshot the current page at both widths; fail if it scrolls sideways on either."""
    for label, width in WIDTHS.items():
        await page.set_viewport_size({"width": width, "height": 800})
        assert await page.evaluate(NO_SIDEWAYS_SCROLL), f"{name} scrolls sideways at {width}px"
        await page.screenshot(path=folder / f"{name}-{label}.png", full_page=True)
    await page.set_viewport_size({"width": 1280, "height": 800})


async def test_change_email_through_the_confirmation_link(
        browser: Any, live_server: LiveServer, smtp_server: SmtpServer,
        artifacts: Path) -> None:
    origin = live_server.origin
    folder = artifacts.parent / "screenshots"
    folder.mkdir(parents=True, exist_ok=True)
    await live_server.create_user(USERNAME, PASSWORD, email=OLD)
    context = await browser.new_context(viewport={"width": 1280, "height": 800})
    page = await context.new_page()
    page.set_default_timeout(10_000)
    await sign_in_with_password(page, origin, USERNAME, PASSWORD, "/ui/dashboard")
    assert "Account status" in await page.content()
    await capture(page, folder, "ui-dashboard")

    async with page.expect_navigation(url=re.compile(r"/ui/profile$")):
        await page.click('nav.at-sidenav a:has-text("Profile")')
    assert await page.get_attribute('nav a[aria-current="page"]', "href") == "/ui/profile"
    await capture(page, folder, "ui-profile")
    async with page.expect_navigation(url=re.compile(r"/ui/profile/email$")):
        await page.click('a:has-text("Change email address")')
    await page.fill('input[name="email"]', NEW)
    await capture(page, folder, "ui-email-change")
    async with page.expect_navigation(url=re.compile(r"/ui/profile\?done=email")):
        await page.click('button:has-text("Send confirmation link")')
    assert "Waiting for confirmation" in await page.content()
    await capture(page, folder, "ui-profile-pending")

    # Two mails: the link to the new address, the notice to the old one.
    await smtp_server.wait_for(3, timeout=10)  # the new-login mail, then these two
    [to_new] = smtp_server.to(NEW)
    text, _ = text_and_html(to_new)
    match = re.search(r"https?://\S+/ui/profile/email/confirm\?token=[A-Za-z0-9_\-%.=]+", text)
    assert match, text
    [notice] = smtp_server.to(OLD)[-1:]
    assert NEW in text_and_html(notice)[0]

    # Nothing changed yet; the link's page says what it will change, in another browser.
    fresh = await browser.new_context(viewport={"width": 1280, "height": 800})
    other = await fresh.new_page()
    response = await other.goto(match.group(0))
    assert response is not None and response.status == 200
    assert NEW in await other.content()
    await capture(other, folder, "ui-email-confirm")
    async with other.expect_navigation():
        await other.click('button:has-text("Confirm new address")')
    assert "Email address changed" in await other.content()
    await capture(other, folder, "ui-email-changed")

    # The signed-in browser sees the new address; the old one no longer signs in.
    await page.goto(f"{origin}/ui/profile")
    assert NEW in await page.content() and "Waiting for confirmation" not in await page.content()
    check = await other.request.post(f"{origin}/auth/login", data={
        "username_or_email": OLD, "password": PASSWORD},
        headers={"Accept": "application/json", "Origin": origin})
    assert check.status == 401 or check.status == 400
    await fresh.close()
    await context.close()

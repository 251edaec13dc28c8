"""/ui/settings in Chromium: end another session of one's own (that browser is signed out on
its next request), create an API key, use it, revoke it (refused at once). Screenshots of each
section at 1280 and 390 px go to tests/artifacts/screenshots/; at 390 px no page scrolls
sideways."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest
from playwright.async_api import expect

from tests.browser.conftest import sign_in_with_password
from tests.conftest import PASSWORD

if TYPE_CHECKING:
    from tests.browser.conftest import LiveServer

pytestmark = pytest.mark.browser
SHOTS = Path(__file__).resolve().parents[1] / "artifacts" / "screenshots"


async def grant_viewer(live: LiveServer, user_id: str) -> None:
    svc = live.service

    async def grant() -> None:
        await svc.roles.create("ProjectViewer", level=10)
        await svc.permissions.get_or_create("projects:read")
        await svc.roles.add_permission_to_role("ProjectViewer", "projects:read")
        await svc.roles.assign_to_user(user_id, "ProjectViewer", "system", scope="project:apollo")

    await live.call(grant())


async def signed_in(browser: Any, origin: str, width: int, next_path: str = "/ui/settings"
                    ) -> tuple[Any, Any]:
    context = await browser.new_context(viewport={"width": width, "height": 900})
    page = await context.new_page()
    page.set_default_timeout(10_000)
    await sign_in_with_password(page, origin, "bea", PASSWORD, next_path)
    return context, page


async def shoot(page: Any, name: str, width: int) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    await page.screenshot(path=SHOTS / f"settings-{name}-{width}.png", full_page=True)
    if width <= 390:
        wide = await page.evaluate("document.documentElement.scrollWidth")
        assert wide <= width, f"{name} scrolls sideways at {width}px ({wide}px)"


async def test_end_a_session_and_an_api_key_round_trip(browser: Any, live_server: LiveServer
                                                       ) -> None:
    origin = live_server.origin
    user = await live_server.create_user("bea", PASSWORD)
    await grant_viewer(live_server, user.id)
    errors: list[str] = []
    laptop, page = await signed_in(browser, origin, 1280)
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    phone, other = await signed_in(browser, origin, 390)

    # The laptop sees two sessions, this one marked; it ends the phone's.
    await page.reload()
    assert await page.locator("#sessions .at-row-current").count() == 1
    await shoot(page, "sessions", 1280)
    await other.reload()
    await shoot(other, "sessions", 390)
    async with page.expect_navigation(url=lambda url: "done=session_ended" in url):
        await page.click('#sessions button:has-text("End session")')
    assert "That session was ended" in (await page.text_content("#sessions") or "")
    await other.goto(f"{origin}/protected")
    assert "/auth/login" in other.url, "the ended session still works"

    # Create a key with the project role; it is shown once, with a working Copy button.
    details = page.locator("#api-keys details")
    if await details.get_attribute("open") is None:  # open by itself while there is no key
        await page.click("#api-keys summary")
    await page.fill("#api-keys input[name=name]", "Deploy <script>")
    await page.check('#api-keys input[value="ProjectViewer:project:apollo"]')
    await shoot(page, "api-keys-form", 1280)
    await page.click('#api-keys button:has-text("Create key")')
    await page.wait_for_selector("#new-api-key")
    plaintext = await page.input_value("#new-api-key")
    assert plaintext.startswith("sk_")
    copy = page.locator("[data-authtuna-copy]")
    assert await copy.is_visible()
    await copy.click()
    # Not wait_for_function: its string is evaluated, and the page's CSP forbids eval.
    await expect(page.locator("#copy-status")).not_to_have_text("")
    await shoot(page, "api-key-created", 1280)

    # The key works on a permission-protected route, from a client without cookies.
    api = await browser.new_context()
    bearer = {"Authorization": f"Bearer {plaintext}", "Accept": "application/json"}
    assert (await api.request.get(f"{origin}/projects/apollo", headers=bearer)).status == 200

    # The list shows it (escaped, with its last use); revoking refuses it at once.
    await page.goto(f"{origin}/ui/settings")
    row = page.locator("#api-keys tbody tr")
    assert await row.count() == 1
    assert "Deploy <script>" in (await row.text_content() or "")
    await shoot(page, "api-keys", 1280)
    async with page.expect_navigation(url=lambda url: "done=key_revoked" in url):
        await page.click('#api-keys button:has-text("Revoke")')
    assert "No API keys yet." in (await page.text_content("#api-keys") or "")
    assert (await api.request.get(f"{origin}/projects/apollo", headers=bearer)).status == 401

    # The other sections, at both widths.
    await page.goto(f"{origin}/ui/settings/activity")
    await shoot(page, "activity", 1280)
    await page.goto(f"{origin}/ui/settings/delete")
    await shoot(page, "delete", 1280)
    narrow, small = await signed_in(browser, origin, 390)
    for path, name in (("/ui/settings", "page"), ("/ui/settings/activity", "activity"),
                       ("/ui/settings/delete", "delete")):
        await small.goto(f"{origin}{path}")
        await shoot(small, name, 390)
    await page.goto(f"{origin}/ui/settings")
    await shoot(page, "page", 1280)
    assert errors == []
    for context in (laptop, phone, api, narrow):
        await context.close()

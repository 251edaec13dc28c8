"""After a passkey sign-in the browser stays on this site, whatever ``next`` says (issue 8.3).

Chromium with Chrome's virtual authenticator against the real app: the page's own
webauthn.js runs the ceremony and then navigates. Before the fix, the sign-in page put the raw
``next`` into the passkey button and the script followed it off-site.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

import pyotp
import pytest

from tests.browser.conftest import (
    add_virtual_authenticator,
    new_page,
    protected_json,
    sign_in_with_password,
    sign_out,
)
from tests.conftest import PASSWORD

if TYPE_CHECKING:
    from tests.browser.conftest import LiveServer

pytestmark = pytest.mark.browser

BUDGET_SECONDS = 60
EVIL = "https://evil.example/phish"
#: Values an application template might still put into data-next; the script must refuse them.
TAMPERED = ["https://evil.example/a", "//evil.example/b", "/\\evil.example/c",
            "javascript:location='https://evil.example/d'", "/\t/evil.example/e"]


async def add_passkey(page: Any, origin: str) -> None:
    """Settings page: "Add a passkey", then wait for the page to reload with it."""
    await page.goto(f"{origin}/ui/settings")
    button = page.locator('[data-authtuna-passkey="register"]')
    await button.wait_for(state="visible")
    await page.fill("#passkey-nickname", "Laptop")
    async with page.expect_navigation(url=lambda url: "/ui/settings" in url):
        await button.click()
    assert "Laptop" in await page.content()


async def press_passkey_button(page: Any, kind: str, origin: str) -> str:
    """Press the page's passkey button and return where the browser ends up."""
    button = page.locator(f'[data-authtuna-passkey="{kind}"]')
    await button.wait_for(state="visible")
    async with page.expect_navigation(url=lambda url: "/auth/login" not in url
                                      and "/mfa/challenge" not in url):
        await button.click()
    await page.wait_for_load_state()
    return str(page.url)


async def test_passkey_sign_in_ignores_an_off_site_next(browser: Any, live_server: LiveServer,
                                                        artifacts: Path) -> None:
    started = time.perf_counter()
    origin = live_server.origin
    await live_server.create_user("nadia", PASSWORD)
    context, page = await new_page(browser)
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    await add_virtual_authenticator(page)
    await sign_in_with_password(page, origin, "nadia", PASSWORD, "/ui/settings")
    await add_passkey(page, origin)
    await sign_out(page, origin)

    await page.goto(f"{origin}/auth/login?next={quote(EVIL, safe='')}")
    button = page.locator('[data-authtuna-passkey="login"]')
    assert await button.get_attribute("data-next") == "/"
    landed = await press_passkey_button(page, "login", origin)
    await page.screenshot(path=artifacts / "passkey-next-off-site.png", full_page=True)
    assert landed == f"{origin}/", landed
    await page.goto(f"{origin}/protected")
    assert (await protected_json(page))["username"] == "nadia"

    # The script refuses off-site targets even when a template hands them over.
    for value in TAMPERED:
        await sign_out(page, origin)
        await page.goto(f"{origin}/auth/login")
        await page.locator('[data-authtuna-passkey="login"]').wait_for(state="visible")
        await page.evaluate("value => document.querySelector('[data-authtuna-passkey=\"login\"]')"
                            ".setAttribute('data-next', value)", value)
        landed = await press_passkey_button(page, "login", origin)
        assert landed == f"{origin}/", (value, landed)

    # A path on this site is still followed.
    await sign_out(page, origin)
    await page.goto(f"{origin}/auth/login?next=/protected")
    assert await press_passkey_button(page, "login", origin) == f"{origin}/protected"
    assert errors == []
    await context.close()
    assert time.perf_counter() - started < BUDGET_SECONDS


async def test_passkey_second_factor_ignores_an_off_site_next(
        browser: Any, live_server: LiveServer) -> None:
    started = time.perf_counter()
    origin = live_server.origin
    user = await live_server.create_user("omar", PASSWORD)
    context, page = await new_page(browser)
    await add_virtual_authenticator(page)
    await sign_in_with_password(page, origin, "omar", PASSWORD, "/ui/settings")
    await add_passkey(page, origin)
    svc = live_server.service
    setup = await live_server.call(svc.mfa.setup_totp(user.id))
    [browser_session] = await live_server.call(svc.sessions.get_all_for_user(user.id))
    await live_server.call(svc.mfa.verify_and_enable_totp(  # other sessions end; this stays
        user.id, pyotp.TOTP(setup.secret).now(), keep_session_id=browser_session.session_id))
    await sign_out(page, origin)

    await sign_in_with_password(page, origin, "omar", PASSWORD, "/protected",
                                lands_on="/mfa/challenge")
    await page.goto(f"{origin}/mfa/challenge?next={quote(EVIL, safe='')}")
    button = page.locator('[data-authtuna-passkey="mfa"]')
    await button.wait_for(state="visible")
    assert await button.get_attribute("data-next") == "/"
    landed = await press_passkey_button(page, "mfa", origin)
    assert landed == f"{origin}/", landed
    await page.goto(f"{origin}/protected")
    assert (await protected_json(page))["username"] == "omar"
    await context.close()
    assert time.perf_counter() - started < BUDGET_SECONDS

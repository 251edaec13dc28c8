"""Social sign-in in Chromium, against the real app under Hypercorn and the shipped dev
OpenID provider (both on loopback): sign up with the provider, sign out, sign in again;
connect GitHub from settings and sign in with it; a user with TOTP signs in through SSO and
meets the challenge. Screenshots of each page at 1280 and 390 px go to /work/screens/sso/."""

from __future__ import annotations

import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pyotp
import pytest

from quart_authtuna.testing.dev_oidc import DevProvider
from tests._support.sso import _dev_provider  # noqa: F401
from tests.browser.conftest import new_page, protected_json, screenshots, sign_in_with_password
from tests.browser.conftest import sign_out as press_sign_out
from tests.conftest import PASSWORD

if TYPE_CHECKING:
    from tests.browser.conftest import LiveServer

pytestmark = pytest.mark.browser
SCREENS = Path("/work/screens/sso")


@pytest.fixture(name="live_server_settings")
def _sso_settings(dev_provider: DevProvider) -> dict[str, Any]:
    dev_provider.clock = time.time
    return dev_provider.app_settings()


async def via_provider(page: Any, origin: str, button: str, preset: str, lands: str) -> None:
    """On the sign-in page: press the provider's button, pick ``preset`` there, come back."""
    async with page.expect_navigation(url=lambda url: "/authorize" in url):
        await page.click(f'a.at-sso-btn:has-text("{button}")')
    async with page.expect_navigation(url=lambda url: url.startswith(origin) and lands in url):
        await page.click(f'#presets button:has-text("{preset}")')


async def test_sign_up_sign_out_sign_in_again(browser: Any, live_server: LiveServer) -> None:
    origin = live_server.origin
    context, page = await new_page(browser)
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    await page.goto(f"{origin}/auth/login?next=/protected")
    await screenshots(page, "login-with-providers", SCREENS)
    async with page.expect_navigation(url=lambda url: "/authorize" in url):
        await page.click('a.at-sso-btn:has-text("Dev SSO")')
    await screenshots(page, "dev-provider-authorize", SCREENS)
    async with page.expect_navigation(url=f"{origin}/protected"):
        await page.click('#presets button:has-text("Ada Lovelace")')
    me = await protected_json(page)
    assert me["username"] == "ada" and me["email"] == "ada@example.com"
    await page.goto(f"{origin}/ui/settings#connections")
    section = page.locator("#connections")
    assert "Connected" in (await section.locator("li", has_text="Dev SSO").inner_text())
    await section.scroll_into_view_if_needed()
    await screenshots(page, "settings-connected-accounts", SCREENS)
    await press_sign_out(page, origin)
    await page.goto(f"{origin}/auth/login?next=/protected")
    await via_provider(page, origin, "Dev SSO", "Ada Lovelace", "/protected")
    assert (await protected_json(page))["id"] == me["id"]
    assert not errors
    await context.close()


async def test_connect_github_from_settings_then_sign_in_with_it(
        browser: Any, live_server: LiveServer) -> None:
    origin = live_server.origin
    user = await live_server.create_user("grace_local", PASSWORD, email="gh@example.org")
    context, page = await new_page(browser)
    await sign_in_with_password(page, origin, "grace_local", PASSWORD, "/ui/settings")
    github = page.locator("#connections li", has_text="GitHub")
    # Hold the page's own move to the provider once (a 204 does not navigate), to see it.
    await page.route("**/login/oauth/authorize**", lambda route: route.fulfill(status=204))
    async with page.expect_navigation(url=lambda url: "/connect" in url):
        await github.locator('button:has-text("Connect")').click()
    assert "Continue to GitHub" in await page.inner_text("main")
    await screenshots(page, "connect-continue", SCREENS)
    await page.unroute("**/login/oauth/authorize**")
    async with page.expect_navigation(url=lambda url: "/login/oauth/authorize" in url):
        await page.click('a:has-text("Continue to GitHub")')
    async with page.expect_navigation(url=lambda url: "done=connected" in url):
        await page.click('#presets button:has-text("Grace Hopper")')
    assert "The account was connected" in await page.inner_text("#connections")
    assert "Disconnect" in await github.inner_text()
    await press_sign_out(page, origin)
    await page.goto(f"{origin}/auth/login?next=/protected")
    await via_provider(page, origin, "GitHub", "Grace Hopper", "/protected")
    assert (await protected_json(page))["id"] == user.id
    await context.close()


async def test_totp_user_meets_the_challenge_after_sso(browser: Any,
                                                       live_server: LiveServer) -> None:
    origin = live_server.origin
    context, page = await new_page(browser)
    await page.goto(f"{origin}/auth/login?next=/protected")
    await via_provider(page, origin, "Google", "Grace Hopper", "/protected")
    me = await protected_json(page)
    svc = live_server.service
    setup = await live_server.call(svc.mfa.setup_totp(me["id"]))
    totp = pyotp.TOTP(setup.secret)
    await live_server.call(svc.mfa.verify_and_enable_totp(me["id"], totp.at(time.time())))
    await context.close()
    context, page = await new_page(browser)
    await page.goto(f"{origin}/auth/login?next=/protected")
    await via_provider(page, origin, "Google", "Grace Hopper", "/mfa/challenge")
    check = await page.request.get(f"{origin}/protected", max_redirects=0)
    assert check.status == 302  # no session before the second factor
    await page.fill('input[name="code"]', totp.at(time.time() + 30))
    async with page.expect_navigation(url=f"{origin}/protected"):
        await page.click('form.at-form button[type="submit"]')
    assert (await protected_json(page))["id"] == me["id"]
    await context.close()


async def test_username_form_and_failure_pages(browser: Any, live_server: LiveServer) -> None:
    origin = live_server.origin
    await live_server.create_user("ada", PASSWORD, email="someone-else@example.com")
    context, page = await new_page(browser)
    await page.goto(f"{origin}/auth/login?next=/protected")
    await via_provider(page, origin, "Dev SSO", "Ada Lovelace", "/auth/dev/signup")
    assert await page.input_value('input[name="username"]') == "ada"
    await screenshots(page, "choose-username", SCREENS)
    await page.fill('input[name="username"]', "ada_l")
    async with page.expect_navigation(url=f"{origin}/protected"):
        await page.click('form.at-form button[type="submit"]')
    assert (await protected_json(page))["username"] == "ada_l"
    await context.close()
    context, page = await new_page(browser)
    await page.goto(f"{origin}/auth/login")
    async with page.expect_navigation(url=lambda url: "/authorize" in url):
        await page.click('a.at-sso-btn:has-text("Dev SSO")')
    async with page.expect_navigation(url=lambda url: "/auth/dev/callback" in url):
        await page.click('#custom button[value="deny"]')
    assert "Sign-in did not work" in await page.inner_text("main")
    await screenshots(page, "sso-failed", SCREENS)
    await context.close()

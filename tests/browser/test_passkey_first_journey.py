"""Passkey-first sign-up in Chromium with Chrome's virtual authenticator, against the real app.

Sign-up page → "Sign up with a passkey" → username and email → the mail (real SMTP) → its
link's page creates the passkey (the page's own webauthn.js, the real endpoints) → recovery
codes shown once → settings list the ways in (no password) → sign out, sign in with the
passkey → sign out, sign in with a recovery code → set a first password → sign in with it.
Screenshots of every new page at 1280 and 390 px go to /work/screens/passkeyfirst/ (or
tests/artifacts/browser/passkeyfirst when that folder does not exist).
"""

from __future__ import annotations

import re
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from tests._support.smtp import SmtpServer, text_and_html
from tests.browser.conftest import (
    add_virtual_authenticator,
    new_page,
    protected_json,
    screenshots,
    sign_in_with_password,
    sign_out,
)
from tests.conftest import PASSWORD

if TYPE_CHECKING:
    from tests.browser.conftest import LiveServer

pytestmark = pytest.mark.browser

USERNAME, EMAIL = "noor", "noor@example.com"
BUDGET_SECONDS = 90
SCREENS = Path("/work/screens/passkeyfirst")


def screens_folder(artifacts: Path) -> Path:
    return SCREENS if SCREENS.parent.exists() else artifacts / "passkeyfirst"


def link_in(text: str, path: str) -> str:
    match = re.search(r"https?://\S+" + re.escape(path) + r"\?token=[A-Za-z0-9_\-%.=]+", text)
    assert match, f"no link to {path} in:\n{text}"
    return match.group(0)


async def test_sign_up_with_a_passkey_then_every_way_in(
        browser: Any, live_server: LiveServer, smtp_server: SmtpServer, artifacts: Path
        ) -> None:
    started = time.perf_counter()
    origin, shots = live_server.origin, screens_folder(artifacts)
    context, page = await new_page(browser)
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    authenticator = await add_virtual_authenticator(page)

    # The sign-up page offers the passkey way; it asks for a username and an email only.
    await page.goto(f"{origin}/auth/signup")
    await screenshots(page, "signup-offers-passkey", shots)
    async with page.expect_navigation(url=lambda url: "/passkeys/signup" in url):
        await page.click("text=Sign up with a passkey")
    assert await page.locator('input[name="password"]').count() == 0
    await screenshots(page, "passkey-signup", shots)
    await page.fill('input[name="username"]', USERNAME)
    await page.fill('input[name="email"]', EMAIL)
    await page.click('form.at-form button[type="submit"]')
    await page.wait_for_selector("text=Check your email")
    await screenshots(page, "passkey-signup-check-email", shots)
    assert await live_server.call(live_server.service.users.get_by_email(EMAIL)) is None

    # The emailed link opens the ceremony page; the virtual authenticator makes the passkey.
    await smtp_server.wait_for(1, timeout=10)
    [mail] = smtp_server.to(EMAIL)
    text, _ = text_and_html(mail)
    await page.goto(link_in(text, "/passkeys/signup/finish"))
    await page.locator('[data-authtuna-passkey="signup"]').wait_for(state="visible")
    await screenshots(page, "passkey-signup-finish", shots)
    await page.fill("#passkey-nickname", "Noor's phone")
    await page.click('[data-authtuna-passkey="signup"]')
    await page.locator("#passkey-signup-done").wait_for(state="visible")
    codes = await page.locator("#passkey-signup-codes li code").all_text_contents()
    assert len(codes) == 10 and all(re.fullmatch(r"[A-Z2-9]{4}-[A-Z2-9]{4}-[A-Z2-9]{4}", c)
                                    for c in codes)
    await screenshots(page, "passkey-signup-codes", shots)
    [credential] = await authenticator.credentials()
    assert credential["rpId"] == "localhost" and credential["isResidentCredential"] is True

    # Signed in: the settings page lists the ways in and offers a first password.
    async with page.expect_navigation(url=lambda url: "/ui/settings" in url):
        await page.click("#passkey-signup-next")
    ways = page.locator("#ways-in")
    assert "None" in (await ways.locator("li", has_text="Password").text_content() or "")
    assert "10" in (await ways.locator("li", has_text="Recovery codes").text_content() or "")
    assert await page.locator("li.at-passkey strong").all_text_contents() == ["Noor's phone"]
    await screenshots(page, "settings-passwordless", shots)
    await page.goto(f"{origin}/auth/reauthenticate?next=/ui/settings")
    assert await page.locator('input[name="password"]').count() == 0
    await page.locator('[data-authtuna-passkey="reauth"]').wait_for(state="visible")
    await screenshots(page, "reauthenticate-passkey-only", shots)
    async with page.expect_navigation(url=lambda url: "/ui/settings" in url):
        await page.click('[data-authtuna-passkey="reauth"]')

    # Sign out; the passkey alone signs in again.
    await sign_out(page, origin)
    await page.goto(f"{origin}/auth/login?next=/protected")
    async with page.expect_navigation(url=lambda url: "/protected" in url):
        await page.click('[data-authtuna-passkey="login"]')
    assert (await protected_json(page))["username"] == USERNAME

    # Sign out; a recovery code signs in once (lost passkey), from the sign-in page's link.
    await sign_out(page, origin)
    await page.click("text=Use a recovery code")
    await screenshots(page, "recovery-code-sign-in", shots)
    await page.fill('input[name="username_or_email"]', EMAIL)
    await page.fill('input[name="code"]', codes[0].lower())
    async with page.expect_navigation(url=lambda url: "/ui/settings" in url):
        await page.click('form.at-form button[type="submit"]')
    assert "9" in (await ways.locator("li", has_text="Recovery codes").text_content() or "")

    # A first password, then signing in with it.
    await page.click("text=Set a password")
    await screenshots(page, "set-password", shots)
    await page.fill('input[name="new_password"]', PASSWORD)
    await page.click('form.at-form button[type="submit"]')
    await page.wait_for_selector("text=Password set")
    await sign_out(page, origin)
    await sign_in_with_password(page, origin, USERNAME, PASSWORD, "/protected")
    assert (await protected_json(page))["username"] == USERNAME

    # A spent link says so and leads back to sign-up.
    await page.goto(link_in(text, "/passkeys/signup/finish"))
    assert "This link cannot be used" in await page.content()
    assert await page.locator('[data-authtuna-passkey="signup"]').count() == 0
    await screenshots(page, "passkey-signup-link-spent", shots)

    assert errors == [], errors
    await context.close()
    assert time.perf_counter() - started < BUDGET_SECONDS

"""Passkeys in Chromium with Chrome's virtual authenticator (CDP), against the real app.

Journey 1: sign in with a password, add a passkey from the settings page, sign out, sign in
with the passkey alone, then rename and remove it. Journey 2: a passkey as the second factor
of a password sign-in for a user with an authenticator app turned on.

The app runs under Hypercorn; every ceremony is the page's own webauthn.js calling the real
/passkeys endpoints. Screenshots go to tests/artifacts/browser/.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pyotp
import pytest

from tests.browser.conftest import (
    add_virtual_authenticator,
    new_page,
    passkey_autofill,
    protected_json,
    sign_in_with_password,
    sign_out,
)
from tests.conftest import PASSWORD

if TYPE_CHECKING:
    from tests.browser.conftest import LiveServer

pytestmark = pytest.mark.browser

#: Each journey must stay well inside CI's patience.
BUDGET_SECONDS = 60


async def add_passkey_on_settings(page: Any, origin: str, nickname: str) -> None:
    """On /ui/settings: type a name, press "Add a passkey", wait for the page to reload."""
    if not page.url.startswith(f"{origin}/ui/settings"):
        await page.goto(f"{origin}/ui/settings")
    button = page.locator('[data-authtuna-passkey="register"]')
    await button.wait_for(state="visible")  # webauthn.js unhides it when WebAuthn exists
    await page.fill("#passkey-nickname", nickname)
    async with page.expect_navigation(url=lambda url: "/ui/settings" in url):
        await button.click()


async def test_passkey_register_sign_in_rename_remove(browser: Any, live_server: LiveServer,
                                                      artifacts: Path) -> None:
    started = time.perf_counter()
    origin = live_server.origin
    user = await live_server.create_user("pia", PASSWORD)
    context, page = await new_page(browser)
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    authenticator = await add_virtual_authenticator(page)

    # Sign in with the password (a fresh login), then add a passkey from the settings page.
    await sign_in_with_password(page, origin, "pia", PASSWORD, "/ui/settings")
    assert "No passkeys yet." in await page.content()
    await add_passkey_on_settings(page, origin, "Pia's laptop")
    listed = page.locator("li.at-passkey")
    assert await listed.count() == 1
    assert (await listed.locator("strong").text_content()) == "Pia's laptop"
    await page.screenshot(path=artifacts / "settings-passkey-listed.png", full_page=True)

    [credential] = await authenticator.credentials()
    assert credential["rpId"] == "localhost"
    assert credential["isResidentCredential"] is True
    count_after_registration = credential["signCount"]
    rows = await live_server.call(live_server.service.passkeys.list(user.id))
    assert [r.nickname for r in rows] == ["Pia's laptop"]

    # Sign out with the top bar's button; then sign in with the passkey alone, pressing
    # "Sign in with a passkey" (this browser offers no passkey autofill yet).
    await sign_out(page, origin)
    response = await page.goto(f"{origin}/auth/login?next=/protected")
    assert response is not None and response.status == 200
    passkey_button = page.locator('[data-authtuna-passkey="login"]')
    await passkey_button.wait_for(state="visible")
    assert (await passkey_button.text_content() or "").strip() == "Sign in with a passkey"
    # Browsers offer passkeys in the username field's autofill only with the webauthn token.
    autocomplete = await page.get_attribute('input[name="username_or_email"]', "autocomplete")
    assert "webauthn" in (autocomplete or "").split(), autocomplete
    await page.screenshot(path=artifacts / "login-with-passkey.png", full_page=True)
    async with page.expect_navigation(url=f"{origin}/protected"):
        await passkey_button.click()
    assert (await protected_json(page))["username"] == "pia"
    [credential] = await authenticator.credentials()
    assert credential["signCount"] > count_after_registration, credential
    count_after_button = credential["signCount"]
    [row] = await live_server.call(live_server.service.passkeys.list(user.id))
    assert row.sign_count == count_after_button and row.last_used_at is not None
    [session] = await live_server.call(live_server.service.sessions.get_all_for_user(user.id))
    assert session.auth_method == "passkey"

    # Again with passkey autofill (conditional UI): opening the sign-in page is enough, as
    # when a person picks the passkey from the username field's suggestions.
    await sign_out(page, origin)
    await passkey_autofill(page, origin, on=True)
    async with page.expect_navigation(url=f"{origin}/protected"):
        await page.goto(f"{origin}/auth/login?next=/protected", wait_until="commit")
    assert (await protected_json(page))["username"] == "pia"
    [credential] = await authenticator.credentials()
    assert credential["signCount"] > count_after_button, credential
    await passkey_autofill(page, origin, on=False)

    # Rename it from the settings page.
    await page.goto(f"{origin}/ui/settings")
    await page.fill("li.at-passkey input[name=nickname]", "Work key")
    async with page.expect_navigation(url=lambda url: "/ui/settings" in url):
        await page.click('li.at-passkey button:has-text("Rename")')
    assert (await page.locator("li.at-passkey strong").all_text_contents()) == ["Work key"]

    # Remove it (the passkey sign-in just now counts as a fresh login).
    async with page.expect_navigation(url=lambda url: "/ui/settings" in url):
        await page.click('li.at-passkey button:has-text("Remove")')
    assert await page.locator("li.at-passkey").count() == 0
    assert "No passkeys yet." in await page.content()
    assert await live_server.call(live_server.service.passkeys.list(user.id)) == []

    # The authenticator still holds the key, but the server no longer accepts it.
    await sign_out(page, origin)
    await page.goto(f"{origin}/auth/login?next=/protected")
    await passkey_button.wait_for(state="visible")
    await passkey_button.click()
    error = page.locator("#passkey-error")
    await error.wait_for(state="visible")
    assert "not recognised" in (await error.text_content() or "")
    assert "/auth/login" in page.url
    assert errors == []
    await context.close()

    elapsed = time.perf_counter() - started
    print(f"passkey journey: {elapsed:.2f} s")
    assert elapsed < BUDGET_SECONDS


async def test_passkey_as_second_factor(browser: Any, live_server: LiveServer,
                                        artifacts: Path) -> None:
    started = time.perf_counter()
    origin = live_server.origin
    user = await live_server.create_user("quinn", PASSWORD)
    context, page = await new_page(browser)
    await add_virtual_authenticator(page)

    # A passkey registered in the browser, and an authenticator app turned on.
    await sign_in_with_password(page, origin, "quinn", PASSWORD, "/ui/settings")
    await add_passkey_on_settings(page, origin, "Quinn's phone")
    svc = live_server.service
    setup = await live_server.call(svc.mfa.setup_totp(user.id))
    [browser_session] = await live_server.call(svc.sessions.get_all_for_user(user.id))
    await live_server.call(svc.mfa.verify_and_enable_totp(  # other sessions end; this stays
        user.id, pyotp.TOTP(setup.secret).now(), keep_session_id=browser_session.session_id))
    await page.reload()
    assert "Quinn's phone" in await page.content()
    await sign_out(page, origin)

    # The password alone is not enough: the challenge page, then "Use a passkey".
    await sign_in_with_password(page, origin, "quinn", PASSWORD, "/protected",
                                lands_on="/mfa/challenge")
    use_passkey = page.locator('[data-authtuna-passkey="mfa"]')
    await use_passkey.wait_for(state="visible")
    await page.screenshot(path=artifacts / "mfa-challenge-passkey.png", full_page=True)
    async with page.expect_navigation(url=f"{origin}/protected"):
        await use_passkey.click()
    assert (await protected_json(page))["username"] == "quinn"
    [session] = await live_server.call(svc.sessions.get_all_for_user(user.id))
    assert session.auth_method == "password+passkey"
    await context.close()

    elapsed = time.perf_counter() - started
    print(f"passkey as second factor: {elapsed:.2f} s")
    assert elapsed < BUDGET_SECONDS

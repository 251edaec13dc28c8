"""An authenticator app in Chromium, against the real app under Hypercorn.

Sign in, turn on TOTP from /mfa/setup (reading the secret off the page, as a person typing the
key into an app would), save the recovery codes, sign out; sign in again and finish at the
/mfa/challenge page with a TOTP code, then once more with a recovery code. Codes come from
pyotp with the real clock; no sleeps: the challenge uses the next 30-second step's code,
which the server accepts (±1 step) and which is newer than the step the setup code used.
Screenshots go to tests/artifacts/browser/.
"""

from __future__ import annotations

import re
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pyotp
import pytest

from tests.browser.conftest import new_page, protected_json, sign_in_with_password, sign_out
from tests.conftest import PASSWORD

if TYPE_CHECKING:
    from tests.browser.conftest import LiveServer

pytestmark = pytest.mark.browser

BUDGET_SECONDS = 60
RECOVERY_CODE = re.compile(r"^[A-Z2-9]{4}-[A-Z2-9]{4}-[A-Z2-9]{4}$")


async def finish_challenge(page: Any, origin: str, code: str) -> None:
    """On /mfa/challenge: type ``code``, press Verify, land on /protected."""
    assert "/mfa/challenge" in page.url, page.url
    await page.fill('input[name="code"]', code)
    async with page.expect_navigation(url=f"{origin}/protected"):
        await page.click('form.at-form button[type="submit"]')


async def test_totp_setup_challenge_and_recovery_code(browser: Any, live_server: LiveServer,
                                                      artifacts: Path) -> None:
    started = time.perf_counter()
    origin = live_server.origin
    user = await live_server.create_user("tove", PASSWORD)
    context, page = await new_page(browser)
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))

    # Sign in and open the setup page from the settings page's security section.
    await sign_in_with_password(page, origin, "tove", PASSWORD, "/ui/settings")
    async with page.expect_navigation(url=f"{origin}/mfa/setup"):
        await page.click('#security a:has-text("Set up an authenticator app")')
    qr = page.locator("figure.at-qr img")
    assert (await qr.get_attribute("src") or "").startswith("data:image/svg+xml")
    assert await qr.evaluate("img => img.complete && img.naturalWidth > 0")
    secret = (await page.text_content("code.at-secret") or "").strip()
    assert re.fullmatch(r"[A-Z2-7]{32}", secret), secret
    await page.screenshot(path=artifacts / "mfa-setup.png", full_page=True)

    # Confirm with the app's current code: the recovery codes are shown once.
    setup_code = pyotp.TOTP(secret).now()
    await page.fill('input[name="code"]', setup_code)
    async with page.expect_navigation(url=f"{origin}/mfa/setup"):
        await page.click('form.at-form button[type="submit"]')
    codes = [c.strip() for c in await page.locator("ol.at-codes li code").all_text_contents()]
    assert len(codes) == 10 and len(set(codes)) == 10, codes
    assert all(RECOVERY_CODE.match(c) for c in codes), codes
    await page.screenshot(path=artifacts / "mfa-recovery-codes.png", full_page=True)
    await page.goto(f"{origin}/ui/settings")
    assert "Recovery codes left: 10" in " ".join((await page.text_content("#security")
                                                  or "").split())

    # Sign out; the password alone now leads to the challenge, not to the page asked for.
    await sign_out(page, origin)
    await sign_in_with_password(page, origin, "tove", PASSWORD, "/protected",
                                lands_on="/mfa/challenge")
    assert "next=%2Fprotected" in page.url or "next=/protected" in page.url, page.url
    check = await page.request.get(f"{origin}/protected", max_redirects=0)
    assert check.status == 302, "signed in before the second factor"
    await page.screenshot(path=artifacts / "mfa-challenge.png", full_page=True)

    # A TOTP code from the next 30 s step: inside the server's ±1 window and newer than the
    # step the setup code used (the same step's code again would be refused as a replay).
    await finish_challenge(page, origin, pyotp.TOTP(secret).at(time.time() + 30))
    assert (await protected_json(page))["username"] == "tove"
    [session] = await live_server.call(live_server.service.sessions.get_all_for_user(user.id))
    assert session.auth_method == "password+totp"

    # Once more, finishing with a recovery code (typed in lower case, as people do).
    await sign_out(page, origin)
    await sign_in_with_password(page, origin, "tove", PASSWORD, "/protected",
                                lands_on="/mfa/challenge")
    await finish_challenge(page, origin, codes[3].lower())
    assert (await protected_json(page))["username"] == "tove"
    await page.goto(f"{origin}/ui/settings")
    assert "Recovery codes left: 9" in " ".join((await page.text_content("#security")
                                                 or "").split())

    # A used recovery code does not work twice.
    await sign_out(page, origin)
    await sign_in_with_password(page, origin, "tove", PASSWORD, "/protected",
                                lands_on="/mfa/challenge")
    await page.fill('input[name="code"]', codes[3])
    async with page.expect_navigation():
        await page.click('form.at-form button[type="submit"]')
    assert page.url.startswith(f"{origin}/mfa/challenge"), page.url
    assert "not valid" in (await page.content())
    assert errors == []
    await context.close()

    elapsed = time.perf_counter() - started
    print(f"TOTP journey: {elapsed:.2f} s")
    assert elapsed < BUDGET_SECONDS

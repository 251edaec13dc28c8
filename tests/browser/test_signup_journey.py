"""A person's whole first visit, in Chromium: sign up, confirm by email (the account is created
then), sign in, sign out.

The app runs under Hypercorn and sends its mail to a real SMTP server in this process; the
verification link is read from the received message's text part, as a person would.
Screenshots of each page go to tests/artifacts/browser/.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from tests._support.smtp import SmtpServer, text_and_html
from tests.conftest import PASSWORD

if TYPE_CHECKING:
    from tests.browser.conftest import LiveServer

pytestmark = pytest.mark.browser

USERNAME, EMAIL = "marina", "marina@example.com"

#: Sign out the way a page's "Sign out" button would: a real form POST carrying the CSRF
#: token of a signed-in page. (page.evaluate runs over CDP, so the page's CSP allows it.)
LOGOUT_FORM = """token => {
    const form = document.createElement("form");
    form.method = "post";
    form.action = "/auth/logout";
    const input = document.createElement("input");
    input.type = "hidden";
    input.name = "csrf_token";
    input.value = token;
    form.appendChild(input);
    document.body.appendChild(form);
    form.submit();
}"""


def link_in(text: str, path: str) -> str:
    """The first absolute link to ``path`` in a mail's text."""
    match = re.search(r"https?://\S+" + re.escape(path) + r"\?token=[A-Za-z0-9_\-%.=]+", text)
    assert match, f"no link to {path} in:\n{text}"
    return match.group(0)


async def test_signup_confirm_login_logout(browser: Any, live_server: LiveServer,
                                           smtp_server: SmtpServer, artifacts: Path) -> None:
    origin = live_server.origin
    context = await browser.new_context(viewport={"width": 1000, "height": 760})
    page = await context.new_page()
    page.set_default_timeout(10_000)

    # Sign up.
    response = await page.goto(f"{origin}/auth/signup")
    assert response is not None and response.status == 200
    await page.fill('input[name="username"]', USERNAME)
    await page.fill('input[name="email"]', EMAIL)
    await page.fill('input[name="password"]', PASSWORD)
    await page.screenshot(path=artifacts / "signup.png", full_page=True)
    async with page.expect_navigation():
        await page.click('form.at-form button[type="submit"]')
    assert "Check your email" in await page.content()
    await page.screenshot(path=artifacts / "check-email.png", full_page=True)

    # No account exists until the link is confirmed: signing in fails like an unknown name.
    await page.goto(f"{origin}/auth/login")
    await page.fill('input[name="username_or_email"]', USERNAME)
    await page.fill('input[name="password"]', PASSWORD)
    async with page.expect_navigation():
        await page.click('form.at-form button[type="submit"]')
    assert "Invalid username/email or password." in await page.content()

    # The verification mail, read from its text part.
    await smtp_server.wait_for(1, timeout=10)
    [mail] = smtp_server.to(EMAIL)
    text, _ = text_and_html(mail)
    link = link_in(text, "/auth/verify")
    assert link.startswith(f"{origin}/auth/verify?token="), link

    # Confirm.
    response = await page.goto(link)
    assert response is not None and response.status == 200
    await page.screenshot(path=artifacts / "confirm.png", full_page=True)
    async with page.expect_navigation():
        await page.click('button[type="submit"]:has-text("Confirm email")')
    assert "Email confirmed" in await page.content()

    # Sign in, then reach the protected route.
    await page.goto(f"{origin}/auth/login?next=/protected")
    await page.fill('input[name="username_or_email"]', USERNAME)
    await page.fill('input[name="password"]', PASSWORD)
    await page.screenshot(path=artifacts / "login.png", full_page=True)
    async with page.expect_navigation(url=f"{origin}/protected"):
        await page.click('form.at-form button[type="submit"]')
    body = await page.text_content("body")
    assert body is not None and f'"username":"{USERNAME}"' in body.replace(" ", "")
    await page.screenshot(path=artifacts / "protected.png", full_page=True)
    session = await session_cookie(context)
    assert session["httpOnly"] and session["sameSite"] == "Lax"

    # Control: the same cookie in a fresh browser context does open the session.
    replay = await browser.new_context()
    other = await replay.new_page()
    await replay.add_cookies([replayable(session)])
    response = await other.goto(f"{origin}/protected")
    assert response is not None and response.status == 200
    assert USERNAME in (await other.text_content("body") or "")

    # Sign out with a real form POST carrying a signed-in page's CSRF token.
    await page.goto(f"{origin}/auth/change-password")
    token = await page.get_attribute('input[name="csrf_token"]', "value")
    assert token
    async with page.expect_navigation(url=re.compile(r"/auth/login")):
        await page.evaluate(LOGOUT_FORM, token)
    assert not [c for c in await context.cookies() if c["name"] == session["name"]]
    response = await page.goto(f"{origin}/protected")
    assert response is not None and "/auth/login" in page.url

    # The old cookie, replayed, no longer opens the session.
    await replay.clear_cookies()
    await replay.add_cookies([replayable(session)])
    assert [c["value"] for c in await replay.cookies()] == [session["value"]]
    response = await other.goto(f"{origin}/protected")
    assert response is not None
    assert "/auth/login" in other.url, (other.url, response.status)
    assert USERNAME not in (await other.content())
    await replay.close()
    await context.close()


def replayable(cookie: dict[str, Any]) -> dict[str, Any]:
    """The fields add_cookies takes, from a cookie read with context.cookies()."""
    return {key: cookie[key] for key in ("name", "value", "domain", "path", "httpOnly",
                                         "secure", "sameSite")}


async def session_cookie(context: Any) -> dict[str, Any]:
    cookies = {c["name"]: c for c in await context.cookies()}
    assert "session_token" in cookies, sorted(cookies)
    return dict(cookies["session_token"])

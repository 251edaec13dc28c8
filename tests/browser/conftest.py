"""A real browser against the real app: Chromium (Debian) driven by Playwright, the app under
Hypercorn on a free loopback port, and a real SMTP server capturing the mail it sends.

CI (``CI=true``) must run these tests: a missing /usr/bin/chromium fails there and only skips
on a developer machine. Never ``playwright install``: the Debian browser is used.
"""

from __future__ import annotations

import asyncio
import socket
import threading
import time
from collections.abc import AsyncIterator, Coroutine, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from tests._support.databases import in_ci
from tests._support.smtp import SmtpServer, smtp_server

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run"]
ARTIFACTS = Path(__file__).resolve().parents[1] / "artifacts" / "browser"
HOST = "127.0.0.1"


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers", "browser: drives Debian's Chromium with Playwright (run in CI, never skipped "
        "there)")


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((HOST, 0))
        return int(sock.getsockname()[1])


@pytest.fixture(name="chromium")
def _chromium() -> Path:
    """The Debian Chromium binary; missing: a failure in CI, a skip on a laptop."""
    if not CHROMIUM.exists():
        message = f"{CHROMIUM} is missing (apt-get install -y chromium)"
        if in_ci():
            pytest.fail(f"CI must run the browser tests: {message}")
        pytest.skip(f"browser test skipped: {message}")
    try:
        import playwright  # noqa: F401
    except ImportError:
        if in_ci():
            pytest.fail("CI must run the browser tests: the playwright package is missing")
        pytest.skip("browser test skipped: pip install playwright (never `playwright install`)")
    return CHROMIUM


@pytest.fixture(name="browser")
async def _browser(chromium: Path) -> AsyncIterator[Any]:
    """Debian's Chromium, launched by Playwright without network chatter."""
    from playwright.async_api import async_playwright

    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(executable_path=str(chromium),
                                                   args=CHROMIUM_ARGS)
        try:
            yield browser
        finally:
            await browser.close()


@pytest.fixture(name="artifacts")
def _artifacts() -> Path:
    """Where screenshots go (tests/artifacts/ is ignored by git)."""
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    return ARTIFACTS


# ---- email: the shared aiosmtpd capture (tests/_support/smtp.py) ---------------------------

__all__ = ["smtp_server"]  # the fixture, re-exported for this directory's tests


# ---- the app under Hypercorn ------------------------------------------------------------------


@dataclass
class LiveServer:
    port: int
    app: Any
    loop: asyncio.AbstractEventLoop | None = None

    @property
    def origin(self) -> str:
        """``http://localhost:<port>``: localhost is a secure context for the browser."""
        return f"http://localhost:{self.port}"

    @property
    def service(self) -> Any:
        return self.app.extensions["authtuna"].service

    async def call(self, coro: Coroutine[Any, Any, Any], timeout: float = 15) -> Any:
        """Run ``coro`` inside the server's own event loop (where its database engine lives)
        and await its result from the test's loop."""
        assert self.loop is not None, "the server loop is not running"
        future = asyncio.run_coroutine_threadsafe(coro, self.loop)
        return await asyncio.wait_for(asyncio.wrap_future(future), timeout)

    async def create_user(self, username: str, password: str, **kwargs: Any) -> Any:
        """A verified user, created through the real service inside the server."""
        kwargs.setdefault("email_verified", True)
        email = kwargs.pop("email", f"{username}@example.com")
        return await self.call(self.service.users.create(email, username, password, **kwargs))


async def _drop_schema(url: str, schema: str) -> None:
    from sqlalchemy import text
    from sqlalchemy.ext.asyncio import create_async_engine

    engine = create_async_engine(url)
    async with engine.begin() as conn:
        await conn.execute(text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
    await engine.dispose()


@pytest.fixture(name="live_server_settings")
def _live_server_settings() -> dict[str, Any]:
    """Extra settings of the live app (a test module may override this fixture)."""
    return {}


@pytest.fixture(name="live_server")
def _live_server(tmp_path: Path, smtp_server: SmtpServer, backend: str,
                 live_server_settings: dict[str, Any]) -> Iterator[LiveServer]:
    """build_app on a fresh database (SQLite file or PostgreSQL schema), served by Hypercorn
    in a background thread."""
    import secrets

    from hypercorn.asyncio import serve
    from hypercorn.config import Config

    from tests._support.databases import postgres_url
    from tests.conftest import TEST_SETTINGS
    from tests.integration.conftest import build_app

    port = free_port()
    schema = f"authtuna_browser_{secrets.token_hex(6)}"
    database = ({"DEFAULT_DATABASE_URI": f"sqlite+aiosqlite:///{tmp_path}/authtuna.db"}
                if backend == "sqlite" else
                {"DEFAULT_DATABASE_URI": postgres_url(), "DATABASE_SCHEMA": schema,
                 "AUTO_CREATE_DATABASE": True})
    app = build_app({
        **TEST_SETTINGS,
        **database,
        "API_BASE_URL": f"http://localhost:{port}",
        "WEBAUTHN_RP_ID": "localhost",
        "WEBAUTHN_ORIGIN": [f"http://localhost:{port}"],
        "SESSION_SECURE": False,
        "EMAIL_ENABLED": True,
        "SMTP_HOST": smtp_server.host,
        "SMTP_PORT": smtp_server.port,
        "MAIL_STARTTLS": False,
        "USE_CREDENTIALS": False,
        **live_server_settings,
    })
    config = Config()
    config.bind = [f"{HOST}:{port}"]
    config.accesslog = None
    config.errorlog = None
    loop = asyncio.new_event_loop()
    stop = asyncio.Event()
    failure: list[BaseException] = []

    def run() -> None:
        asyncio.set_event_loop(loop)
        try:
            loop.run_until_complete(serve(app, config, shutdown_trigger=stop.wait))
        except BaseException as exc:  # noqa: BLE001 - reported by the fixture
            failure.append(exc)
        finally:
            if backend == "postgresql":
                loop.run_until_complete(_drop_schema(str(postgres_url()), schema))
            loop.run_until_complete(loop.shutdown_asyncgens())
            loop.close()

    thread = threading.Thread(target=run, name="hypercorn", daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while True:
        try:
            with socket.create_connection((HOST, port), timeout=0.5):
                break
        except OSError:
            if failure or not thread.is_alive() or time.monotonic() > deadline:
                raise RuntimeError(f"the app did not start: {failure}") from None
            time.sleep(0.05)
    try:
        yield LiveServer(port, app, loop)
    finally:
        loop.call_soon_threadsafe(stop.set)
        thread.join(15)
        assert not thread.is_alive(), "Hypercorn did not stop"
        assert not failure, failure


# ---- shared steps for the MFA and passkey journeys ---------------------------------------------

#: Chrome's virtual authenticator: a platform passkey that verifies the user and consents by
#: itself, so navigator.credentials.create()/get() complete without a person or hardware.
VIRTUAL_AUTHENTICATOR = {
    "protocol": "ctap2", "transport": "internal", "hasResidentKey": True,
    "hasUserVerification": True, "isUserVerified": True, "automaticPresenceSimulation": True,
}


@dataclass
class VirtualAuthenticator:
    cdp: Any
    authenticator_id: str

    async def credentials(self) -> list[dict[str, Any]]:
        """The credentials the authenticator holds (id, rpId, signCount, ...)."""
        found = await self.cdp.send("WebAuthn.getCredentials",
                                    {"authenticatorId": self.authenticator_id})
        return list(found["credentials"])


#: Chromium completes a *conditional* (autofill) passkey request at once when a virtual
#: authenticator with presence simulation holds a credential, so every sign-in page would sign
#: in by itself. Until a test turns autofill on, the page sees a browser without passkey
#: autofill (``isConditionalMediationAvailable`` false): a browser capability, not our code.
AUTOFILL_SWITCH = """(() => {
    let on = false;
    try { on = window.localStorage.getItem("authtuna-test:passkey-autofill") === "on"; }
    catch (error) { return; }
    if (!on && window.PublicKeyCredential) {
        PublicKeyCredential.isConditionalMediationAvailable = () => Promise.resolve(false);
    }
})();"""


async def passkey_autofill(page: Any, origin: str, on: bool) -> None:
    """Turn the browser's passkey autofill (conditional mediation) on or off for ``origin``;
    it applies from the next page load."""
    if not page.url.startswith(origin):
        await page.goto(f"{origin}/bare")
    await page.evaluate("on => on ? localStorage.setItem('authtuna-test:passkey-autofill', 'on')"
                        " : localStorage.removeItem('authtuna-test:passkey-autofill')", on)


async def add_virtual_authenticator(page: Any) -> VirtualAuthenticator:
    """Attach a virtual platform authenticator to ``page`` (via CDP); passkey autofill starts
    off (see AUTOFILL_SWITCH)."""
    await page.add_init_script(AUTOFILL_SWITCH)
    cdp = await page.context.new_cdp_session(page)
    await cdp.send("WebAuthn.enable")
    added = await cdp.send("WebAuthn.addVirtualAuthenticator",
                           {"options": VIRTUAL_AUTHENTICATOR})
    return VirtualAuthenticator(cdp, str(added["authenticatorId"]))


async def new_page(browser: Any) -> tuple[Any, Any]:
    """A fresh browser context and page with the journeys' viewport and timeout."""
    context = await browser.new_context(viewport={"width": 1000, "height": 760})
    page = await context.new_page()
    page.set_default_timeout(10_000)
    return context, page


async def sign_in_with_password(page: Any, origin: str, identifier: str, password: str,
                                next_path: str, lands_on: str | None = None) -> None:
    """Fill in and submit the real sign-in form; wait for the page it leads to."""
    response = await page.goto(f"{origin}/auth/login?next={next_path}")
    assert response is not None and response.status == 200
    await page.fill('input[name="username_or_email"]', identifier)
    await page.fill('input[name="password"]', password)
    async with page.expect_navigation(url=lambda url: (lands_on or next_path) in url):
        await page.click('form.at-form button[type="submit"]')


async def sign_out(page: Any, origin: str) -> None:
    """Press the dashboard top bar's "Sign out" button; end on the sign-in page."""
    if "/ui/" not in page.url:
        await page.goto(f"{origin}/ui/settings")
    async with page.expect_navigation(url=lambda url: "/auth/login" in url):
        await page.click('header.at-topbar button[type="submit"]:has-text("Sign out")')
    check = await page.request.get(f"{origin}/protected", max_redirects=0)
    assert check.status == 302 and "/auth/login" in check.headers["location"], "still signed in"


async def protected_json(page: Any) -> dict[str, Any]:
    """The JSON body of /protected as the browser shows it (page must be on /protected)."""
    import json

    text = await page.text_content("body")
    assert text, page.url
    return dict(json.loads(text))


async def screenshots(page: Any, name: str, folder: Path) -> None:
    """Full-page screenshots of ``page`` at desktop (1280) and phone (390) width, saved as
    ``<folder>/<name>-<width>.png``; the page must not scroll sideways at either."""
    folder.mkdir(parents=True, exist_ok=True)
    for width in (1280, 390):
        await page.set_viewport_size({"width": width, "height": 900})
        await page.screenshot(path=str(folder / f"{name}-{width}.png"), full_page=True)
        overflow = await page.evaluate(
            "document.documentElement.scrollWidth - document.documentElement.clientWidth")
        assert overflow <= 0, f"{name} scrolls sideways by {overflow}px at {width}px"
    await page.set_viewport_size({"width": 1280, "height": 900})

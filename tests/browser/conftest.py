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
from collections.abc import AsyncIterator, Iterator
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

    @property
    def origin(self) -> str:
        """``http://localhost:<port>``: localhost is a secure context for the browser."""
        return f"http://localhost:{self.port}"


@pytest.fixture(name="live_server")
def _live_server(tmp_path: Path, smtp_server: SmtpServer) -> Iterator[LiveServer]:
    """build_app on a fresh SQLite file, served by Hypercorn in a background thread."""
    from hypercorn.asyncio import serve
    from hypercorn.config import Config

    from tests.conftest import TEST_SETTINGS
    from tests.integration.conftest import build_app

    port = free_port()
    app = build_app({
        **TEST_SETTINGS,
        "DEFAULT_DATABASE_URI": f"sqlite+aiosqlite:///{tmp_path}/authtuna.db",
        "API_BASE_URL": f"http://localhost:{port}",
        "SESSION_SECURE": False,
        "EMAIL_ENABLED": True,
        "SMTP_HOST": smtp_server.host,
        "SMTP_PORT": smtp_server.port,
        "MAIL_STARTTLS": False,
        "USE_CREDENTIALS": False,
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
        yield LiveServer(port, app)
    finally:
        loop.call_soon_threadsafe(stop.set)
        thread.join(15)
        assert not thread.is_alive(), "Hypercorn did not stop"
        assert not failure, failure

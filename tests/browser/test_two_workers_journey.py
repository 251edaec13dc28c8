"""The sign-in journey in Chromium against ``hypercorn -w 2`` on PostgreSQL: one browser signs
in and keeps its cookie in two tabs served by different worker processes; signing out in
the first is refused by the other worker within a second (its verification interval is a
minute, so only the LISTEN/NOTIFY broadcast can explain it).

Each answer names its worker (``X-Worker``); the kernel hands each new connection to either
worker, so the test opens the second tab until it lands on the other one.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import pytest

from quart_authtuna.core import AuthService, Settings
from tests._support.databases import database_overrides
from tests._support.workers import free_port, serving_processes
from tests.browser.conftest import screenshots, sign_in_with_password
from tests.conftest import PASSWORD, TEST_SETTINGS

pytestmark = pytest.mark.browser

SCREENS = Path("/work/screens/broadcast")
ATTEMPTS = 8


class Worker:
    """Records which worker answered each navigation to ``path`` in a page, and when."""

    def __init__(self, page: Any, path: str) -> None:
        self.answers: list[tuple[int, str]] = []
        self.times: list[float] = []
        page.on("response", self._seen)
        self.path = path

    def _seen(self, response: Any) -> None:
        if response.url.split("?")[0].endswith(self.path):
            self.answers.append((response.status, response.headers.get("x-worker", "")))
            self.times.append(time.monotonic())


async def open_second_tab(browser: Any, origin: str, cookies: list[Any],
                          avoid: str) -> tuple[Any, Any, Worker] | None:
    """A new tab holding ``cookies`` whose connection reached a worker other than ``avoid``."""
    for _ in range(ATTEMPTS):
        context = await browser.new_context(viewport={"width": 1000, "height": 760})
        await context.add_cookies(cookies)
        page = await context.new_page()
        page.set_default_timeout(10_000)
        seen = Worker(page, "/protected")
        response = await page.goto(f"{origin}/protected")
        assert response is not None and response.status == 200
        if seen.answers[-1][1] != avoid:
            return context, page, seen
        await context.close()
    return None


async def test_logout_in_one_tab_is_refused_by_the_other_worker_within_a_second(
        backend: str, browser: Any, tmp_path: Path) -> None:
    if backend != "postgresql":
        pytest.skip("the two-worker journey runs on PostgreSQL")
    port = free_port()
    origin = f"http://localhost:{port}"
    async with database_overrides(backend, tmp_path) as db:
        config = {**TEST_SETTINGS, **db, "API_BASE_URL": origin, "SESSION_SECURE": False,
                  "SESSION_DB_VERIFICATION_INTERVAL": 60}
        async with AuthService(Settings.from_sources(overrides=config)) as svc:
            await svc.users.create("pat@example.com", "pat", PASSWORD, email_verified=True)
        with serving_processes(config, workers=2, ports=[port]):
            for _ in range(ATTEMPTS):
                measured = await _journey(browser, origin)
                if measured is not None:
                    break
            else:
                pytest.fail("the two tabs never reached different workers")
    assert measured < 1.0
    print(f"refused by the other worker {measured * 1000:.0f} ms after the sign-out")


async def _journey(browser: Any, origin: str) -> float | None:
    """One try: seconds from the sign-out's answer to the other worker's refusal, or None
    when the sign-out and the second tab met the same worker."""
    first_context = await browser.new_context(viewport={"width": 1000, "height": 760})
    try:
        first = await first_context.new_page()
        first.set_default_timeout(10_000)
        mine = Worker(first, "/ui/settings")
        await sign_in_with_password(first, origin, "pat", PASSWORD, "/protected")
        await first.goto(f"{origin}/ui/settings")
        worker_a = mine.answers[-1][1]
        second = await open_second_tab(browser, origin, await first_context.cookies(), worker_a)
        if second is None:
            return None
        context, tab, seen = second
        try:
            logout = Worker(first, "/auth/logout")
            async with first.expect_navigation(url=lambda url: "/auth/login" in url):
                await first.click('header.at-topbar button[type="submit"]:has-text("Sign out")')
            [(status, worker_l)] = logout.answers
            signed_out = logout.times[0]
            assert status in (302, 303)
            worker_b = seen.answers[-1][1]
            if worker_l == worker_b:
                return None
            while True:
                await tab.goto(f"{origin}/protected")
                status, worker = seen.answers[-1]
                if status != 200:
                    break
                assert time.monotonic() - signed_out < 1.0, "still signed in after 1 s"
            elapsed = seen.times[-1] - signed_out
            assert status == 302 and worker == worker_b != worker_l
            assert "/auth/login" in tab.url
            await screenshots(tab, "other-worker-refused", SCREENS)
            return elapsed
        finally:
            await context.close()
    finally:
        await first_context.close()

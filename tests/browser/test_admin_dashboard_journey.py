"""The admin dashboard and permissions pages in Chromium: the area's root lands on the
dashboard, whose chart is drawn by the server (an SVG with no script); a SuperAdmin creates a
permission and is refused a bad name; markup never runs. Screenshots at 1280 and 390 px go to
tests/artifacts/screenshots/ (ignored by git), and neither width scrolls sideways.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from tests.browser.conftest import new_page, screenshots, sign_in_with_password
from tests.conftest import PASSWORD

if TYPE_CHECKING:
    from tests.browser.conftest import LiveServer

pytestmark = pytest.mark.browser
SHOTS = Path(__file__).resolve().parents[1] / "artifacts" / "screenshots"
MARKUP = "<img src=x onerror=alert(1)>"
DAY = 86_400


async def _seed_a_month(server: LiveServer) -> None:
    """Sign-ups and sign-ins spread over the last 30 days (the service's clock moved back
    for each, then restored), a few suspended or with two-factor, and a permission whose
    description is markup."""
    svc = server.service
    real = svc.clock

    async def seed() -> None:
        root = await svc.users.create("root@example.com", "root", PASSWORD, email_verified=True)
        await svc.roles.assign_to_user(root.id, "SuperAdmin", "system", "global")
        now = real()
        try:
            for n in range(24):
                at = now - ((n * 7) % 29) * DAY - 3600
                svc.clock = lambda at=at: at
                user = await svc.users.create(f"member{n}@example.com", f"member{n}", PASSWORD,
                                              email_verified=n % 3 != 0)
                for _ in range((n * 5) % 4 if user.email_verified else 0):
                    await svc.login(user.username, PASSWORD, "203.0.113.9")
                if n % 7 == 3:
                    await svc.users.suspend_user(user.id, "system", "spam")
        finally:
            svc.clock = real
        await svc.permissions.create("reports:export", MARKUP)
        await svc.permissions.create("billing:refund", "Refund a customer's last invoice")
        await svc.roles.add_permission_to_role("Moderator", "reports:export")

    await server.call(seed(), timeout=60)


async def _shots(page: Any, name: str) -> None:
    await screenshots(page, f"admin-{name}", SHOTS)


async def test_dashboard_then_create_a_permission(browser: Any,
                                                  live_server: LiveServer) -> None:
    origin = live_server.origin
    await _seed_a_month(live_server)
    alerts: list[str] = []
    context, page = await new_page(browser)
    page.on("dialog", lambda d: (alerts.append(d.message), d.dismiss()))
    await sign_in_with_password(page, origin, "root", PASSWORD, "/admin/dashboard",
                                "/admin/dashboard")
    assert page.url.endswith("/admin/dashboard")
    assert await page.locator("script").count() == 0
    await page.set_viewport_size({"width": 1280, "height": 900})
    wide, narrow = page.locator("svg.at-chart-wide"), page.locator("svg.at-chart-narrow")
    box = await wide.bounding_box()
    assert box is not None and box["width"] > 600 and box["height"] > 150
    assert not await narrow.is_visible() and await wide.locator("rect").count() > 20
    await page.set_viewport_size({"width": 390, "height": 900})
    box = await narrow.bounding_box()
    assert box is not None and box["width"] > 300 and box["height"] > 180
    assert not await wide.is_visible()
    await _shots(page, "dashboard")
    await page.click("details.at-chart-figures summary")
    assert await page.locator("details.at-chart-figures tbody tr").count() == 30
    await _shots(page, "dashboard-figures")

    await page.click('nav a:has-text("Permissions")')
    assert page.url.endswith("/admin/permissions")
    assert MARKUP in await page.inner_text("main")  # shown as text, never run
    await _shots(page, "permissions")
    await page.click('a:has-text("New permission")')
    await page.fill("#name", "bad name")
    await page.click('button:has-text("Create permission")')
    assert "A permission name is 1-80" in await page.inner_text("main")
    await _shots(page, "permission-new-error")
    await page.fill("#name", "posts:publish")
    await page.fill("#description", "Publish a post for everyone to read")
    await page.click('button:has-text("Create permission")')
    assert page.url.endswith("/admin/permissions?done=created")
    main = await page.inner_text("main")
    assert "The permission was created." in main and "posts:publish" in main
    await _shots(page, "permission-created")
    assert alerts == []
    await context.close()

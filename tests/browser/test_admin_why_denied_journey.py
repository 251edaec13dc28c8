""""Why denied?" in Chromium: a user gets a 403; an admin asks why, reads the reason, follows
the link to the user's page, gives the role at that scope, asks again and sees "Allowed"; the
user's next request passes. Screenshots of both answers at 1280 and 390 px go to
tests/artifacts/screenshots/ (and WHY_DENIED_SHOTS when set); neither width scrolls sideways.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from tests.browser.conftest import new_page, sign_in_with_password
from tests.conftest import PASSWORD

if TYPE_CHECKING:
    from tests.browser.conftest import LiveServer

pytestmark = pytest.mark.browser
SHOTS = Path(__file__).resolve().parents[1] / "artifacts" / "screenshots"


async def _setup(server: LiveServer) -> None:
    svc = server.service

    async def seed() -> None:
        admin = await svc.users.create("boss@example.com", "boss", PASSWORD, email_verified=True)
        await svc.roles.assign_to_user(admin.id, "Admin", "system", "global")
        await svc.permissions.get_or_create("projects:read")
        await svc.roles.create("ProjectReader", "Reads projects", level=10)
        await svc.roles.add_permission_to_role("ProjectReader", "projects:read")
        target = await svc.users.create("tara@example.com", "tara", PASSWORD,
                                        email_verified=True)
        await svc.roles.assign_to_user(target.id, "ProjectReader", "system", "project:p2")
        await svc.roles.assign_to_user(target.id, "OrgMember", "system", "org:acme")

    await server.call(seed())


async def _shots(page: Any, name: str) -> None:
    """Screenshots at desktop and phone width; the page must not scroll sideways."""
    folders = [SHOTS] + ([Path(os.environ["WHY_DENIED_SHOTS"])]
                         if os.environ.get("WHY_DENIED_SHOTS") else [])
    for width in (1280, 390):
        await page.set_viewport_size({"width": width, "height": 900})
        for folder in folders:
            folder.mkdir(parents=True, exist_ok=True)
            await page.screenshot(path=str(folder / f"admin-{name}-{width}.png"),
                                  full_page=True)
        overflow = await page.evaluate(
            "document.documentElement.scrollWidth - document.documentElement.clientWidth")
        assert overflow <= 0, f"{name} scrolls sideways by {overflow}px at {width}px"
    await page.set_viewport_size({"width": 1280, "height": 900})


async def test_admin_finds_why_a_user_was_denied_and_fixes_it(
        browser: Any, live_server: LiveServer) -> None:
    origin = live_server.origin
    await _setup(live_server)
    user_ctx, user_page = await new_page(browser)
    admin_ctx, admin_page = await new_page(browser)
    await sign_in_with_password(user_page, origin, "tara", PASSWORD, "/protected")
    assert (await user_page.goto(f"{origin}/projects/p1")).status == 403

    await sign_in_with_password(admin_page, origin, "boss", PASSWORD, "/protected")
    await admin_page.goto(f"{origin}/admin/users")
    await admin_page.click('nav a:has-text("Why denied?")')
    assert "/admin/why-denied" in admin_page.url
    await _shots(admin_page, "why-denied-empty")
    await admin_page.fill("#wd-user", "tara")
    await admin_page.fill("#wd-permission", "projects:read")
    await admin_page.fill("#wd-scope", "project:p1")
    await admin_page.click('button:has-text("Check")')
    verdict = await admin_page.inner_text(".at-wd-verdict")
    assert "Denied" in verdict and "only through ProjectReader at project:p2" in verdict
    assert "give tara one of these roles at project:p1" in verdict
    await _shots(admin_page, "why-denied-deny")

    await admin_page.click('a:has-text("Open tara\'s page to give a role at project:p1")')
    assert "/admin/users/" in admin_page.url
    assert await admin_page.input_value("#pick-scope") == "project:p1"
    await admin_page.select_option("#assign-role", "ProjectReader")
    await admin_page.click('button:has-text("Give role")')
    assert "The role was given" in await admin_page.inner_text("main")

    await admin_page.click('a:has-text("Why denied?")  >> nth=-1')
    await admin_page.fill("#wd-permission", "projects:read")
    await admin_page.fill("#wd-scope", "project:p1")
    await admin_page.click('button:has-text("Check")')
    verdict = await admin_page.inner_text(".at-wd-verdict")
    assert "Allowed" in verdict and "holds ProjectReader at project:p1" in verdict
    await _shots(admin_page, "why-denied-allow")
    assert (await user_page.goto(f"{origin}/projects/p1")).status == 200
    await user_ctx.close()
    await admin_ctx.close()

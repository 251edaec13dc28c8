"""The admin users area in Chromium: search a user, give a role at a scope (the user's open
browser gains access on its next request), suspend (that browser is signed out on its next
request); markup in names never runs. Screenshots at 1280 and 390 px go to
tests/artifacts/screenshots/ (ignored by git), and neither width scrolls sideways.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import pytest

from tests.browser.admin_pages import admin_and_user, shots
from tests.conftest import PASSWORD

if TYPE_CHECKING:
    from tests.browser.conftest import LiveServer

pytestmark = pytest.mark.browser
MARKUP = "<img src=x onerror=alert(1)>"


async def _setup(server: LiveServer) -> None:
    svc = server.service

    async def seed() -> None:
        admin = await svc.users.create("boss@example.com", "boss", PASSWORD,
                                       email_verified=True, first_name="Bea", last_name="Boss")
        await svc.roles.assign_to_user(admin.id, "Admin", "system", "global")
        await svc.permissions.get_or_create("projects:read")
        await svc.roles.create("ProjectReader", "Reads projects", level=10)
        await svc.roles.add_permission_to_role("ProjectReader", "projects:read")
        target = await svc.users.create("tara@example.com", "tara", PASSWORD,
                                        email_verified=True, first_name=MARKUP)
        await svc.roles.assign_to_user(target.id, "OrgMember", "system", "org:acme")
        for n in range(6):
            await svc.users.create(f"teammate{n}@example.com", f"teammate{n}", PASSWORD,
                                   email_verified=n % 2 == 0)
        await svc.audit.log_event("NOTE", target.id, details={"comment": MARKUP})

    await server.call(seed())


async def test_admin_searches_assigns_a_scoped_role_then_suspends(
        browser: Any, live_server: LiveServer) -> None:
    origin = live_server.origin
    await _setup(live_server)
    pages = await admin_and_user(browser, origin, "boss", "tara")
    admin_page, user_page = pages.admin, pages.user
    assert (await user_page.goto(f"{origin}/projects/p1")).status == 403

    await admin_page.goto(f"{origin}/admin/users")
    await shots(admin_page, "users")
    await admin_page.fill("#q", "ta")
    await admin_page.click('button:has-text("Search")')
    await admin_page.click('a.at-strong-link:has-text("tara")')
    assert "/admin/users/" in admin_page.url
    await shots(admin_page, "user-detail")

    await admin_page.fill("#pick-scope", "project:p1")
    await admin_page.click('button:has-text("Show roles")')
    await admin_page.select_option("#assign-role", "ProjectReader")
    await admin_page.click('button:has-text("Give role")')
    assert "The role was given" in await admin_page.inner_text("main")
    assert (await user_page.goto(f"{origin}/projects/p1")).status == 200
    assert (await user_page.goto(f"{origin}/projects/p2")).status == 403

    await admin_page.fill("#reason", "Reported for spam")
    await admin_page.click('button:has-text("Suspend account")')
    assert "every one of its sessions has ended" in await admin_page.inner_text("main")
    await shots(admin_page, "user-suspended")
    await user_page.goto(f"{origin}/protected")
    assert "/auth/login" in user_page.url

    await admin_page.click('a:has-text("Full audit log")')
    await shots(admin_page, "user-audit-log")
    await admin_page.goto(f"{origin}/admin/users?q=zzz")
    await shots(admin_page, "users-empty")
    assert pages.alerts == []
    await pages.close()

"""The admin roles area in Chromium: the list, a role's page (attaching a permission gives the
holder's open browser access on its next request), creating a role, and deleting one after
its confirmation page (the holder loses access); markup in a description never runs.
Screenshots at 1280 and 390 px go to tests/artifacts/screenshots/ (ignored by git), and
neither width scrolls sideways.
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
        chief = await svc.users.create("chief@example.com", "chief", PASSWORD,
                                       email_verified=True)
        await svc.roles.assign_to_user(chief.id, "SuperAdmin", "system", "global")
        await svc.permissions.get_or_create("projects:read")
        await svc.roles.grant_relationship("SuperAdmin", "projects:read", kind="permission")
        await svc.roles.create("ProjectReader", "Reads every project of the company", level=10)
        await svc.roles.create("Marked", MARKUP, level=5)
        reader = await svc.users.create("rita@example.com", "rita", PASSWORD,
                                        email_verified=True)
        await svc.roles.assign_to_user(reader.id, "ProjectReader", "system", "global")
        for n in range(3):
            user = await svc.users.create(f"member{n}@example.com", f"member{n}", PASSWORD,
                                          email_verified=True)
            await svc.roles.assign_to_user(user.id, "ProjectReader", "system",
                                           f"org:acme/team:t{n % 2}")

    await server.call(seed())


async def test_admin_manages_a_role_and_holders_feel_it_at_once(
        browser: Any, live_server: LiveServer) -> None:
    origin = live_server.origin
    await _setup(live_server)
    pages = await admin_and_user(browser, origin, "chief", "rita")
    admin_page, user_page = pages.admin, pages.user
    assert (await user_page.goto(f"{origin}/projects/p1")).status == 403

    await admin_page.goto(f"{origin}/admin/users")
    await admin_page.click('nav a:has-text("Roles")')
    assert admin_page.url.endswith("/admin/roles")
    await shots(admin_page, "roles")

    await admin_page.click('a.at-strong-link:has-text("ProjectReader")')
    await admin_page.select_option("#attach-permission", "projects:read")
    await admin_page.click('button:has-text("Attach")')
    assert "The permission was attached" in await admin_page.inner_text("main")
    assert (await user_page.goto(f"{origin}/projects/p1")).status == 200
    await admin_page.select_option("#allow-role", "OrgMember")
    await admin_page.click('#role-grants-title ~ form button:has-text("Allow")')
    assert "may now assign that role" in await admin_page.inner_text("main")
    await shots(admin_page, "role-detail")

    await admin_page.goto(f"{origin}/admin/roles/new")
    await admin_page.click('button:has-text("Create role")')  # empty: the name is required
    assert "Name the role." in await admin_page.inner_text("main")
    await admin_page.fill("#name", "Auditor")
    await admin_page.fill("#description", "Reads the audit log")
    await admin_page.fill("#level", "100")  # the creator's own level: refused
    await admin_page.click('button:has-text("Create role")')
    assert "below your own" in await admin_page.inner_text("main")
    await shots(admin_page, "role-new")
    await admin_page.fill("#level", "30")
    await admin_page.click('button:has-text("Create role")')
    assert "/admin/roles/Auditor" in admin_page.url
    assert "The role was created" in await admin_page.inner_text("main")

    await admin_page.goto(f"{origin}/admin/roles/Marked")
    assert MARKUP in await admin_page.inner_text("main")
    await admin_page.goto(f"{origin}/admin/roles/ProjectReader")
    await admin_page.click('a:has-text("Delete role")')
    assert "4 users" in await admin_page.inner_text("main")
    await shots(admin_page, "role-delete")
    await admin_page.click('button:has-text("Delete ProjectReader")')
    assert "The role was deleted" in await admin_page.inner_text("main")
    assert "ProjectReader" not in await admin_page.inner_text("table")
    assert (await user_page.goto(f"{origin}/projects/p1")).status == 403
    assert pages.alerts == []
    await pages.close()

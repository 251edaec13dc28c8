"""Markup that users and admins typed never runs on any admin page.

A user whose names, a role's and a permission's descriptions and an audit detail all hold
markup; a SuperAdmin then opens every GET page of the admin area, found in the app's URL map
(so a new page is covered without editing this test), with the path parameters filled in
for that user and role. No dialog opens, no injected element exists, and each page shows
the markup as text.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import pytest

from tests.browser.conftest import new_page, sign_in_with_password
from tests.conftest import PASSWORD

if TYPE_CHECKING:
    from tests.browser.conftest import LiveServer

pytestmark = pytest.mark.browser
MARKUP = '<img src=x id=injected onerror=alert(1)>"><script>alert(2)</script>'


async def _seed(server: LiveServer) -> dict[str, str]:
    svc = server.service

    async def seed() -> dict[str, str]:
        root = await svc.users.create("root@example.com", "root", PASSWORD, email_verified=True)
        await svc.roles.assign_to_user(root.id, "SuperAdmin", "system", "global")
        victim = await svc.users.create("mallory@example.com", "mallory", PASSWORD,
                                        email_verified=True, first_name=MARKUP,
                                        last_name=MARKUP)
        await svc.permissions.get_or_create("notes:read", {"description": MARKUP})
        await svc.roles.create("Noter", MARKUP, level=5)
        await svc.roles.add_permission_to_role("Noter", "notes:read")
        await svc.roles.assign_to_user(victim.id, "Noter", "system", "org:acme")
        await svc.audit.log_event("NOTE", victim.id, details={"comment": MARKUP})
        return {"user_id": victim.id, "role_name": "Noter", "permission_name": "notes:read"}

    values: dict[str, str] = await server.call(seed())
    return values


def _admin_pages(app: Any, values: dict[str, str]) -> list[str]:
    """Every GET route of the admin blueprint whose parameters we can fill, as paths."""
    paths = []
    for rule in app.url_map.iter_rules():
        if not rule.endpoint.startswith("authtuna_admin.") or "GET" not in rule.methods:
            continue
        if rule.endpoint.endswith((".static", "export_csv", "export_json")):
            continue
        args = {name: values[name] for name in rule.arguments if name in values}
        if set(args) != set(rule.arguments):
            continue
        path = rule.rule
        for name, value in args.items():
            path = path.replace(f"<{name}>", value)
        paths.append(path)
    return sorted(set(paths))


async def test_markup_never_runs_on_any_admin_page(browser: Any,
                                                   live_server: LiveServer) -> None:
    origin = live_server.origin
    values = await _seed(live_server)
    pages = _admin_pages(live_server.app, values)
    assert len(pages) >= 8, pages  # dashboard, users, a user, their log, audit, ...
    context, page = await new_page(browser)
    dialogs: list[str] = []
    page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
    await sign_in_with_password(page, origin, "root", PASSWORD, "/admin/dashboard")
    shown_as_text = 0
    for path in pages + ["/admin/users?q=mallory", "/admin/audit?user=mallory",
                         "/admin/why-denied?user=mallory&permission=notes:read&scope=org:acme"]:
        response = await page.goto(f"{origin}{path}")
        assert response is not None and response.status == 200, (path, response and
                                                                   response.status)
        assert await page.locator("#injected").count() == 0, path
        assert await page.locator("script").count() == 0, path  # no script at all on them
        shown_as_text += MARKUP in (await page.text_content("body") or "")
    assert dialogs == []
    assert shown_as_text >= 5  # the markup is there, as text, on most pages
    await context.close()

"""The admin audit log in Chromium: open it from the admin navigation, filter by type and user,
page back and forth, and export what the filters show (the downloaded CSV and JSON read back).
Markup in details never runs; screenshots at 1280 and 390 px go to
tests/artifacts/screenshots/ (ignored by git), and neither width scrolls sideways.
"""

from __future__ import annotations

import csv
import io
import json
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


async def _setup(server: LiveServer) -> None:
    svc = server.service

    async def seed() -> None:
        admin = await svc.users.create("boss@example.com", "boss", PASSWORD,
                                       email_verified=True)
        await svc.roles.assign_to_user(admin.id, "Admin", "system", "global")
        tara = await svc.users.create("tara@example.com", "tara", PASSWORD,
                                      email_verified=True)
        omar = await svc.users.create("omar@example.com", "omar", PASSWORD,
                                      email_verified=True)
        await svc.roles.assign_to_user(tara.id, "OrgMember", admin.id, "org:acme")
        for n in range(30):
            await svc.audit.log_event("LOGIN_FAILED", tara.id, f"198.51.100.{n % 4}",
                                      {"attempt": n, "reason": "wrong password"})
        await svc.audit.log_event("NOTE", tara.id, "=1+1", {"comment": MARKUP,
                                                            "formula": "=HYPERLINK(1)"})
        for n in range(5):
            await svc.audit.log_event("LOGIN_FAILED", omar.id, "203.0.113.9", {"attempt": n})

    await server.call(seed())


async def _shots(page: Any, name: str) -> None:
    await screenshots(page, f"admin-{name}", SHOTS)


async def _download(page: Any, label: str) -> tuple[str, str]:
    """Click an export link; the file's suggested name and its text."""
    async with page.expect_download() as info:
        await page.click(f'a:has-text("{label}")')
    download = await info.value
    path = await download.path()
    assert path is not None
    return download.suggested_filename, Path(path).read_text(encoding="utf-8")


async def test_admin_filters_the_audit_log_pages_it_and_exports_it(
        browser: Any, live_server: LiveServer) -> None:
    origin = live_server.origin
    await _setup(live_server)
    alerts: list[str] = []
    context, page = await new_page(browser)
    page.on("dialog", lambda d: (alerts.append(d.message), d.dismiss()))
    await sign_in_with_password(page, origin, "boss", PASSWORD, "/protected")
    await page.goto(f"{origin}/admin/users")
    await page.click('nav a:has-text("Audit log")')
    assert page.url.endswith("/admin/audit")
    assert await page.get_attribute('nav a:has-text("Audit log")', "aria-current") == "page"
    await _shots(page, "audit")

    await page.fill("#event_type", "LOGIN_FAILED")
    await page.fill("#user", "tara@example.com")
    await page.click('button:has-text("Filter")')
    main = await page.inner_text("main")
    assert "Matching events" in main and "omar" not in main and "NOTE" not in main
    assert await page.locator("table.at-events tbody tr").count() == 30
    await _shots(page, "audit-filtered")

    await page.goto(f"{origin}/admin/audit?event_type=LOGIN_FAILED&user=tara&limit=20")
    first = await page.locator('td[data-label="Details"]').all_inner_texts()
    await page.click('a:has-text("Next (older)")')
    second = await page.locator('td[data-label="Details"]').all_inner_texts()
    assert len(first) == 20 and len(second) == 10 and not set(first) & set(second)
    await _shots(page, "audit-page2")
    await page.click('a:has-text("Previous")')
    assert await page.locator('td[data-label="Details"]').all_inner_texts() == first

    name, text = await _download(page, "Export CSV")
    assert name.startswith("audit-") and name.endswith(".csv")
    rows = list(csv.DictReader(io.StringIO(text)))
    assert len(rows) == 30
    assert {r["event_type"] for r in rows} == {"LOGIN_FAILED"}
    assert {r["username"] for r in rows} == {"tara"}
    name, text = await _download(page, "Export JSON")
    assert name.endswith(".json")
    assert sorted(e["details"]["attempt"] for e in json.loads(text)) == list(range(30))

    await page.goto(f"{origin}/admin/audit?event_type=NOTE")
    assert MARKUP in await page.inner_text("main")  # shown as text, never run
    _, text = await _download(page, "Export CSV")
    (note,) = list(csv.DictReader(io.StringIO(text)))
    assert note["ip_address"] == "'=1+1" and note["details"].startswith("{")
    await page.click('td[data-label="User"] a:has-text("tara")')
    await page.click('a:has-text("Full audit log")')
    await page.goto(f"{page.url}?limit=12")
    await page.click('a:has-text("Next (older)")')
    assert "Previous" in await page.inner_text("main")
    await page.click('a:has-text("Next (older)")')  # the last page: her first events
    main = await page.inner_text("main")
    assert "ROLE_ASSIGNED" in main and "boss" in main  # the actor, by name
    assert "Next (older)" not in main
    await _shots(page, "user-audit-log-last")
    await page.goto(f"{origin}/admin/audit?user=nobody")
    assert "No events match these filters." in await page.inner_text("main")
    await _shots(page, "audit-empty")
    assert alerts == []
    await context.close()

"""Shared steps of the admin journeys in Chromium: screenshots at both widths (never scrolling
sideways), and an admin's browser beside a user's, both signed in."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tests.browser.conftest import new_page, screenshots, sign_in_with_password
from tests.conftest import PASSWORD

SHOTS = Path(__file__).resolve().parents[1] / "artifacts" / "screenshots"


async def shots(page: Any, name: str) -> None:
    """``admin-<name>`` at 1280 and 390 px in tests/artifacts/screenshots/ (no sideways
    scrolling at either)."""
    await screenshots(page, f"admin-{name}", SHOTS)


@dataclass
class AdminAndUser:
    """Two signed-in browsers; ``alerts`` collects every dialog (a script that ran)."""

    admin: Any
    user: Any
    contexts: list[Any]
    alerts: list[str] = field(default_factory=list)

    async def close(self) -> None:
        for context in self.contexts:
            await context.close()


async def admin_and_user(browser: Any, origin: str, admin: str, user: str) -> AdminAndUser:
    """``user`` signed in first (checked on /protected), then ``admin``."""
    user_ctx, user_page = await new_page(browser)
    admin_ctx, admin_page = await new_page(browser)
    pages = AdminAndUser(admin_page, user_page, [user_ctx, admin_ctx])
    for page in (user_page, admin_page):
        page.on("dialog", lambda d: (pages.alerts.append(d.message), d.dismiss()))
    await sign_in_with_password(user_page, origin, user, PASSWORD, "/protected")
    await sign_in_with_password(admin_page, origin, admin, PASSWORD, "/protected")
    return pages

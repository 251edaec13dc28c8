"""Organizations in Chromium: an owner creates one and invites a new person by email; the
person signs up from the link and lands in it; the owner makes a team and the person its lead;
the person opens a team-scoped page; the owner removes them and the page answers 403.

Screenshots of each page, at 1280 and 390 px, go to tests/artifacts/browser/ and to
/work/screens/orgs/ when that directory exists.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from tests._support.orgs import allow_org_creation
from tests._support.smtp import SmtpServer, text_and_html
from tests.conftest import PASSWORD

if TYPE_CHECKING:
    from tests.browser.conftest import LiveServer

pytestmark = pytest.mark.browser
SCREENS = Path("/work/screens/orgs")


async def shoot(page: Any, artifacts: Path, name: str) -> None:
    """The page at desktop and phone widths (full height)."""
    for width in (1280, 390):
        await page.set_viewport_size({"width": width, "height": 800})
        for folder in (artifacts, SCREENS):
            if folder.exists():
                await page.screenshot(path=folder / f"orgs-{name}-{width}.png", full_page=True)
    await page.set_viewport_size({"width": 1000, "height": 760})


async def sign_in(page: Any, origin: str, username: str) -> None:
    await page.goto(f"{origin}/auth/login")
    await page.fill('input[name="username_or_email"]', username)
    await page.fill('input[name="password"]', PASSWORD)
    async with page.expect_navigation():
        await page.click('form.at-form button[type="submit"]')


async def submit_in(page: Any, section: str, label: str) -> None:
    async with page.expect_navigation():
        await page.click(f'{section} button:has-text("{label}")')


async def test_owner_invites_a_new_person_who_leads_a_team_until_removed(
        browser: Any, live_server: LiveServer, smtp_server: SmtpServer,
        artifacts: Path) -> None:
    origin = live_server.origin
    owner = await live_server.create_user("olivia", PASSWORD)
    await live_server.call(allow_org_creation(live_server.service, owner.id))
    boss_ctx = await browser.new_context(viewport={"width": 1000, "height": 760})
    boss = await boss_ctx.new_page()
    boss.set_default_timeout(10_000)

    # The owner creates an organization.
    await sign_in(boss, origin, "olivia")
    await boss.goto(f"{origin}/ui/organizations")
    await boss.fill('#create input[name="name"]', "Acme Rockets")
    await shoot(boss, artifacts, "list")
    await submit_in(boss, "#create", "Create organization")
    org_url = boss.url.split("?")[0]
    org_id = org_url.rsplit("/", 1)[1]
    assert "The organization was created" in await boss.content()

    # … and invites a new person by email.
    await boss.fill('#invitations input[name="email"]', "nina@example.com")
    await submit_in(boss, "#invitations", "Send invitation")
    assert "nina@example.com" in await boss.inner_text("#pending table")
    await shoot(boss, artifacts, "organization")

    # The person follows the link from the real mail, signs up there and lands in it.
    await smtp_server.wait_for(1, timeout=10)
    [mail] = smtp_server.to("nina@example.com")
    text, _ = text_and_html(mail)
    match = re.search(r"https?://\S+/ui/organizations/join\?token=\S+", text)
    assert match, text
    nina_ctx = await browser.new_context(viewport={"width": 1000, "height": 760})
    nina = await nina_ctx.new_page()
    nina.set_default_timeout(10_000)
    await nina.goto(match.group(0))
    assert "Join Acme Rockets" in await nina.content()
    await nina.fill('input[name="username"]', "nina")
    await nina.fill('input[name="password"]', PASSWORD)
    await shoot(nina, artifacts, "join")
    async with nina.expect_navigation():
        await nina.click('form.at-form button[type="submit"]')
    assert nina.url.split("?")[0] == org_url
    assert "Acme Rockets" in await nina.inner_text("h1")
    assert "OrgMember" in await nina.inner_text("#members")

    # The owner creates a team and makes the person its lead.
    await boss.goto(org_url)
    await boss.fill('#teams input[name="name"]', "Launch")
    await submit_in(boss, "#teams", "Create team")
    team_id = boss.url.split("?")[0].rsplit("/", 1)[1]
    nina_user = await live_server.call(live_server.service.users.get_by_username("nina"))
    await boss.select_option('#add select[name="user_id"]', nina_user.id)
    await boss.select_option('#add select[name="role_name"]', "TeamLead")
    await submit_in(boss, "#add", "Save")
    assert "TeamLead" in await boss.inner_text("#members")
    await shoot(boss, artifacts, "team")

    # The person opens a team-scoped page.
    board = f"{origin}/orgs/{org_id}/teams/{team_id}/board"
    response = await nina.goto(board)
    assert response is not None and response.status == 200
    assert "nina" in await nina.content()

    # The owner removes them; the page answers 403 on their next request.
    await boss.goto(org_url)
    await submit_in(boss, "#members", "Remove")
    assert "The member was removed" in await boss.content()
    response = await nina.goto(board)
    assert response is not None and response.status == 403

    # An admin sees the organization and its members in the admin area.
    admin = await live_server.create_user("ada", PASSWORD)
    await live_server.call(live_server.service.roles.assign_to_user(admin.id, "Admin",
                                                                    "system", "global"))
    await sign_in(nina, origin, "ada")
    await nina.goto(f"{origin}/admin/organizations")
    assert "Acme Rockets" in await nina.inner_text("main")
    await shoot(nina, artifacts, "admin-list")
    async with nina.expect_navigation():
        await nina.click('main a:has-text("Acme Rockets")')
    assert "OrgOwner" in await nina.inner_text("main")
    await shoot(nina, artifacts, "admin-detail")
    await boss_ctx.close()
    await nina_ctx.close()

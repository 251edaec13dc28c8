"""The user dashboard: account status, the latest security events in words, shortcuts, the
shared navigation, and the same data as JSON."""

from __future__ import annotations

import re
from typing import Any

from quart_authtuna.core import AuthService
from quart_authtuna.core.activity import SENTENCES, describe
from tests._support.clock import FakeClock

JSON = {"Accept": "application/json"}


async def test_dashboard_needs_a_signed_in_user(client: Any) -> None:
    page = await client.get("/ui/dashboard")
    assert page.status_code == 302 and "/auth/login" in page.headers["Location"]
    assert (await client.get("/ui/dashboard", headers=JSON)).status_code == 401


async def test_dashboard_json_reports_status_sessions_and_events(
        client: Any, app: Any, svc: AuthService, make_user: Any, login: Any,
        clock: FakeClock) -> None:
    user = await make_user("dora")
    other = app.test_client()  # an earlier sign-in from another browser
    await other.post("/auth/login", json={"username_or_email": "dora", "password":
                                          "correct horse battery staple"},
                     headers={"Origin": "http://localhost", "User-Agent": "Firefox/120"})
    clock.advance(60)
    await login("dora")
    body = await (await client.get("/ui/dashboard", headers=JSON)).get_json()
    data = body["data"]
    assert data["user"] == {"id": user.id, "username": "dora", "email": "dora@example.com"}
    assert data["email_verified"] is True and data["mfa_enabled"] is False
    assert data["passkeys"] == 0 and data["active_sessions"] == 2
    assert data["previous_sign_in"]["at"] == clock.now - 60
    events = data["recent_events"]
    assert 1 <= len(events) <= 5
    assert events[0]["event_type"] == "LOGIN_SUCCESS"
    assert events[0]["description"] == "You signed in with your password"
    assert all(e["event_type"] in SENTENCES for e in events)  # no bookkeeping rows


async def test_dashboard_lists_only_the_five_newest_events_of_this_user(
        client: Any, svc: AuthService, make_user: Any, login: Any, clock: FakeClock) -> None:
    user = await make_user("eve")
    stranger = await make_user("mallory")
    for _ in range(7):
        clock.advance(1)
        await svc.audit.log_event("PASSWORD_CHANGED", user.id, "198.51.100.7")
    await svc.audit.log_event("MFA_ENABLED", stranger.id)
    await login("eve")
    data = (await (await client.get("/ui/dashboard", headers=JSON)).get_json())["data"]
    assert len(data["recent_events"]) == 5
    assert {e["event_type"] for e in data["recent_events"]} <= {"LOGIN_SUCCESS",
                                                                 "PASSWORD_CHANGED"}


async def test_dashboard_page_shows_status_events_shortcuts_and_marks_the_nav(
        client: Any, make_user: Any, login: Any) -> None:
    await make_user("frank")
    await login("frank")
    page = await client.get("/ui/dashboard")
    assert page.status_code == 200
    html = await page.get_data(as_text=True)
    assert "Account status" in html and "Verified" in html
    assert "You signed in with your password" in html
    assert "None before this one." in html
    for shortcut in ("Change password", "Two-factor authentication", "Passkeys", "Profile"):
        assert shortcut in html
    nav = re.search(r'<nav class="at-sidenav".*?</nav>', html, re.S)
    assert nav is not None
    links = re.findall(r'<a href="([^"]+)"( aria-current="page")?>([^<]+)</a>', nav.group(0))
    assert [(href, label) for href, _, label in links] == [
        ("/ui/dashboard", "Dashboard"), ("/ui/profile", "Profile"),
        ("/ui/organizations", "Organizations"), ("/ui/settings", "Settings")]
    assert [label for _, current, label in links if current] == ["Dashboard"]


async def test_settings_and_profile_mark_their_own_nav_entry(
        client: Any, make_user: Any, login: Any) -> None:
    await make_user("gina")
    await login("gina")
    for path, label in (("/ui/settings", "Settings"), ("/ui/profile", "Profile")):
        html = await (await client.get(path)).get_data(as_text=True)
        assert re.findall(r'aria-current="page">([^<]+)<', html) == [label]


async def test_dashboard_escapes_what_users_supply(
        client: Any, svc: AuthService, make_user: Any, login: Any) -> None:
    user = await make_user("henry")
    async with svc.transaction() as tx:
        session_row = await svc.sessions.create(user.id, "203.0.113.9",
                                                region="<script>alert(1)</script>",
                                                device="<img src=x onerror=alert(2)>",
                                                session=tx)
    assert session_row
    await login("henry")
    html = await (await client.get("/ui/dashboard")).get_data(as_text=True)
    assert "<script>alert(1)" not in html and "<img src=x" not in html
    assert "&lt;img src=x onerror=alert(2)&gt;" in html


def test_describe_reads_like_a_person_and_never_fails() -> None:
    assert describe("MFA_ENABLED") == "You turned on two-factor authentication"
    assert describe("LOGIN_SUCCESS", {"method": "passkey"}) == "You signed in with a passkey"
    assert describe("SESSIONS_TERMINATED_ALL", {"count": 1}) == "1 session signed out"
    assert describe("SOMETHING_NEW") == "Account event: something new"

"""Revocation: at once in the process that made the change, within one interval elsewhere.

Process A is the ``app`` fixture; process B is a second app on the same database, with its
own engine, session cache and grant cache (as a second worker would have). These tests pin the
interval bound, so no broadcaster runs (``local``); tests/unit/test_revocation_broadcast.py
shows the broadcast bringing it under a second.
"""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import select

from quart_authtuna.core import AuthService
from quart_authtuna.core.db.models import User, UserSession
from tests._support.clock import FakeClock
from tests._support.web import ORIGIN, submit
from tests.conftest import PASSWORD
from tests.integration.conftest import app_on_same_database

pytestmark = pytest.mark.settings(REVOCATION_BROADCASTER="local")

COOKIE = "session_token"
INTERVAL = 10.0
JSON = {"Accept": "application/json"}
NEW_PASSWORD = "an entirely different passphrase 42"


# ---- helpers -----------------------------------------------------------------------------

def jar_cookie(client: Any) -> str:
    value = next((c.value for c in client.cookie_jar if c.name == COOKIE), None)
    assert value, "client has no session cookie"
    return value


async def get_with(app: Any, path: str, cookie: str, **kwargs: Any) -> Any:
    """GET ``path`` from a cookie-less client presenting exactly ``cookie``."""
    raw = app.app.test_client(use_cookies=False)
    headers = {"Cookie": f"{COOKIE}={cookie}", **kwargs.pop("headers", {})}
    return await raw.get(path, headers=headers, **kwargs)


async def sign_in(app: Any, username: str) -> Any:
    """A new browser (client with a cookie jar) signed in to ``app``."""
    client = app.test_client()
    response = await submit(client, "/auth/login",
                            {"username_or_email": username, "password": PASSWORD})
    assert response.status_code == 302, await response.get_data(as_text=True)
    return client


def refused(response: Any, face: str = "html") -> bool:
    return response.status_code == (401 if face == "json" else 302)


async def project_reader(svc: AuthService, make_user: Any, name: str = "pat") -> User:
    await svc.permissions.create("projects:read")
    await svc.roles.create("ProjectReader", "reads projects")
    await svc.roles.add_permission_to_role("ProjectReader", "projects:read")
    return await make_user(name, roles=(("ProjectReader", "project:p1"),))


async def active_sessions(svc: AuthService, user_id: str) -> int:
    async with svc.transaction() as tx:
        rows = (await tx.scalars(select(UserSession).where(
            UserSession.user_id == user_id, UserSession.active.is_(True)))).all()
    return len(rows)


# ---- logout ------------------------------------------------------------------------------

async def test_logout_revokes_at_once_in_the_same_process(
        app: Any, client: Any, svc: AuthService, make_user: Any, login: Any,
        face: str) -> None:
    user = await make_user("pat")
    await login("pat", face=face)
    old = jar_cookie(client)
    response = await submit(client, "/auth/logout", {}, page="/auth/change-password", face=face)
    assert response.status_code in (200, 302)
    headers = JSON if face == "json" else {}
    replay = await get_with(app, "/protected", old, headers=headers)
    assert refused(replay, face)
    assert any(h.startswith(f"{COOKIE}=;") for h in replay.headers.getlist("Set-Cookie"))
    assert await active_sessions(svc, user.id) == 0


async def test_logout_reaches_another_process_within_one_interval(
        app: Any, client: Any, svc: AuthService, make_user: Any, login: Any,
        clock: FakeClock, app_settings: dict[str, Any]) -> None:
    await make_user("pat")
    await login("pat")
    old = jar_cookie(client)
    async with app_on_same_database(svc, app_settings, clock) as b:
        assert (await get_with(b, "/protected", old)).status_code == 200  # B verifies now
        clock.advance(INTERVAL / 2)
        response = await submit(client, "/auth/logout", {}, page="/auth/change-password")
        assert response.status_code == 302
        assert refused(await get_with(app, "/protected", old))
        # B trusts its cache until its interval (from B's own verification) runs out …
        assert (await get_with(b, "/protected", old)).status_code == 200
        clock.advance(INTERVAL / 2 + 0.1)
        # … and not a moment longer.
        assert refused(await get_with(b, "/protected", old))
        assert refused(await get_with(b, "/protected", old))


async def test_session_unknown_to_another_process_is_checked_there_at_once(
        app: Any, client: Any, svc: AuthService, make_user: Any, login: Any,
        clock: FakeClock, app_settings: dict[str, Any]) -> None:
    await make_user("pat")
    await login("pat")
    old = jar_cookie(client)
    await submit(client, "/auth/logout", {}, page="/auth/change-password")
    async with app_on_same_database(svc, app_settings, clock) as b:
        assert refused(await get_with(b, "/protected", old))


# ---- password change, terminate-all, deletion --------------------------------------------

async def test_password_change_ends_other_sessions_at_once(
        app: Any, svc: AuthService, make_user: Any, face: str) -> None:
    user = await make_user("pat")
    here, there = await sign_in(app, "pat"), await sign_in(app, "pat")
    assert (await there.get("/protected")).status_code == 200
    response = await submit(here, "/auth/change-password",
                            {"current_password": PASSWORD, "new_password": NEW_PASSWORD},
                            face=face)
    assert response.status_code == 200, await response.get_data(as_text=True)
    assert refused(await there.get("/protected"))
    assert (await here.get("/protected")).status_code == 200
    assert await active_sessions(svc, user.id) == 1


async def test_password_change_reaches_another_process_within_one_interval(
        app: Any, client: Any, svc: AuthService, make_user: Any, clock: FakeClock,
        app_settings: dict[str, Any]) -> None:
    await make_user("pat")
    here, there = await sign_in(app, "pat"), await sign_in(app, "pat")
    elsewhere = jar_cookie(there)
    async with app_on_same_database(svc, app_settings, clock) as b:
        assert (await get_with(b, "/protected", elsewhere)).status_code == 200
        response = await submit(here, "/auth/change-password",
                                {"current_password": PASSWORD, "new_password": NEW_PASSWORD})
        assert response.status_code == 200
        clock.advance(INTERVAL + 0.1)
        assert refused(await get_with(b, "/protected", elsewhere))


async def test_terminate_all_for_user_is_refused_at_once(
        app: Any, svc: AuthService, make_user: Any, face: str) -> None:
    user = await make_user("pat")
    browsers = [await sign_in(app, "pat") for _ in range(3)]
    headers = JSON if face == "json" else {}
    for browser in browsers:
        assert (await browser.get("/protected", headers=headers)).status_code == 200
    assert await svc.sessions.terminate_all_for_user(user.id) == 3
    for browser in browsers:
        assert refused(await browser.get("/protected", headers=headers), face)
    assert await active_sessions(svc, user.id) == 0


async def test_terminate_one_session_leaves_the_others(
        app: Any, svc: AuthService, make_user: Any, clock: FakeClock) -> None:
    user = await make_user("pat")
    first = await sign_in(app, "pat")
    clock.advance(1)
    second = await sign_in(app, "pat")
    [newest, _] = await svc.sessions.get_all_for_user(user.id)
    assert (await first.get("/protected")).status_code == 200
    assert await svc.sessions.terminate(newest.session_id, reason="admin")
    assert refused(await second.get("/protected"))  # the newest is the second login
    assert (await first.get("/protected")).status_code == 200


async def test_deleted_user_is_refused(app: Any, client: Any, svc: AuthService,
                                       make_user: Any, login: Any, face: str) -> None:
    user = await make_user("pat")
    await login("pat", face=face)
    headers = JSON if face == "json" else {}
    assert (await client.get("/protected", headers=headers)).status_code == 200
    await svc.users.delete(user.id)
    assert refused(await client.get("/protected", headers=headers), face)
    assert refused(await client.get("/protected", headers=headers), face)


async def test_deleted_user_is_refused_in_another_process_after_one_interval(
        app: Any, client: Any, svc: AuthService, make_user: Any, login: Any,
        clock: FakeClock, app_settings: dict[str, Any]) -> None:
    user = await make_user("pat")
    await login("pat")
    cookie = jar_cookie(client)
    async with app_on_same_database(svc, app_settings, clock) as b:
        assert (await get_with(b, "/protected", cookie)).status_code == 200
        await svc.users.delete(user.id)
        clock.advance(INTERVAL + 0.1)
        assert refused(await get_with(b, "/protected", cookie))


async def test_suspension_in_one_process_reaches_another_within_one_interval(
        app: Any, client: Any, svc: AuthService, make_user: Any, login: Any,
        clock: FakeClock, app_settings: dict[str, Any]) -> None:
    user = await make_user("pat")
    await login("pat")
    cookie = jar_cookie(client)
    async with app_on_same_database(svc, app_settings, clock) as b:
        assert (await get_with(b, "/protected", cookie)).status_code == 200
        await svc.users.suspend_user(user.id, "system")
        assert refused(await get_with(app, "/protected", cookie))
        clock.advance(INTERVAL + 0.1)
        assert refused(await get_with(b, "/protected", cookie))


# ---- role removal ------------------------------------------------------------------------

async def test_role_removal_applies_to_the_next_check_in_the_same_process(
        client: Any, svc: AuthService, make_user: Any, login: Any, face: str) -> None:
    user = await project_reader(svc, make_user)
    await login("pat", face=face)
    headers = JSON if face == "json" else {}
    assert (await client.get("/projects/p1", headers=headers)).status_code == 200
    assert await svc.roles.remove_from_user(user.id, "ProjectReader", "system",
                                            scope="project:p1") == 1
    assert (await client.get("/projects/p1", headers=headers)).status_code == 403
    # Still signed in: only the permission went away.
    assert (await client.get("/protected", headers=headers)).status_code == 200


async def test_role_grant_applies_to_the_next_check_in_the_same_process(
        client: Any, svc: AuthService, make_user: Any, login: Any) -> None:
    user = await make_user("pat")
    await login("pat")
    assert (await client.get("/admin-area")).status_code == 403
    await svc.roles.assign_to_user(user.id, "Moderator", "system", scope="global")
    assert (await client.get("/admin-area")).status_code == 200


async def test_permission_removed_from_role_applies_at_once(
        client: Any, svc: AuthService, make_user: Any, login: Any) -> None:
    await project_reader(svc, make_user)
    await login("pat")
    assert (await client.get("/projects/p1")).status_code == 200
    await svc.roles.remove_permission_from_role("ProjectReader", "projects:read")
    assert (await client.get("/projects/p1")).status_code == 403


async def test_role_removal_reaches_another_process_within_one_interval(
        app: Any, client: Any, svc: AuthService, make_user: Any, login: Any,
        clock: FakeClock, app_settings: dict[str, Any]) -> None:
    user = await project_reader(svc, make_user)
    await login("pat")
    cookie = jar_cookie(client)
    async with app_on_same_database(svc, app_settings, clock) as b:
        assert (await get_with(b, "/projects/p1", cookie)).status_code == 200
        await svc.roles.remove_from_user(user.id, "ProjectReader", "system", scope="project:p1")
        assert (await get_with(app, "/projects/p1", cookie)).status_code == 403
        clock.advance(INTERVAL + 0.1)
        response = await get_with(b, "/projects/p1", cookie)
        assert response.status_code == 403
        # The session itself survives the permission change.
        assert (await get_with(b, "/protected", cookie)).status_code == 200


async def test_json_logout_needs_same_origin(client: Any, make_user: Any, login: Any) -> None:
    """A cross-site JSON logout is refused and leaves the session alone."""
    await make_user("pat")
    await login("pat")
    response = await client.post("/auth/logout", json={}, headers={
        "Origin": "https://evil.example", "Accept": "application/json"})
    assert response.status_code == 403
    assert (await client.get("/protected")).status_code == 200
    response = await client.post("/auth/logout", json={}, headers={
        "Origin": ORIGIN, "Accept": "application/json"})
    assert response.status_code == 200
    assert refused(await client.get("/protected"))

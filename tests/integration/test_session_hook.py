"""The per-request session hook: database cost, rotation, concurrency, binding, failure.

Every test runs on SQLite and (with AUTHTUNA_TEST_DATABASE_URL) on PostgreSQL. "Another
process" is a second app on the same database with its own engine and caches.
"""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from sqlalchemy import select, text

from quart_authtuna.core import AuthService
from quart_authtuna.core.db.models import User, UserSession
from quart_authtuna.web.request_state import request_state
from tests._support.clock import FakeClock
from tests._support.queries import count_queries
from tests._support.web import submit
from tests.conftest import PASSWORD
from tests.integration.conftest import app_on_same_database as other_process

COOKIE = "session_token"
INTERVAL = 10.0  # SESSION_DB_VERIFICATION_INTERVAL default
GRACE = 300  # RANDOM_STRING_GRACE default
JSON = {"Accept": "application/json"}


# ---- helpers -----------------------------------------------------------------------------

def jar_cookie(client: Any, name: str = COOKIE) -> str | None:
    return next((c.value for c in client.cookie_jar if c.name == name), None)


def session_set_cookies(response: Any) -> list[str]:
    return [h for h in response.headers.getlist("Set-Cookie") if h.startswith(f"{COOKIE}=")]


def cookie_value(response: Any) -> str | None:
    """The session cookie value a response sets ('' when it deletes it), or None."""
    headers = session_set_cookies(response)
    return headers[-1].split(";", 1)[0].split("=", 1)[1] if headers else None


async def get_with(app: Any, path: str, cookie: str, **kwargs: Any) -> Any:
    """GET ``path`` from a cookie-less client presenting exactly ``cookie``."""
    quart_app = getattr(app, "app", app)
    raw = quart_app.test_client(use_cookies=False)
    headers = {"Cookie": f"{COOKIE}={cookie}", **kwargs.pop("headers", {})}
    return await raw.get(path, headers=headers, **kwargs)


async def sign_in(client: Any, username: str, **kwargs: Any) -> str:
    """JSON login through the real route; returns the session cookie it set."""
    response = await submit(client, "/auth/login",
                            {"username_or_email": username, "password": PASSWORD},
                            face="json", **kwargs)
    assert response.status_code == 200, await response.get_data(as_text=True)
    value = cookie_value(response)
    assert value
    return value


async def project_reader(svc: AuthService, make_user: Any, name: str = "pat") -> User:
    """A user holding a custom role with ``projects:read`` at ``project:p1`` (given by system)."""
    await svc.permissions.create("projects:read")
    await svc.roles.create("ProjectReader", "reads projects")
    await svc.roles.add_permission_to_role("ProjectReader", "projects:read")
    return await make_user(name, roles=(("ProjectReader", "project:p1"),))


async def session_rows(svc: AuthService, user_id: str) -> list[UserSession]:
    async with svc.transaction() as tx:
        return list((await tx.scalars(select(UserSession).where(
            UserSession.user_id == user_id))).all())


async def invalidations(svc: AuthService) -> list[str]:
    events = await svc.audit.get_events_by_type("SESSION_INVALIDATED")
    return [e.details.get("reason") for e in events]


def refused(response: Any, face: str = "html") -> bool:
    return response.status_code == (401 if face == "json" else 302)


def other_service(test_app: Any) -> AuthService:
    return test_app.app.extensions["authtuna"].service  # type: ignore[attr-defined]


# ---- database cost -----------------------------------------------------------------------

async def test_cached_requests_issue_no_sql(client: Any, svc: AuthService, make_user: Any,
                                            login: Any) -> None:
    user = await project_reader(svc, make_user)
    await login("pat")
    assert (await client.get("/projects/p1")).status_code == 200  # warm-up
    with count_queries(svc.engine) as log:
        for _ in range(20):
            response = await client.get("/projects/p1")
            assert response.status_code == 200
            assert await response.get_json() == {"id": user.id, "username": "pat",
                                                  "email": "pat@example.com", "project": "p1"}
    assert log.statements == [], log


@pytest.mark.settings(SESSION_ROTATION_SECONDS=INTERVAL, REVOCATION_BROADCASTER="local")
async def test_verification_boundary_costs_one_transaction(
        client: Any, svc: AuthService, make_user: Any, login: Any, clock: FakeClock,
        backend: str) -> None:
    await project_reader(svc, make_user)
    await login("pat")
    assert (await client.get("/projects/p1")).status_code == 200
    clock.advance(INTERVAL + 0.1)
    with count_queries(svc.engine) as boundary:
        assert (await client.get("/projects/p1")).status_code == 200
    with count_queries(svc.engine) as after:
        assert (await client.get("/projects/p1")).status_code == 200
    # The check's read (session+user, grants), then the rotation's transaction: the CAS
    # UPDATE alone (the row was just read; the grants were read with it).
    assert boundary.kinds() == ["SELECT", "SELECT", "UPDATE"], boundary
    expected_control = ["BEGIN IMMEDIATE"] if backend == "sqlite" else []
    assert boundary.control == expected_control, boundary
    assert after.statements == [], after


async def test_requests_in_another_process_cost_nothing_once_verified(
        client: Any, svc: AuthService, make_user: Any, login: Any, clock: FakeClock,
        app_settings: dict[str, Any]) -> None:
    await project_reader(svc, make_user)
    await login("pat")
    cookie = jar_cookie(client)
    assert cookie
    async with other_process(svc, app_settings, clock) as b:
        engine = other_service(b).engine
        with count_queries(engine) as first:
            assert (await get_with(b, "/projects/p1", cookie)).status_code == 200
        with count_queries(engine) as then:
            for _ in range(5):
                assert (await get_with(b, "/projects/p1", cookie)).status_code == 200
    assert len(first.data) <= 4, first
    assert then.statements == [], then


# ---- concurrency and rotation ------------------------------------------------------------

@pytest.mark.settings(SESSION_ROTATION_SECONDS=INTERVAL)  # rotation at every check
async def test_parallel_requests_at_boundary_share_one_verification(
        app: Any, client: Any, svc: AuthService, make_user: Any, login: Any,
        clock: FakeClock) -> None:
    user = await make_user("pat")
    await login("pat")
    original = jar_cookie(client)
    assert original
    clock.advance(INTERVAL + 0.1)
    with count_queries(svc.engine) as log:
        responses = await asyncio.gather(
            *(get_with(app, "/protected", original) for _ in range(20)))
    assert [r.status_code for r in responses] == [200] * 20
    assert log.kinds().count("UPDATE") == 1, log
    [row] = await session_rows(svc, user.id)
    assert row.active and row.version == 1
    # Each response re-sets the cookie (Fernet output differs), all with the one new string.
    codec, now = svc.session_validator.codec, clock()
    strings = {codec.decode(cookie_value(r) or "", now)["rs"] for r in responses}
    assert strings == {row.random_string}
    assert codec.decode(original, now)["rs"] != row.random_string
    # The original cookie (pre-rotation random string) still works within the grace period.
    clock.advance(INTERVAL / 2)
    assert (await get_with(app, "/protected", original)).status_code == 200
    assert await invalidations(svc) == []


@pytest.mark.settings(SESSION_ROTATION_SECONDS=INTERVAL)  # rotation at every check
async def test_parallel_requests_across_two_processes(
        app: Any, client: Any, svc: AuthService, make_user: Any, login: Any,
        clock: FakeClock, app_settings: dict[str, Any]) -> None:
    user = await make_user("pat")
    await login("pat")
    original = jar_cookie(client)
    assert original
    async with other_process(svc, app_settings, clock) as b:
        assert (await get_with(b, "/protected", original)).status_code == 200
        clock.advance(INTERVAL + 0.1)
        responses = await asyncio.gather(
            *(get_with(target, "/protected", original) for target in [app, b] * 10))
        assert [r.status_code for r in responses] == [200] * 20
        [row] = await session_rows(svc, user.id)
        # Each process rotates at most once; one that reads the other's fresh rotation
        # first does not rotate again.
        assert row.active and 1 <= row.version <= 3
        # Whichever cookie each process handed out keeps working on both processes.
        for value in {cookie_value(r) for r in responses} - {None}:
            for target in (app, b):
                assert (await get_with(target, "/protected", value)).status_code == 200
    assert await invalidations(svc) == []


async def test_round_robin_between_processes_keeps_the_session(
        app: Any, client: Any, svc: AuthService, make_user: Any, login: Any,
        clock: FakeClock, app_settings: dict[str, Any]) -> None:
    """A load balancer alternating between processes must not log the user out."""
    user = await make_user("pat")
    await login("pat")
    async with other_process(svc, app_settings, clock) as b:
        cookie = jar_cookie(client)
        assert cookie
        for step in range(6):
            target = app if step % 2 == 0 else b
            if step % 3 == 0:
                clock.advance(INTERVAL + 0.1)
            response = await get_with(target, "/protected", cookie)
            assert response.status_code == 200, f"step {step}"
            cookie = cookie_value(response) or cookie
    [row] = await session_rows(svc, user.id)
    assert row.active
    assert await invalidations(svc) == []


@pytest.mark.settings(SESSION_ROTATION_SECONDS=INTERVAL)  # rotation at every check
async def test_old_random_string_works_during_grace_then_ends_the_session(
        app: Any, client: Any, svc: AuthService, make_user: Any, login: Any,
        clock: FakeClock) -> None:
    user = await make_user("pat")
    await login("pat")
    stolen = jar_cookie(client)
    assert stolen
    clock.advance(INTERVAL + 0.1)
    assert (await client.get("/protected")).status_code == 200  # rotation at t1
    assert jar_cookie(client) != stolen
    clock.advance(GRACE - 1)  # t1 + grace - 1: a verification, the old string still counts
    assert (await get_with(app, "/protected", stolen)).status_code == 200
    clock.advance(INTERVAL + 1.1)  # next verification: the old string is > interval + grace
    response = await get_with(app, "/protected", stolen)
    assert refused(response)
    assert cookie_value(response) == ""  # cleared
    [row] = await session_rows(svc, user.id)
    assert not row.active
    assert await invalidations(svc) == ["random_string_mismatch"]
    assert refused(await client.get("/protected"))  # the legitimate holder is out too


@pytest.mark.settings(SESSION_ROTATION_SECONDS=INTERVAL)  # rotation at every check
async def test_stale_random_string_on_a_fresh_cache_ends_the_session(
        app: Any, client: Any, svc: AuthService, make_user: Any, login: Any,
        clock: FakeClock) -> None:
    """A cloned cookie is detected even when it arrives just after a verification."""
    user = await make_user("pat")
    await login("pat")
    stolen = jar_cookie(client)
    assert stolen
    clock.advance(INTERVAL + 0.1)
    assert (await client.get("/protected")).status_code == 200
    clock.advance(INTERVAL + GRACE + 1)
    assert (await client.get("/protected")).status_code == 200  # verified just now
    assert refused(await get_with(app, "/protected", stolen))
    [row] = await session_rows(svc, user.id)
    assert not row.active
    assert await invalidations(svc) == ["random_string_mismatch"]
    assert refused(await client.get("/protected"))


@pytest.mark.settings(SESSION_ROTATION_SECONDS=INTERVAL)  # rotation at every check
async def test_cookie_is_only_set_when_it_changes(client: Any, make_user: Any, login: Any,
                                                  clock: FakeClock) -> None:
    await make_user("pat")
    await login("pat")
    first = jar_cookie(client)
    for _ in range(3):
        clock.advance(INTERVAL / 4)
        response = await client.get("/protected")
        assert response.status_code == 200 and session_set_cookies(response) == []
    clock.advance(INTERVAL)
    response = await client.get("/protected")
    assert response.status_code == 200
    assert len(session_set_cookies(response)) == 1
    assert cookie_value(response) not in (None, "", first)
    response = await client.get("/protected")
    assert session_set_cookies(response) == []


# ---- account state and request binding ---------------------------------------------------

async def test_suspended_user_is_refused_at_once(client: Any, svc: AuthService,
                                                 make_user: Any, login: Any, face: str) -> None:
    user = await make_user("pat")
    await login("pat", face=face)
    headers = JSON if face == "json" else {}
    assert (await client.get("/protected", headers=headers)).status_code == 200
    await svc.users.suspend_user(user.id, "system")
    assert refused(await client.get("/protected", headers=headers), face)
    assert [r.active for r in await session_rows(svc, user.id)] == [False]


PROXY = {"client": ("127.0.0.1", 40000)}


@pytest.mark.settings(TRUSTED_PROXIES=["127.0.0.1"])
async def test_region_and_ip_change_ends_the_session(app: Any, client: Any, svc: AuthService,
                                                     make_user: Any, clock: FakeClock) -> None:
    user = await make_user("pat")
    cookie = await sign_in(client, "pat", scope_base=PROXY, headers={
        "X-Forwarded-For": "203.0.113.5", "CF-IPCountry": "DE"})
    [row] = await session_rows(svc, user.id)
    assert (row.region, row.create_ip) == ("DE", "203.0.113.5")
    clock.advance(INTERVAL + 0.1)
    response = await get_with(app, "/protected", cookie, scope_base=PROXY, headers={
        "X-Forwarded-For": "198.51.100.7", "CF-IPCountry": "FR"})
    assert refused(response)
    [row] = await session_rows(svc, user.id)
    assert not row.active
    assert await invalidations(svc) == ["region_mismatch"]


@pytest.mark.settings(TRUSTED_PROXIES=["127.0.0.1"],
                      SESSION_ROTATION_SECONDS=INTERVAL)  # rotation at every check
async def test_region_change_from_the_creating_ip_keeps_the_session(
        app: Any, client: Any, svc: AuthService, make_user: Any, clock: FakeClock) -> None:
    user = await make_user("pat")
    cookie = await sign_in(client, "pat", scope_base=PROXY, headers={
        "X-Forwarded-For": "203.0.113.5", "CF-IPCountry": "DE"})
    clock.advance(INTERVAL + 0.1)
    response = await get_with(app, "/protected", cookie, scope_base=PROXY, headers={
        "X-Forwarded-For": "203.0.113.5", "CF-IPCountry": "FR"})
    assert response.status_code == 200
    [row] = await session_rows(svc, user.id)
    assert row.active and row.version == 1
    assert await invalidations(svc) == []


async def test_other_user_agent_is_refused_and_flags_the_session(
        app: Any, client: Any, svc: AuthService, make_user: Any, login: Any) -> None:
    """Another device is refused, but the session is not ended: it is flagged, and the owner
    must sign in again (the step-up rule; see test_session_step_up.py for the whole story)."""
    user = await make_user("pat")
    await login("pat")
    cookie = jar_cookie(client)
    assert cookie
    assert (await client.get("/protected")).status_code == 200
    response = await get_with(app, "/protected", cookie, headers={"User-Agent": "Evil/1.0"})
    assert refused(response)
    assert cookie_value(response) == ""
    [row] = await session_rows(svc, user.id)
    assert row.active and row.flagged_at is not None
    assert await invalidations(svc) == []
    # The owner is not logged out, but is sent to confirm their password first.
    step_up = await client.get("/protected")
    assert step_up.status_code == 302
    assert "/auth/reauthenticate" in step_up.headers["Location"]


async def test_other_user_agent_racing_a_verification_is_refused(
        app: Any, client: Any, svc: AuthService, make_user: Any, login: Any,
        clock: FakeClock) -> None:
    """A request that joins a verification started by another request is still checked."""
    user = await make_user("pat")
    await login("pat")
    cookie = jar_cookie(client)
    assert cookie
    clock.advance(INTERVAL + 0.1)
    good, evil = await asyncio.gather(
        get_with(app, "/protected", cookie),
        get_with(app, "/protected", cookie, headers={"User-Agent": "Evil/1.0"}))
    assert evil.status_code != 200
    assert good.status_code in (200, 302)
    [row] = await session_rows(svc, user.id)
    assert row.active and row.flagged_at is not None
    assert await invalidations(svc) == []


def _whoami_route(quart_app: Any) -> None:
    @quart_app.get("/whoami")
    async def whoami() -> dict[str, Any]:
        meta = request_state().meta
        return {"ip": meta.ip_address, "region": meta.region}


@pytest.mark.parametrize(("proxies", "peer", "forwarded", "expected"), [
    ([], "127.0.0.1", "203.0.113.5", "127.0.0.1"),
    ([], "10.0.0.9", "203.0.113.5, 10.0.0.1", "10.0.0.9"),
    (["127.0.0.1"], "127.0.0.1", "203.0.113.5", "203.0.113.5"),
    (["127.0.0.1"], "127.0.0.1", "6.6.6.6, 203.0.113.5", "203.0.113.5"),
    (["127.0.0.1", "10.0.0.0/8"], "127.0.0.1", "6.6.6.6, 203.0.113.5, 10.1.2.3",
     "203.0.113.5"),
    (["127.0.0.1"], "10.0.0.9", "203.0.113.5", "10.0.0.9"),
    (["127.0.0.1"], "127.0.0.1", "not-an-ip", "127.0.0.1"),
])
async def test_x_forwarded_for_needs_trusted_proxies(
        svc: AuthService, clock: FakeClock, app_settings: dict[str, Any], proxies: list[str],
        peer: str, forwarded: str, expected: str) -> None:
    extra = {"TRUSTED_PROXIES": proxies}
    async with other_process(svc, app_settings, clock, extra, _whoami_route) as variant:
        response = await variant.test_client().get(
            "/whoami", scope_base={"client": (peer, 5555)},
            headers={"X-Forwarded-For": forwarded, "CF-IPCountry": "DE"})
    assert response.status_code == 200
    body = await response.get_json()
    assert body["ip"] == expected
    assert body["region"] == ("DE" if peer in proxies else "Unknown")


async def test_test_client_peer_is_local(svc: AuthService, clock: FakeClock,
                                         app_settings: dict[str, Any]) -> None:
    """Without an ASGI ``client`` the peer is Quart's placeholder, never a header value."""
    async with other_process(svc, app_settings, clock, None, _whoami_route) as variant:
        response = await variant.test_client().get(
            "/whoami", headers={"X-Forwarded-For": "203.0.113.5", "Remote-Addr": "6.6.6.6"})
    assert (await response.get_json())["ip"] == "<local>"


# ---- failure -----------------------------------------------------------------------------

@pytest.mark.settings(REVOCATION_BROADCASTER="local")  # the check must read the database
async def test_database_failure_at_verification_fails_closed(
        client: Any, svc: AuthService, make_user: Any, login: Any, clock: FakeClock,
        face: str) -> None:
    await make_user("pat")
    await login("pat")
    headers = JSON if face == "json" else {}
    assert (await client.get("/protected", headers=headers)).status_code == 200
    async with svc.engine.begin() as conn:
        await conn.execute(text("DROP TABLE sessions"))
    clock.advance(INTERVAL / 2)
    assert (await client.get("/protected", headers=headers)).status_code == 200  # cache
    clock.advance(INTERVAL)
    for _ in range(2):
        response = await client.get("/protected", headers=headers)
        assert response.status_code == 503
        assert session_set_cookies(response) == []

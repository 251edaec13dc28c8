"""Checks that cost little per session: reads between rotations, batched reads, no database
while a cross-process revocation channel vouches, a bounded cache.

Each test runs on SQLite and (with AUTHTUNA_TEST_DATABASE_URL) PostgreSQL, through the real
hook, with the test clock.
"""

from __future__ import annotations

import asyncio
import time
from typing import Any

import pytest
from sqlalchemy import text, update

from quart_authtuna.core import AuthService
from quart_authtuna.core.db.models import UserSession
from tests._support.brokers import redis_url_or_skip
from tests._support.clock import FakeClock
from tests._support.queries import count_queries
from tests.integration.test_session_hook import (
    cookie_value,
    get_with,
    jar_cookie,
    session_rows,
    sign_in,
)

INTERVAL = 10.0
ROTATION = 300.0
LOCAL = {"REVOCATION_BROADCASTER": "local"}


def session_updates(statements: list[str]) -> int:
    return sum(1 for s in statements if s.lstrip().upper().startswith("UPDATE SESSIONS"))


def session_selects(statements: list[str]) -> int:
    return sum(1 for s in statements if s.lstrip().upper().startswith("SELECT")
               and "FROM sessions" in " ".join(s.split()))


@pytest.mark.settings(**LOCAL)
async def test_due_check_within_the_rotation_period_only_reads(
        client: Any, svc: AuthService, make_user: Any, login: Any, clock: FakeClock) -> None:
    user = await make_user("pat")
    await login("pat")
    assert (await client.get("/protected")).status_code == 200
    [before] = await session_rows(svc, user.id)
    for _ in range(3):
        clock.advance(INTERVAL + 0.1)
        with count_queries(svc.engine) as log:
            response = await client.get("/protected")
        assert response.status_code == 200
        assert cookie_value(response) is None  # nothing rotated: the cookie stays
        # One read: the session row with its user, and the grants (cached for one interval).
        assert log.kinds() == ["SELECT", "SELECT"], log
        assert session_selects(log.statements) == 1, log
        assert log.control == [], log  # no write lock on SQLite either
    [after] = await session_rows(svc, user.id)
    assert (after.version, after.random_string) == (before.version, before.random_string)


@pytest.mark.settings(**LOCAL)
async def test_a_read_check_still_refuses_a_session_ended_behind_the_cache(
        client: Any, svc: AuthService, make_user: Any, login: Any, clock: FakeClock) -> None:
    user = await make_user("pat")
    await login("pat")
    assert (await client.get("/protected")).status_code == 200
    async with svc.transaction() as tx:  # behind the product's back: no event
        await tx.execute(update(UserSession).where(UserSession.user_id == user.id)
                         .values(active=False))
    clock.advance(INTERVAL / 2)
    assert (await client.get("/protected")).status_code == 200  # the interval bound
    clock.advance(INTERVAL / 2 + 0.1)
    assert (await client.get("/protected")).status_code == 302


@pytest.mark.settings(**LOCAL)
async def test_the_random_string_rotates_once_per_rotation_period(
        client: Any, svc: AuthService, make_user: Any, login: Any, clock: FakeClock) -> None:
    user = await make_user("pat")
    await login("pat")
    first = jar_cookie(client)
    updates, set_cookies = 0, 0
    for _ in range(int(2 * ROTATION / INTERVAL) + 1):  # 610 s of activity, a check each time
        clock.advance(INTERVAL + 0.1 / 3)
        with count_queries(svc.engine) as log:
            response = await client.get("/protected")
        assert response.status_code == 200
        updates += log.kinds().count("UPDATE")
        if cookie_value(response) is not None:  # the rotation: the check's read, then the
            set_cookies += 1  # compare-and-swap alone (no re-read of the row it just read)
            assert (session_selects(log.statements), session_updates(log.statements)) == (
                1, 1), log
    assert updates == set_cookies == 2
    [row] = await session_rows(svc, user.id)
    assert row.version == 2 and jar_cookie(client) != first


@pytest.mark.settings(**LOCAL)
async def test_reauthentication_rotates_at_the_next_check(
        client: Any, svc: AuthService, make_user: Any, login: Any, clock: FakeClock) -> None:
    user = await make_user("pat")
    await login("pat")
    [row] = await session_rows(svc, user.id)
    clock.advance(1)
    async with svc.transaction() as tx:
        await tx.execute(update(UserSession).where(UserSession.session_id == row.session_id)
                         .values(authenticated_at=clock()))
    clock.advance(INTERVAL)
    with count_queries(svc.engine) as log:
        response = await client.get("/protected")
    assert response.status_code == 200 and cookie_value(response)
    assert log.kinds().count("UPDATE") == 1, log


@pytest.mark.settings(SESSION_LIFETIME_SECONDS=1000, SESSION_LIFETIME_FROM="last_activity",
                      **LOCAL)
async def test_sliding_expiry_stays_exact_within_one_rotation_period(
        app: Any, client: Any, svc: AuthService, make_user: Any, clock: FakeClock) -> None:
    user = await make_user("pat")
    await sign_in(client, "pat")
    for _ in range(10):  # 1,000 s of activity: the session must outlive its idle lifetime
        clock.advance(100)
        assert (await client.get("/protected")).status_code == 200
    [row] = await session_rows(svc, user.id)
    last_activity = clock()
    assert row.etime >= last_activity + 1000 - ROTATION - INTERVAL
    clock.advance(1000 - ROTATION - INTERVAL - 1)  # idle, but within the bound: still valid
    assert (await client.get("/protected")).status_code == 200
    clock.advance(1000)  # idle for longer than the lifetime
    assert (await client.get("/protected")).status_code == 302


@pytest.mark.settings(**LOCAL)
async def test_concurrent_due_checks_share_one_session_read(
        app: Any, svc: AuthService, make_user: Any, clock: FakeClock) -> None:
    await make_user("pat")
    quart_app = getattr(app, "app", app)
    cookies = []
    for _ in range(8):
        cookies.append(await sign_in(quart_app.test_client(), "pat"))
    for cookie in cookies:
        assert (await get_with(app, "/protected", cookie)).status_code == 200
    clock.advance(INTERVAL + 0.1)
    batches = svc.session_validator.reads.batches
    with count_queries(svc.engine) as log:
        responses = await asyncio.gather(*(get_with(app, "/protected", c) for c in cookies))
    assert [r.status_code for r in responses] == [200] * 8
    assert session_selects(log.statements) == 1, log
    assert session_updates(log.statements) == 0, log
    assert svc.session_validator.reads.batches == batches + 1


async def due_for_rotation(app: Any, make_user: Any, clock: FakeClock, n: int
                           ) -> tuple[Any, list[str]]:
    """N signed-in sessions of one user (own clients), all past their rotation period."""
    user = await make_user("pat")
    quart_app = getattr(app, "app", app)
    cookies = [await sign_in(quart_app.test_client(), "pat") for _ in range(n)]
    clock.advance(ROTATION + 1)
    return user, cookies


@pytest.mark.settings(**LOCAL)
async def test_rotations_due_together_commit_in_one_transaction(
        app: Any, svc: AuthService, make_user: Any, clock: FakeClock) -> None:
    user, cookies = await due_for_rotation(app, make_user, clock, 6)
    rotations = svc.session_validator.rotations
    batches = rotations.batches
    with count_queries(svc.engine) as log:
        responses = await asyncio.gather(*(get_with(app, "/protected", c) for c in cookies))
    assert [r.status_code for r in responses] == [200] * 6
    assert session_updates(log.statements) == 6, log  # each its own compare-and-swap,
    assert rotations.batches == batches + 1  # all in one transaction
    assert all(cookie_value(r) not in (None, c) for r, c in zip(responses, cookies, strict=True))
    assert {row.version for row in await session_rows(svc, user.id)} == {1}
    for response in responses:  # every rotated cookie is the one the database holds now
        assert (await get_with(app, "/protected", cookie_value(response))).status_code == 200


@pytest.mark.settings(**LOCAL)
async def test_a_failed_rotation_batch_writes_nothing_and_answers_503(
        app: Any, svc: AuthService, make_user: Any, clock: FakeClock) -> None:
    user, cookies = await due_for_rotation(app, make_user, clock, 3)
    before = {row.session_id: row.random_string for row in await session_rows(svc, user.id)}
    async with svc.engine.begin() as conn:  # the database refuses one row of the batch
        victim = sorted(before)[0]
        if svc.engine.dialect.name == "sqlite":
            await conn.execute(text(
                "CREATE TRIGGER refuse BEFORE UPDATE ON sessions WHEN "
                f"old.session_id = '{victim}' BEGIN SELECT RAISE(ABORT, 'refused'); END"))
        else:
            await conn.execute(text(
                "CREATE FUNCTION refuse() RETURNS trigger AS $$ BEGIN "
                "RAISE EXCEPTION 'refused'; END $$ LANGUAGE plpgsql"))
            await conn.execute(text(
                "CREATE TRIGGER refuse BEFORE UPDATE ON sessions FOR EACH ROW WHEN "
                f"(old.session_id = '{victim}') EXECUTE FUNCTION refuse()"))
    try:
        responses = await asyncio.gather(*(get_with(app, "/protected", c) for c in cookies))
    finally:
        async with svc.engine.begin() as conn:
            await conn.execute(text("DROP TRIGGER refuse" if svc.engine.dialect.name ==
                                    "sqlite" else "DROP TRIGGER refuse ON sessions"))
            if svc.engine.dialect.name != "sqlite":
                await conn.execute(text("DROP FUNCTION refuse()"))
    assert [r.status_code for r in responses] == [503] * 3
    after = {row.session_id: row.random_string for row in await session_rows(svc, user.id)}
    assert after == before  # nothing of the batch was written
    for cookie in cookies:  # and each session rotates at its next request
        assert (await get_with(app, "/protected", cookie)).status_code == 200
    assert {row.version for row in await session_rows(svc, user.id)} == {1}


@pytest.mark.settings(SESSION_CACHE_SIZE=2, **LOCAL)
async def test_an_evicted_session_costs_one_check_not_a_failure(
        app: Any, svc: AuthService, make_user: Any, clock: FakeClock) -> None:
    users = [await make_user(f"user{n}") for n in range(3)]
    quart_app = getattr(app, "app", app)
    cookies = [await sign_in(quart_app.test_client(), u.username) for u in users]
    cache = svc.session_validator.cache
    assert len(cache) == 2 and cache.users() == 2  # the first one was evicted, no leftovers
    with count_queries(svc.engine) as log:
        assert (await get_with(app, "/protected", cookies[0])).status_code == 200
    assert session_selects(log.statements) == 1 and session_updates(log.statements) == 0, log
    for cookie in cookies * 2:
        assert (await get_with(app, "/protected", cookie)).status_code == 200
    assert len(cache) == 2 and cache.users() == 2
    await svc.sessions.terminate_all_for_user(users[2].id)
    assert users[2].id not in {s.user_id for s in map(cache.get, list(cache._by_session))}
    assert (await get_with(app, "/protected", cookies[2])).status_code == 302


async def _trusted_check_then_disconnect(app: Any, client: Any, svc: AuthService,
                                         make_user: Any, login: Any, clock: FakeClock,
                                         kill: Any) -> None:
    broadcaster = svc.revocation.broadcaster
    await broadcaster.wait_connected(5)  # type: ignore[attr-defined]
    await make_user("pat")
    await login("pat")
    assert (await client.get("/protected")).status_code == 200
    for _ in range(3):
        clock.advance(INTERVAL + 0.1)
        with count_queries(svc.engine) as log:
            assert (await client.get("/protected")).status_code == 200
        assert log.statements == [], log  # the channel vouches: no database at all
    before = broadcaster.connections  # type: ignore[attr-defined]
    await kill(broadcaster)
    deadline = time.monotonic() + 10
    while not (broadcaster.connected and broadcaster.connections > before):
        assert time.monotonic() < deadline, "the channel did not reconnect"
        await asyncio.sleep(0.05)
    clock.advance(INTERVAL + 0.1)
    with count_queries(svc.engine) as log:
        assert (await client.get("/protected")).status_code == 200
    assert session_selects(log.statements) == 1, log


async def test_a_healthy_postgres_channel_means_no_database_at_a_due_check(
        app: Any, client: Any, svc: AuthService, make_user: Any, login: Any,
        clock: FakeClock, backend: str) -> None:
    if backend != "postgresql":
        pytest.skip("PostgreSQL NOTIFY needs PostgreSQL (SQLite has no cross-process channel)")

    async def kill(broadcaster: Any) -> None:
        async with svc.engine.connect() as conn:
            await conn.execute(text("SELECT pg_terminate_backend(:pid)"),
                               {"pid": broadcaster.backend_pid})

    await _trusted_check_then_disconnect(app, client, svc, make_user, login, clock, kill)


@pytest.mark.settings(REVOCATION_BROADCASTER="redis", REDIS_URL="redis://127.0.0.1:6379/15")
async def test_a_redis_channel_does_not_vouch_a_due_check_reads(
        app: Any, client: Any, svc: AuthService, make_user: Any, login: Any,
        clock: FakeClock) -> None:
    """Redis messages leave after the commit: a publisher cut off from Redis would send its
    revocation only on reconnection, so due checks still read the database (batched)."""
    await redis_url_or_skip()
    broadcaster = svc.revocation.broadcaster
    await broadcaster.wait_connected(5)  # type: ignore[attr-defined]
    assert broadcaster.connected and broadcaster.epoch is None
    await make_user("pat")
    await login("pat")
    assert (await client.get("/protected")).status_code == 200
    clock.advance(INTERVAL + 0.1)
    with count_queries(svc.engine) as log:
        assert (await client.get("/protected")).status_code == 200
    assert session_selects(log.statements) == 1 and session_updates(log.statements) == 0, log

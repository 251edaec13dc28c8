"""Revocations across processes on real brokers: two AuthService instances on one database,
each with its own caches and its own listening connection, the clock frozen (so the
verification interval never runs out and only the broadcast can explain a refusal).

PostgreSQL LISTEN/NOTIFY runs on the PostgreSQL leg; Redis pub/sub on both legs.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Callable
from contextlib import AsyncExitStack, asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import text
from sqlalchemy.engine import make_url

from quart_authtuna.core import AuthService, Settings
from quart_authtuna.core.broadcast.listening import ListeningBroadcaster
from quart_authtuna.core.broadcast.postgres_notify import PostgresBroadcaster
from quart_authtuna.core.broadcast.redis_pubsub import RedisBroadcaster
from quart_authtuna.core.revocation import RevocationEvent
from quart_authtuna.core.types import RequestMeta
from tests._support.brokers import TcpProxy, redis_url_or_skip
from tests._support.clock import FakeClock
from tests._support.databases import database_overrides
from tests.conftest import PASSWORD

INTERVAL = 30.0
SECOND = 1.0


@pytest.fixture(params=["postgres", "redis"])
def broker(request: pytest.FixtureRequest, backend: str) -> str:
    if request.param == "postgres" and backend != "postgresql":
        pytest.skip("LISTEN/NOTIFY needs the PostgreSQL leg")
    return str(request.param)


@dataclass
class Pair:
    a: AuthService
    b: AuthService
    clock: FakeClock
    settings: Settings

    @property
    def b_broadcaster(self) -> ListeningBroadcaster:
        found = self.b.revocation.broadcaster
        assert isinstance(found, ListeningBroadcaster)
        return found


@asynccontextmanager
async def two_services(backend: str, broker: str, tmp_path: Path,
                       settings_for: Callable[..., Settings], *,
                       b_through: TcpProxy | None = None) -> AsyncIterator[Pair]:
    """A and B on one database; B's listening connection goes through ``b_through`` if
    given (a proxy in front of the broker)."""
    extra: dict[str, Any] = {"REVOCATION_BROADCASTER": broker,
                             "SESSION_DB_VERIFICATION_INTERVAL": INTERVAL}
    if broker == "redis":
        extra["REDIS_URL"] = await redis_url_or_skip()
    clock = FakeClock()
    async with database_overrides(backend, tmp_path) as db, AsyncExitStack() as stack:
        settings = settings_for(**db, **extra)
        a = AuthService(settings, clock=clock)
        await a.start()
        stack.push_async_callback(a.close)
        broadcaster = None
        if b_through is not None:
            broadcaster = proxied_broadcaster(settings, broker, b_through)
        b = AuthService(settings, clock=clock, broadcaster=broadcaster)
        await b.start()
        stack.push_async_callback(b.close)
        for svc in (a, b):
            assert svc.revocation.broadcaster.name == broker
            assert svc.revocation.broadcaster.connected
        yield Pair(a, b, clock, settings)


def proxied_broadcaster(settings: Settings, broker: str, proxy: TcpProxy) -> ListeningBroadcaster:
    """B's broadcaster, reaching the broker through ``proxy`` (same database, same channel)."""
    if broker == "postgres":
        url = make_url(settings.default_database_uri.reveal())
        proxy.target = (url.host or "127.0.0.1", url.port or 5432)
        moved = url.set(host="127.0.0.1", port=proxy.port)
        return PostgresBroadcaster(settings.replace(
            default_database_uri=moved.render_as_string(hide_password=False)))
    assert settings.redis_url is not None
    url = make_url(settings.redis_url.reveal())
    proxy.target = (url.host or "127.0.0.1", url.port or 6379)
    return RedisBroadcaster(settings.replace(
        redis_url=url.set(host="127.0.0.1", port=proxy.port).render_as_string(False)))


@dataclass
class SignedIn:
    user_id: str
    session_id: str
    cookie: str


async def sign_in(svc: AuthService, name: str) -> SignedIn:
    """A user and one session of theirs, made in ``svc``; returns the session's cookie."""
    if await svc.users.get_by_username(name) is None:
        await svc.users.create(f"{name}@example.com", name, PASSWORD, email_verified=True)
    user, issued = await svc.login(name, PASSWORD)
    grants = await svc.rbac.grants_for(user.id)
    _, cookie = svc.session_validator.issue(issued, user, grants)
    return SignedIn(user.id, issued.row.session_id, cookie)


async def accepted(svc: AuthService, cookie: str) -> bool:
    return (await svc.session_validator.validate(cookie, RequestMeta())).state is not None


async def seconds_until(check: Callable[[], Any], limit: float = SECOND) -> float:
    """Real seconds until ``await check()`` is true; fails after ``limit``."""
    start = time.monotonic()
    while not await check():
        assert time.monotonic() - start < limit, f"not within {limit} s"
        await asyncio.sleep(0.005)
    return time.monotonic() - start


async def refused_in(svc: AuthService, cookie: str, limit: float = SECOND) -> float:
    async def refused() -> bool:
        return not await accepted(svc, cookie)

    return await seconds_until(refused, limit)


# ---- each kind of revocation reaches the other service within a second -------------------

async def test_logout_reaches_the_other_service_within_a_second(
        backend: str, broker: str, tmp_path: Path, settings_for: Any) -> None:
    async with two_services(backend, broker, tmp_path, settings_for) as pair:
        pat = await sign_in(pair.a, "pat")
        assert await accepted(pair.b, pat.cookie)
        await pair.a.sessions.terminate(pat.session_id, reason="logout")
        assert await refused_in(pair.b, pat.cookie) < SECOND
        assert await accepted(pair.b, pat.cookie) is False  # and it stays refused


async def test_suspension_reaches_the_other_service_within_a_second(
        backend: str, broker: str, tmp_path: Path, settings_for: Any) -> None:
    async with two_services(backend, broker, tmp_path, settings_for) as pair:
        pat = await sign_in(pair.a, "pat")
        assert await accepted(pair.b, pat.cookie)
        await pair.a.users.suspend_user(pat.user_id, "system")
        assert await refused_in(pair.b, pat.cookie) < SECOND


async def test_role_removal_reaches_the_other_service_within_a_second(
        backend: str, broker: str, tmp_path: Path, settings_for: Any) -> None:
    async with two_services(backend, broker, tmp_path, settings_for) as pair:
        a, b = pair.a, pair.b
        await a.permissions.create("projects:read")
        await a.roles.create("ProjectReader", "reads projects")
        await a.roles.add_permission_to_role("ProjectReader", "projects:read")
        pat = await sign_in(a, "pat")
        await a.roles.assign_to_user(pat.user_id, "ProjectReader", "system", scope="project:p1")
        assert await accepted(b, pat.cookie)
        assert await b.rbac.has_permission(pat.user_id, "projects:read", "project:p1")
        await a.roles.remove_from_user(pat.user_id, "ProjectReader", "system",
                                       scope="project:p1")

        async def denied() -> bool:
            return not await b.rbac.has_permission(pat.user_id, "projects:read", "project:p1")

        assert await seconds_until(denied) < SECOND
        assert await accepted(b, pat.cookie)  # the session itself survives


async def test_api_key_revocation_reaches_the_other_service_within_a_second(
        backend: str, broker: str, tmp_path: Path, settings_for: Any) -> None:
    async with two_services(backend, broker, tmp_path, settings_for) as pair:
        pat = await sign_in(pair.a, "pat")
        key = await pair.a.api_keys.create_key(pat.user_id, "k", key_type="secret")
        assert await pair.b.api_keys.validate_key(key.plaintext) is not None
        await pair.a.api_keys.delete_key(key.id, pat.user_id)

        async def refused() -> bool:
            return await pair.b.api_keys.validate_key(key.plaintext) is None

        assert await seconds_until(refused) < SECOND


async def test_many_sessions_ended_at_once_travel_in_several_messages(
        backend: str, broker: str, tmp_path: Path, settings_for: Any) -> None:
    """A password reset ending 150 sessions: more ids than one NOTIFY can carry."""
    async with two_services(backend, broker, tmp_path, settings_for) as pair:
        sessions = [await sign_in(pair.a, "pat") for _ in range(150)]
        for s in sessions[::30]:
            assert await accepted(pair.b, s.cookie)
        assert await pair.a.sessions.terminate_all_for_user(sessions[0].user_id) == 150
        for s in sessions[::30]:
            assert await refused_in(pair.b, s.cookie) < SECOND


# ---- broker trouble ----------------------------------------------------------------------

async def kill_listener(pair: Pair, broker: str) -> None:
    """End B's listening connection from the broker's side."""
    broadcaster = pair.b_broadcaster
    if isinstance(broadcaster, PostgresBroadcaster):
        pid = broadcaster.backend_pid
        async with pair.a.engine.connect() as conn:
            killed = await conn.scalar(text("SELECT pg_terminate_backend(:pid)"), {"pid": pid})
        assert killed is True
        return
    from redis.asyncio import Redis

    assert isinstance(broadcaster, RedisBroadcaster) and pair.settings.redis_url is not None
    admin = Redis.from_url(pair.settings.redis_url.reveal())
    try:
        clients = await admin.client_list()
        [mine] = [c for c in clients if c.get("name") == broadcaster.client_name]
        assert await admin.client_kill_filter(_id=mine["id"]) == 1
    finally:
        await admin.aclose()


async def test_a_killed_listener_reconnects_and_is_back_under_a_second(
        backend: str, broker: str, tmp_path: Path, settings_for: Any) -> None:
    async with two_services(backend, broker, tmp_path, settings_for) as pair:
        listener = pair.b_broadcaster
        first, second = await sign_in(pair.a, "pat"), await sign_in(pair.a, "sam")
        assert await accepted(pair.b, first.cookie) and await accepted(pair.b, second.cookie)
        connections = listener.connections
        await kill_listener(pair, broker)

        async def reconnected() -> bool:
            return listener.connected and listener.connections > connections

        assert await seconds_until(reconnected, 10) < 10
        await pair.a.sessions.terminate(second.session_id, reason="logout")
        assert await refused_in(pair.b, second.cookie) < SECOND


async def test_during_an_outage_the_interval_bounds_the_delay_then_under_a_second_again(
        backend: str, broker: str, tmp_path: Path, settings_for: Any) -> None:
    proxy = TcpProxy("127.0.0.1", 0)
    await proxy.start()
    try:
        async with two_services(backend, broker, tmp_path, settings_for,
                                b_through=proxy) as pair:
            a, b, listener = pair.a, pair.b, pair.b_broadcaster
            first, second, third = [await sign_in(a, n) for n in ("pat", "sam", "kim")]
            for s in (first, second, third):
                assert await accepted(b, s.cookie)
            await proxy.cut()
            await seconds_until(lambda: _not(listener.connected), 5)

            # The channel is down: B keeps trusting its cache, for one interval at most.
            await a.sessions.terminate(first.session_id, reason="logout")
            await asyncio.sleep(SECOND)
            assert await accepted(b, first.cookie)
            pair.clock.advance(INTERVAL + 0.1)
            assert not await accepted(b, first.cookie)

            # Missed while down: after reconnection B verifies everything once.
            assert await accepted(b, second.cookie)  # fresh in B's cache again
            await a.users.suspend_user(second.user_id, "system")
            await proxy.restore()
            await seconds_until(lambda: _is(listener.connected), 10)
            assert not await accepted(b, second.cookie)

            # And the channel carries revocations under a second again.
            assert await accepted(b, third.cookie)
            await a.sessions.terminate(third.session_id, reason="logout")
            assert await refused_in(b, third.cookie) < SECOND
    finally:
        await proxy.close()


async def test_what_a_cut_off_process_publishes_goes_out_when_it_reconnects(
        backend: str, broker: str, tmp_path: Path, settings_for: Any) -> None:
    proxy = TcpProxy("127.0.0.1", 0)
    await proxy.start()
    try:
        async with two_services(backend, broker, tmp_path, settings_for,
                                b_through=proxy) as pair:
            a, b, listener = pair.a, pair.b, pair.b_broadcaster
            pat = await sign_in(b, "pat")
            assert await accepted(a, pat.cookie)
            await proxy.cut()
            await seconds_until(lambda: _not(listener.connected), 5)
            await b.sessions.terminate(pat.session_id, reason="logout")
            assert not await accepted(b, pat.cookie)
            if broker == "postgres":  # the NOTIFY went out with the logout's own commit
                assert await refused_in(a, pat.cookie) < SECOND
                return
            await asyncio.sleep(0.5)  # Redis: B cannot tell A until it reconnects
            assert await accepted(a, pat.cookie)
            await proxy.restore()
            await seconds_until(lambda: _is(listener.connected), 10)
            assert await refused_in(a, pat.cookie) < SECOND
    finally:
        await proxy.close()


async def test_postgres_sends_a_revocation_with_its_transaction_or_not_at_all(
        backend: str, tmp_path: Path, settings_for: Any) -> None:
    """NOTIFY is the publishing transaction's last statement: a rollback sends nothing, a
    commit reaches the other process even though the sender's own listener is down."""
    if backend != "postgresql":
        pytest.skip("LISTEN/NOTIFY needs the PostgreSQL leg")
    async with two_services(backend, "postgres", tmp_path, settings_for) as pair:
        a, b = pair.a, pair.b
        heard: list[RevocationEvent] = []

        async def record(event: RevocationEvent) -> None:
            heard.append(event)

        a.revocation.broadcaster.subscribe(record)
        pat = await sign_in(b, "pat")
        assert await accepted(a, pat.cookie)
        with pytest.raises(RuntimeError):
            async with b.transaction() as tx:
                b.revocation.sessions_ended(tx, [pat.session_id])
                raise RuntimeError("rolled back")
        await asyncio.sleep(0.5)
        assert heard == []  # nothing was sent
        await pair.b_broadcaster.close()  # B no longer listens, nor sends after commits
        await b.sessions.terminate(pat.session_id, reason="logout")
        assert await refused_in(a, pat.cookie) < SECOND
        assert [e.kind for e in heard] == ["sessions_ended"]


async def _not(value: bool) -> bool:
    return not value


async def _is(value: bool) -> bool:
    return value


# ---- the listener itself -----------------------------------------------------------------

async def test_own_messages_are_not_applied_twice_and_foreign_ones_are_hints(
        backend: str, broker: str, tmp_path: Path, settings_for: Any) -> None:
    async with two_services(backend, broker, tmp_path, settings_for) as pair:
        seen_a: list[RevocationEvent] = []
        seen_b: list[RevocationEvent] = []

        async def record_a(event: RevocationEvent) -> None:
            seen_a.append(event)

        async def record_b(event: RevocationEvent) -> None:
            seen_b.append(event)

        pair.a.revocation.broadcaster.subscribe(record_a)
        pair.b.revocation.broadcaster.subscribe(record_b)
        await pair.a.revocation.publish(RevocationEvent("user_changed", ("u1",)))

        async def arrived() -> bool:
            return bool(seen_b)

        await seconds_until(arrived)
        await asyncio.sleep(0.2)
        assert seen_a == [RevocationEvent("user_changed", ("u1",))]
        assert seen_b == [RevocationEvent("user_changed", ("u1",), remote=True)]

"""Throttle counters and pending challenges in Redis: the database backend's semantics, under
concurrency, with TTLs so nothing lingers (real Redis; a key prefix per test)."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

import pytest

from quart_authtuna.core import AuthService
from quart_authtuna.core.crypto.tokens import digest
from quart_authtuna.core.db.models import AuthChallenge, User
from quart_authtuna.core.errors import ConfigurationError, RateLimited, TokenExpired, TokenInvalid
from quart_authtuna.core.redis_state import (
    GRACE,
    RedisChallengeStore,
    RedisThrottle,
    state_backend,
)
from quart_authtuna.core.settings import Settings
from quart_authtuna.core.throttle import BASE_DELAY, Throttle, account_key
from tests._support.clock import FakeClock
from tests._support.redis_state import RedisState, redis_state  # noqa: F401 - the fixture
from tests.conftest import TEST_SETTINGS

ACCT = account_key("victim@example.com")
IP = "ip:203.0.113.5"
KIND = "mfa_login"
pytestmark = pytest.mark.settings(MAX_LOGIN_ATTEMPTS_PER_USER=5, MAX_LOGIN_ATTEMPTS_PER_IP=10)


@pytest.fixture(name="settings_for")
def _settings_for(request: pytest.FixtureRequest, redis_state: RedisState  # noqa: F811
                  ) -> Callable[..., Settings]:
    marker = request.node.get_closest_marker("settings")
    marked = dict(marker.kwargs) if marker else {}

    def build(**extra: Any) -> Settings:
        return Settings.from_sources(overrides={**TEST_SETTINGS, **marked,
                                                **redis_state.settings, **extra})

    return build


@pytest.fixture
def throttle(service: AuthService) -> Throttle:
    assert isinstance(service.throttle, RedisThrottle)
    return service.throttle


@pytest.fixture
def store(service: AuthService) -> RedisChallengeStore:
    assert isinstance(service.challenges, RedisChallengeStore)
    return service.challenges


@pytest.fixture
async def user(user_factory) -> User:  # type: ignore[no-untyped-def]
    return await user_factory()


async def failures(redis_state: RedisState, key: str) -> int | None:  # noqa: F811
    found = await redis_state.fields(key)
    return int(found["f"]) if found else None


async def race(n: int, attempt: Callable[[int], Any]) -> tuple[int, int]:
    results = await asyncio.gather(*(attempt(i) for i in range(n)), return_exceptions=True)
    unexpected = [r for r in results if isinstance(r, BaseException)
                  and not isinstance(r, RateLimited | TokenInvalid)]
    assert not unexpected, unexpected[:3]
    return sum(r is None or isinstance(r, AuthChallenge) for r in results), sum(
        isinstance(r, BaseException) for r in results)


def test_auto_picks_redis_when_a_url_is_set_and_the_database_otherwise(
        settings_for: Callable[..., Settings]) -> None:
    assert state_backend(settings_for()) == "redis"
    assert state_backend(settings_for(STATE_BACKEND="auto")) == "redis"
    assert state_backend(settings_for(STATE_BACKEND="database")) == "database"
    assert state_backend(Settings.from_sources(overrides=TEST_SETTINGS)) == "database"
    for wrong, message in (({"STATE_BACKEND": "memcached"}, "must be one of"),
                           ({"STATE_BACKEND": "redis"}, "needs AUTHTUNA_REDIS_URL")):
        with pytest.raises(ConfigurationError, match=message):
            state_backend(Settings.from_sources(overrides={**TEST_SETTINGS, **wrong}))


# ---- throttle -----------------------------------------------------------------------------

async def test_the_attempt_that_reaches_the_limit_locks_and_a_refusal_counts_nothing(
        throttle: Throttle, redis_state: RedisState, clock: FakeClock) -> None:  # noqa: F811
    for _ in range(5):
        await throttle.reserve([ACCT])
    with pytest.raises(RateLimited) as info:
        await throttle.reserve([ACCT])
    assert info.value.retry_after == BASE_DELAY
    assert await failures(redis_state, ACCT) == 5
    clock.advance(BASE_DELAY)
    await throttle.reserve([ACCT])
    with pytest.raises(RateLimited) as info:
        await throttle.reserve([ACCT])
    assert info.value.retry_after == 2 * BASE_DELAY, "the next lock doubles"


async def test_a_locked_key_counts_nothing_on_the_other_keys_and_silent_keys_are_reported(
        throttle: Throttle, redis_state: RedisState) -> None:  # noqa: F811
    for _ in range(10):
        await throttle.reserve([IP])
    with pytest.raises(RateLimited):
        await throttle.reserve([ACCT, IP])
    assert await failures(redis_state, ACCT) is None
    for _ in range(5):
        await throttle.reserve([], silent=[ACCT])
    reservation = await throttle.reserve(["ip:198.51.100.1"], silent=[ACCT])
    assert ACCT in reservation.locked and reservation.keys == ("ip:198.51.100.1",)


async def test_attempts_outside_the_window_start_a_new_count(
        throttle: Throttle, service: AuthService, redis_state: RedisState,  # noqa: F811
        clock: FakeClock) -> None:
    for _ in range(4):
        await throttle.reserve([ACCT])
    clock.advance(service.settings.login_rate_limit_window_seconds)
    for _ in range(4):
        await throttle.reserve([ACCT])
    assert await failures(redis_state, ACCT) == 4


async def test_release_forgets_the_account_gives_back_the_ip_and_undoes_its_own_lock(
        throttle: Throttle, redis_state: RedisState) -> None:  # noqa: F811
    for _ in range(3):
        await throttle.reserve([ACCT, IP])
    await throttle.release(await throttle.reserve([ACCT, IP]))
    assert await failures(redis_state, ACCT) is None
    assert await failures(redis_state, IP) == 3
    for _ in range(6):
        await throttle.reserve([IP])
    tenth = await throttle.reserve([IP])
    assert IP in tenth.locks
    with pytest.raises(RateLimited):
        await throttle.reserve([IP])
    await throttle.release(tenth)
    assert (await redis_state.fields(IP))["l"] == "0"
    await throttle.reserve([IP])
    await throttle.forget([IP, None])
    assert await failures(redis_state, IP) is None


async def test_every_counter_expires_with_its_window_or_lock(
        throttle: Throttle, service: AuthService, redis_state: RedisState) -> None:  # noqa: F811
    for _ in range(5):
        await throttle.reserve([ACCT, IP])
    ttls = await redis_state.keys()
    window = service.settings.login_rate_limit_window_seconds
    assert set(ttls) == {redis_state.prefix + ACCT, redis_state.prefix + IP}
    assert all(0 < ttl <= window + 2 for ttl in ttls.values()), ttls


async def test_concurrent_attempts_on_one_account_from_many_ips_stop_at_the_limit(
        throttle: Throttle, redis_state: RedisState, backend: str) -> None:  # noqa: F811
    verified = 0

    async def attempt(i: int) -> None:
        nonlocal verified
        await throttle.reserve([ACCT, f"ip:10.0.{i // 250}.{i % 250}"])
        await asyncio.sleep(0)
        verified += 1

    passed, refused = await race(120, attempt)
    print(f"\n[redis, {backend}] one account, 120 IPs: sent 120, passed {passed}")
    assert (passed, refused, verified) == (5, 115, 5)
    assert await failures(redis_state, ACCT) == 5


# ---- challenges ---------------------------------------------------------------------------

async def test_each_reservation_counts_one_attempt_up_to_the_maximum(
        store: RedisChallengeStore, user: User) -> None:
    challenge = await store.create(KIND, user_id=user.id, ttl=300, data={"remember": True})
    for n in range(1, 4):
        row = await store.reserve_attempt(challenge.handle, KIND, max_attempts=3)
        assert (row.attempts, row.user_id, row.data) == (n, user.id, {"remember": True})
    with pytest.raises(TokenInvalid):
        await store.reserve_attempt(challenge.handle, KIND, max_attempts=3)
    with pytest.raises(TokenInvalid):
        await store.get(challenge.handle, KIND, max_attempts=3)


async def test_expired_challenges_say_so_and_count_nothing(
        store: RedisChallengeStore, clock: FakeClock, user: User) -> None:
    challenge = await store.create(KIND, user_id=user.id, ttl=300)
    clock.advance(300)
    with pytest.raises(TokenExpired):
        await store.reserve_attempt(challenge.handle, KIND)
    with pytest.raises(TokenExpired):
        await store.get(challenge.handle, KIND)
    with pytest.raises(TokenInvalid):
        await store.consume(challenge.handle, KIND)


@pytest.mark.parametrize("case", ["unknown", "kind", "binding", "consumed", "voided"])
async def test_anything_but_the_live_challenge_is_invalid(
        store: RedisChallengeStore, redis_state: RedisState, user: User,  # noqa: F811
        case: str) -> None:
    challenge = await store.create(KIND, user_id=user.id, ttl=300, binding="browser-1")
    handle, kind, binding = challenge.handle, KIND, "browser-1"
    if case == "unknown":
        handle = "not-a-handle"
    elif case == "kind":
        kind = "webauthn_login"
    elif case == "binding":
        binding = "browser-2"
    elif case == "consumed":
        row = await store.consume(handle, KIND, binding=binding)
        assert row.user_id == user.id and row.consumed_at is not None
    else:
        await store.void_for_user(user.id, KIND)
    with pytest.raises(TokenInvalid):
        await store.reserve_attempt(handle, kind, binding=binding)
    if case in ("consumed", "voided"):
        assert await redis_state.keys() == {}, "a used challenge leaves nothing behind"


async def test_challenges_expire_an_hour_after_their_end(
        store: RedisChallengeStore, redis_state: RedisState, user: User) -> None:  # noqa: F811
    challenge = await store.create(KIND, user_id=user.id, ttl=300)
    ttls = await redis_state.keys()
    assert 300 + GRACE - 2 <= ttls[f"{redis_state.prefix}ch:{digest(challenge.handle)}"] \
        <= 300 + GRACE
    assert all(ttl > 0 for ttl in ttls.values()), ttls


async def test_concurrent_guesses_on_one_challenge_stop_at_the_maximum(
        store: RedisChallengeStore, user: User) -> None:
    challenge = await store.create(KIND, user_id=user.id, ttl=300)
    passed, refused = await race(120, lambda _: store.reserve_attempt(challenge.handle, KIND))
    assert (passed, refused) == (5, 115)
    row = await store.consume(challenge.handle, KIND)
    assert row.attempts == 5


async def test_concurrent_consumers_get_exactly_one_success(
        store: RedisChallengeStore, user: User) -> None:
    challenge = await store.create("webauthn_login", user_id=None, ttl=300, binding="b")
    passed, refused = await race(
        100, lambda _: store.consume(challenge.handle, "webauthn_login", binding="b"))
    assert (passed, refused) == (1, 99)

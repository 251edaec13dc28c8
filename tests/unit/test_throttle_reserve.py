"""Throttle.reserve/release: attempts counted before verifying, atomically, on both databases."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from quart_authtuna.core import AuthService
from quart_authtuna.core.db.models import ThrottleCounter
from quart_authtuna.core.errors import RateLimited
from quart_authtuna.core.throttle import (
    BASE_DELAY,
    Reservation,
    Throttle,
    account_key,
    ip_key,
    request_key,
)
from tests._support.clock import FakeClock

ACCT = account_key("victim@example.com")
IP = "ip:203.0.113.5"
#: Concurrency tests: a small PostgreSQL pool (other tests share the server), long waits.
POOL = {"DATABASE_POOL_SIZE": 8, "DATABASE_MAX_OVERFLOW": 0, "DATABASE_POOL_TIMEOUT": 120}
pytestmark = pytest.mark.settings(MAX_LOGIN_ATTEMPTS_PER_USER=5, MAX_LOGIN_ATTEMPTS_PER_IP=10,
                                  **POOL)


@pytest.fixture
def throttle(service: AuthService, clock: FakeClock) -> Throttle:
    return Throttle(service.db, service.settings, clock)


async def counter(service: AuthService, key: str) -> ThrottleCounter | None:
    async with service.transaction() as tx:
        return await tx.get(ThrottleCounter, key, populate_existing=True)


async def reserve_times(throttle: Throttle, keys: list[str | None], times: int
                        ) -> list[Reservation]:
    return [await throttle.reserve(keys) for _ in range(times)]


# --- counting and locking --------------------------------------------------------------------

async def test_the_attempt_that_reaches_the_limit_locks_the_key_at_once(
        throttle: Throttle, service: AuthService) -> None:
    await reserve_times(throttle, [ACCT], 5)
    row = await counter(service, ACCT)
    assert row is not None and row.failures == 5
    with pytest.raises(RateLimited) as info:
        await throttle.reserve([ACCT])
    assert info.value.retry_after == BASE_DELAY
    assert (await counter(service, ACCT)).failures == 5, "a refused attempt counts nothing"


async def test_after_a_lock_one_attempt_goes_through_and_the_next_lock_doubles(
        throttle: Throttle, clock: FakeClock) -> None:
    await reserve_times(throttle, [ACCT], 5)
    clock.advance(BASE_DELAY)
    await throttle.reserve([ACCT])
    with pytest.raises(RateLimited) as info:
        await throttle.reserve([ACCT])
    assert info.value.retry_after == 2 * BASE_DELAY


@pytest.mark.settings(LOGIN_LOCKOUT_DURATION_SECONDS=100)
async def test_locks_never_exceed_the_lockout_duration(throttle: Throttle,
                                                       clock: FakeClock) -> None:
    await reserve_times(throttle, [ACCT], 5)
    for _ in range(4):
        with pytest.raises(RateLimited) as info:
            await throttle.reserve([ACCT])
        clock.advance(info.value.retry_after)
        await throttle.reserve([ACCT])
    with pytest.raises(RateLimited) as info:
        await throttle.reserve([ACCT])
    assert info.value.retry_after == 100


async def test_attempts_outside_the_window_start_a_new_count(
        throttle: Throttle, service: AuthService, clock: FakeClock) -> None:
    await reserve_times(throttle, [ACCT], 4)
    clock.advance(service.settings.login_rate_limit_window_seconds)
    await reserve_times(throttle, [ACCT], 4)
    assert (await counter(service, ACCT)).failures == 4


async def test_a_locked_key_counts_nothing_on_the_other_keys(
        throttle: Throttle, service: AuthService) -> None:
    await reserve_times(throttle, [IP], 10)
    with pytest.raises(RateLimited):
        await throttle.reserve([ACCT, IP])
    assert await counter(service, ACCT) is None


async def test_a_silent_key_is_reported_not_raised_and_the_others_still_count(
        throttle: Throttle, service: AuthService) -> None:
    await reserve_times(throttle, [ACCT], 5)
    reservation = await throttle.reserve([IP], silent=[ACCT])
    assert set(reservation.locked) == {ACCT} and reservation.locked[ACCT] == BASE_DELAY
    assert reservation.keys == (IP,)
    assert (await counter(service, IP)).failures == 1
    assert (await counter(service, ACCT)).failures == 5
    assert (await throttle.reserve([IP], silent=[account_key("other")])).locked == {}


async def test_missing_keys_are_skipped_and_unknown_prefixes_refused(
        throttle: Throttle) -> None:
    assert (await throttle.reserve([None, ip_key(None)])).keys == ()
    with pytest.raises(ValueError, match="no throttle policy"):
        await throttle.reserve(["nonsense:1"])


# --- release after a success -----------------------------------------------------------------

async def test_release_forgets_the_account_and_gives_back_the_ip_attempt(
        throttle: Throttle, service: AuthService) -> None:
    await reserve_times(throttle, [ACCT, IP], 3)
    reservation = await throttle.reserve([ACCT, IP])
    await throttle.release(reservation)
    assert await counter(service, ACCT) is None
    assert (await counter(service, IP)).failures == 3


async def test_releasing_the_attempt_that_locked_the_ip_unlocks_it(
        throttle: Throttle, service: AuthService) -> None:
    await reserve_times(throttle, [IP], 9)
    tenth = await throttle.reserve([IP])
    assert IP in tenth.locks
    with pytest.raises(RateLimited):
        await throttle.reserve([IP])
    await throttle.release(tenth)
    row = await counter(service, IP)
    assert row.failures == 9 and row.locked_until == 0.0
    await throttle.reserve([IP])


async def test_release_joins_the_callers_transaction(throttle: Throttle,
                                                     service: AuthService) -> None:
    reservation = await throttle.reserve([ACCT])
    with pytest.raises(RuntimeError):
        async with service.transaction() as tx:
            await throttle.release(reservation, session=tx)
            raise RuntimeError("the success rolled back")
    assert (await counter(service, ACCT)).failures == 1


# --- fixed-window keys -----------------------------------------------------------------------

@pytest.mark.settings(MAX_TOKEN_REQUESTS_PER_IP_PER_HOUR=3)
async def test_request_keys_wait_for_the_end_of_their_hour(throttle: Throttle,
                                                           clock: FakeClock) -> None:
    key = request_key("198.51.100.4")
    await throttle.reserve([key])
    clock.advance(1000)
    await reserve_times(throttle, [key], 2)
    with pytest.raises(RateLimited) as info:
        await throttle.reserve([key])
    assert info.value.retry_after == 3600 - 1000
    clock.advance(3600 - 1000)
    await reserve_times(throttle, [key], 3)


# --- concurrency -----------------------------------------------------------------------------

async def race(n: int, attempt: Any) -> tuple[int, int]:
    """Run ``attempt(i)`` n times at once: (passed, refused); any other error fails the test."""
    results = await asyncio.gather(*(attempt(i) for i in range(n)), return_exceptions=True)
    others = [r for r in results if isinstance(r, BaseException)
              and not isinstance(r, RateLimited)]
    assert not others, others[:3]
    refused = sum(isinstance(r, RateLimited) for r in results)
    return n - refused, refused


async def test_concurrent_attempts_on_one_account_from_many_ips_stop_at_the_limit(
        throttle: Throttle, service: AuthService, backend: str) -> None:
    verified = 0

    async def attempt(i: int) -> None:
        nonlocal verified
        await throttle.reserve([ACCT, f"ip:10.0.{i // 250}.{i % 250}"])
        await asyncio.sleep(0)  # the secret check happens while others race
        verified += 1

    passed, refused = await race(120, attempt)
    print(f"\n[{backend}] one account, 120 IPs: sent 120, passed {passed}")
    assert (passed, refused, verified) == (5, 115, 5)
    assert (await counter(service, ACCT)).failures == 5


async def test_concurrent_attempts_from_one_ip_on_many_accounts_stop_at_the_limit(
        throttle: Throttle, backend: str) -> None:
    passed, _ = await race(120, lambda i: throttle.reserve([account_key(f"u{i}"), IP]))
    print(f"\n[{backend}] one IP, 120 accounts: sent 120, passed {passed}")
    assert passed == 10


async def test_concurrent_attempts_after_a_lock_let_exactly_one_through(
        throttle: Throttle, clock: FakeClock, backend: str) -> None:
    await reserve_times(throttle, [ACCT], 5)
    clock.advance(BASE_DELAY)
    passed, _ = await race(100, lambda i: throttle.reserve([ACCT]))
    print(f"\n[{backend}] one account after its lock: sent 100, passed {passed}")
    assert passed == 1


async def test_concurrent_successes_give_back_every_ip_attempt(
        throttle: Throttle, service: AuthService) -> None:
    async def attempt(i: int) -> None:
        await throttle.release(await throttle.reserve([IP, account_key(f"ok{i}")]))

    passed, _ = await race(30, attempt)
    assert passed >= 10
    row = await counter(service, IP)
    assert row is not None and row.failures == 0

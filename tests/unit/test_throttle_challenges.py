"""ChallengeStore.reserve_attempt: bounded attempts per challenge, even when guesses race."""

from __future__ import annotations

import asyncio

import pytest

from quart_authtuna.core import AuthService
from quart_authtuna.core.challenges import ChallengeStore
from quart_authtuna.core.db.models import AuthChallenge, User
from quart_authtuna.core.errors import RateLimited, TokenError, TokenExpired, TokenInvalid
from quart_authtuna.core.throttle import Throttle, account_key
from tests._support.clock import FakeClock

KIND = "mfa_login"
pytestmark = pytest.mark.settings(MAX_LOGIN_ATTEMPTS_PER_USER=5, DATABASE_POOL_SIZE=8,
                                  DATABASE_MAX_OVERFLOW=0, DATABASE_POOL_TIMEOUT=120)


@pytest.fixture
def store(service: AuthService, clock: FakeClock) -> ChallengeStore:
    return ChallengeStore(service.db, clock)


@pytest.fixture
async def user(user_factory) -> User:  # type: ignore[no-untyped-def]
    return await user_factory()


async def attempts(service: AuthService, handle: str) -> int:
    from quart_authtuna.core.crypto.tokens import digest

    async with service.transaction() as tx:
        row = await tx.get(AuthChallenge, digest(handle), populate_existing=True)
    assert row is not None
    return row.attempts


async def test_each_reservation_counts_one_attempt_up_to_the_maximum(
        store: ChallengeStore, service: AuthService, user: User) -> None:
    challenge = await store.create(KIND, user_id=user.id, ttl=300)
    for n in range(1, 4):
        row = await store.reserve_attempt(challenge.handle, KIND, max_attempts=3)
        assert row.attempts == n and row.user_id == user.id
    with pytest.raises(TokenInvalid):
        await store.reserve_attempt(challenge.handle, KIND, max_attempts=3)
    assert await attempts(service, challenge.handle) == 3
    with pytest.raises(TokenInvalid):
        await store.get(challenge.handle, KIND, max_attempts=3)


async def test_expired_challenges_say_so_and_count_nothing(
        store: ChallengeStore, service: AuthService, clock: FakeClock, user: User) -> None:
    challenge = await store.create(KIND, user_id=user.id, ttl=300)
    clock.advance(300)
    with pytest.raises(TokenExpired):
        await store.reserve_attempt(challenge.handle, KIND)
    assert await attempts(service, challenge.handle) == 0


@pytest.mark.parametrize("case", ["unknown", "kind", "binding", "consumed"])
async def test_anything_but_the_live_challenge_is_invalid(
        store: ChallengeStore, service: AuthService, user: User, case: str) -> None:
    challenge = await store.create(KIND, user_id=user.id, ttl=300, binding="browser-1")
    handle, kind, binding = challenge.handle, KIND, "browser-1"
    if case == "unknown":
        handle = "not-a-handle"
    elif case == "kind":
        kind = "webauthn_login"
    elif case == "binding":
        binding = "browser-2"
    else:
        await store.consume(handle, KIND, binding=binding)
    with pytest.raises(TokenInvalid):
        await store.reserve_attempt(handle, kind, binding=binding)
    assert await attempts(service, challenge.handle) == 0


async def test_concurrent_guesses_on_one_challenge_stop_at_the_maximum(
        store: ChallengeStore, service: AuthService, user: User, backend: str) -> None:
    challenge = await store.create(KIND, user_id=user.id, ttl=300)
    results = await asyncio.gather(*(store.reserve_attempt(challenge.handle, KIND)
                                     for _ in range(120)), return_exceptions=True)
    passed = sum(isinstance(r, AuthChallenge) for r in results)
    refused = sum(isinstance(r, TokenInvalid) for r in results)
    print(f"\n[{backend}] one challenge: sent 120, passed {passed}")
    assert (passed, refused) == (5, 115)
    assert await attempts(service, challenge.handle) == 5


async def test_concurrent_guesses_over_many_challenges_of_one_account_stop_at_its_limit(
        store: ChallengeStore, service: AuthService, clock: FakeClock, user: User,
        backend: str) -> None:
    """The issue's case: 6 pending MFA logins of one account, guesses on all at once."""
    throttle = Throttle(service.db, service.settings, clock)
    handles = [(await store.create(KIND, user_id=user.id, ttl=300)).handle for _ in range(6)]
    verified = 0

    async def guess(i: int) -> None:
        nonlocal verified
        pending = await store.reserve_attempt(handles[i % 6], KIND)
        await throttle.reserve([account_key("", pending.user_id)])
        await asyncio.sleep(0)  # the TOTP check
        verified += 1

    results = await asyncio.gather(*(guess(i) for i in range(240)), return_exceptions=True)
    unexpected = [r for r in results if isinstance(r, BaseException)
                  and not isinstance(r, RateLimited | TokenError)]
    assert not unexpected, unexpected[:3]
    print(f"\n[{backend}] 6 challenges of one account: sent 240, verified {verified}")
    assert verified == 5

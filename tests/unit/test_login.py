"""Password login: generic failures, equal cost, fresh hashed sessions, transparent rehash."""

from __future__ import annotations

import statistics
import time

import pytest
from sqlalchemy import select

from quart_authtuna.core import AuthService, InvalidCredentials
from quart_authtuna.core.crypto.passwords import hash_password_blocking, hash_rounds
from quart_authtuna.core.crypto.tokens import digest
from quart_authtuna.core.db.models import User, UserSession
from tests.conftest import PASSWORD


async def test_login_by_username_or_email_opens_a_hashed_session(
    service: AuthService, user_factory
) -> None:
    user = await user_factory("Alice")
    for identifier in ("alice", "ALICE", "alice@example.com", "Alice@Example.COM"):
        found, issued = await service.login(identifier, PASSWORD, "10.0.0.1")
        assert found.id == user.id
        assert issued.session_id == digest(issued.raw_id)
    async with service.transaction() as tx:
        stored = (await tx.scalars(select(UserSession.session_id))).all()
    assert len(set(stored)) == 4
    assert issued.raw_id not in stored


async def test_each_login_issues_a_new_session_id(service: AuthService, user_factory) -> None:
    await user_factory("bob")
    _, first = await service.login("bob", PASSWORD)
    _, second = await service.login("bob", PASSWORD)
    assert first.raw_id != second.raw_id


async def test_failures_are_generic(service: AuthService, user_factory) -> None:
    suspended = await user_factory("carol")
    await user_factory("dave")
    await service.users.suspend_user(suspended.id, "system", "test")
    messages = set()
    for identifier, password in (("nobody", PASSWORD), ("dave", "wrong password here"),
                                 ("carol", PASSWORD), ("dave", "x" * 5000)):
        with pytest.raises(InvalidCredentials) as info:
            await service.login(identifier, password)
        messages.add(str(info.value))
    assert len(messages) == 1
    failed = await service.audit.get_events_by_type("LOGIN_FAILED")
    assert len(failed) == 4
    assert all("nobody" not in str(e.details) and PASSWORD not in str(e.details) for e in failed)


async def test_passwords_differing_after_byte_72_are_different(
    service: AuthService, user_factory
) -> None:
    first = "a" * 72 + "-first-tail-ends-here"
    await user_factory("eve", password=first)
    await service.login("eve", first)
    with pytest.raises(InvalidCredentials):
        await service.login("eve", "a" * 72 + "-other-tail-ends-here")


@pytest.mark.settings(BCRYPT_ROUNDS=5)
async def test_older_cost_is_rehashed_at_login(service: AuthService, user_factory) -> None:
    user = await user_factory("frank")
    pepper = service.settings.password_pepper.reveal()
    async with service.transaction() as tx:
        row = await tx.get(User, user.id)
        row.password_hash = hash_password_blocking(PASSWORD, pepper, 4)
    await service.login("frank", PASSWORD)
    assert hash_rounds((await service.users.get_by_id(user.id)).password_hash) == 5
    await service.login("frank", PASSWORD)


@pytest.mark.slow
@pytest.mark.settings(BCRYPT_ROUNDS=12, MAX_LOGIN_ATTEMPTS_PER_USER=100)
async def test_real_cost_login_and_equal_time_for_unknown_users(
    service: AuthService, user_factory
) -> None:
    user = await user_factory("grace")
    assert hash_rounds(user.password_hash) == 12

    async def timed(identifier: str) -> float:
        start = time.perf_counter()
        with pytest.raises(InvalidCredentials):
            await service.login(identifier, "not the right password")
        return time.perf_counter() - start

    await timed("nobody-at-all")  # warms the dummy hash
    unknown = statistics.median([await timed("nobody-at-all") for _ in range(5)])
    wrong = statistics.median([await timed("grace") for _ in range(5)])
    assert 0.5 < unknown / wrong < 2.0

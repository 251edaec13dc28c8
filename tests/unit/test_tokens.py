"""Single-use tokens: hashed at rest, purpose-bound, expiring, consumed exactly once."""

from __future__ import annotations

import asyncio

import pytest
from sqlalchemy import select

from quart_authtuna.core import AuthService, TokenExpired, TokenInvalid
from quart_authtuna.core.db.models import Token
from tests._support.clock import FakeClock


async def test_token_is_stored_only_as_its_hash(service: AuthService, user_factory) -> None:
    user = await user_factory()
    issued = await service.tokens.create(user.id, "email_verification")
    async with service.transaction() as tx:
        stored = (await tx.scalars(select(Token.id))).all()
    assert issued.raw not in stored
    assert issued.row.id in stored and len(issued.raw) >= 43  # 256 bits, url-safe


async def test_fifty_concurrent_redemptions_give_exactly_one_success(
    service: AuthService, user_factory
) -> None:
    user = await user_factory()
    issued = await service.tokens.create(user.id, "password_reset")

    async def redeem() -> bool:
        try:
            await service.tokens.consume(issued.raw, "password_reset")
        except TokenInvalid:
            return False
        return True

    results = await asyncio.gather(*(redeem() for _ in range(50)))
    assert results.count(True) == 1
    used = await service.audit.get_events_by_type("TOKEN_USED")
    assert len(used) == 1


async def test_token_is_bound_to_its_purpose(service: AuthService, user_factory) -> None:
    user = await user_factory()
    issued = await service.tokens.create(user.id, "email_verification")
    with pytest.raises(TokenInvalid):
        await service.tokens.consume(issued.raw, "password_reset")
    assert (await service.tokens.consume(issued.raw, "email_verification")).user_id == user.id


async def test_expired_token_is_refused_and_not_regenerated(
    service: AuthService, user_factory, clock: FakeClock
) -> None:
    user = await user_factory()
    issued = await service.tokens.create(user.id, "email_verification", expiry_seconds=60)
    clock.advance(61)
    with pytest.raises(TokenExpired):
        await service.tokens.consume(issued.raw, "email_verification")
    async with service.transaction() as tx:
        assert len((await tx.scalars(select(Token))).all()) == 1


async def test_reused_token_is_refused(service: AuthService, user_factory) -> None:
    user = await user_factory()
    issued = await service.tokens.create(user.id, "email_verification")
    await service.tokens.consume(issued.raw, "email_verification")
    with pytest.raises(TokenInvalid):
        await service.tokens.consume(issued.raw, "email_verification")


async def test_new_token_invalidates_the_previous_one(service: AuthService, user_factory) -> None:
    user = await user_factory()
    first = await service.tokens.create(user.id, "email_verification")
    second = await service.tokens.create(user.id, "email_verification")
    with pytest.raises(TokenInvalid):
        await service.tokens.consume(first.raw, "email_verification")
    await service.tokens.consume(second.raw, "email_verification")


async def test_unknown_token_is_invalid(service: AuthService) -> None:
    with pytest.raises(TokenInvalid):
        await service.tokens.consume("not-a-real-token", "password_reset")


@pytest.mark.settings(TOKENS_MAX_COUNT_PER_DAY_PER_USER_PER_ACTION=2)
async def test_no_per_user_daily_cap_that_strangers_could_use_up(
    service: AuthService, user_factory, clock: FakeClock
) -> None:
    """Requests are limited per requesting IP and mails per address (MailQuota), so the
    owner's own request always gets a working token; the newest token replaces the others."""
    user = await user_factory()
    issued = [await service.tokens.create(user.id, "password_reset") for _ in range(4)]
    for old in issued[:-1]:
        with pytest.raises(TokenInvalid):
            await service.tokens.peek(old.raw, "password_reset")
    assert (await service.tokens.peek(issued[-1].raw, "password_reset")).user_id == user.id

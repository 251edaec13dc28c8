"""TOTP and recovery codes: encrypted secret, ±1 step, no replay, single-use codes."""

from __future__ import annotations

import asyncio

import pyotp
import pytest
from sqlalchemy import select

from quart_authtuna.core import AuthService, InvalidCredentials, RateLimited
from quart_authtuna.core.db.models import MFAMethod, MFARecoveryCode
from tests._support.clock import FakeClock

STEP = 30


async def enrol(service: AuthService, user_id: str, clock: FakeClock) -> tuple[str, list[str]]:
    setup = await service.mfa.setup_totp(user_id)
    codes = await service.mfa.verify_and_enable_totp(user_id,
                                                     pyotp.TOTP(setup.secret).at(clock.now))
    clock.advance(STEP)
    return setup.secret, codes


def code_at(secret: str, clock: FakeClock, steps: int = 0) -> str:
    return pyotp.TOTP(secret).at(clock.now + steps * STEP)


async def test_secret_is_encrypted_and_qr_is_inline(service: AuthService, user_factory,
                                                    clock: FakeClock) -> None:
    user = await user_factory()
    setup = await service.mfa.setup_totp(user.id)
    assert setup.qr_data_uri.startswith("data:image/svg+xml")
    assert setup.secret not in setup.qr_data_uri  # percent-encoded inside the SVG data
    assert "secret=" in setup.provisioning_uri and setup.provisioning_uri.startswith("otpauth://")
    async with service.transaction() as tx:
        stored = (await tx.scalars(select(MFAMethod.secret_encrypted))).all()
    assert stored and setup.secret not in stored[0]
    assert service.encryptor.decrypt(stored[0]) == setup.secret


async def test_enrolment_needs_a_valid_code_and_returns_ten_codes(
    service: AuthService, user_factory, clock: FakeClock
) -> None:
    user = await user_factory()
    setup = await service.mfa.setup_totp(user.id)
    with pytest.raises(InvalidCredentials):
        await service.mfa.verify_and_enable_totp(user.id, "000000")
    codes = await service.mfa.verify_and_enable_totp(user.id, code_at(setup.secret, clock))
    assert len(codes) == 10 == len(set(codes))
    assert (await service.users.get_by_id(user.id)).mfa_enabled
    async with service.transaction() as tx:
        hashes = (await tx.scalars(select(MFARecoveryCode.hashed_code))).all()
    assert not set(codes) & set(hashes)


@pytest.mark.parametrize(("steps", "accepted"), [(-2, False), (-1, True), (0, True), (1, True),
                                                  (2, False)])
async def test_at_most_one_step_of_clock_skew(service: AuthService, user_factory,
                                              clock: FakeClock, steps: int, accepted: bool) -> None:
    user = await user_factory()
    secret, _ = await enrol(service, user.id, clock)
    clock.advance(5 * STEP)
    assert await service.mfa.verify_code(user.id, code_at(secret, clock, steps)) is accepted


async def test_the_same_code_works_once(service: AuthService, user_factory,
                                        clock: FakeClock) -> None:
    user = await user_factory()
    secret, _ = await enrol(service, user.id, clock)
    code = code_at(secret, clock)
    assert await service.mfa.verify_code(user.id, code)
    assert not await service.mfa.verify_code(user.id, code)
    # an older step is refused too once a newer one was used
    assert not await service.mfa.verify_code(user.id, code_at(secret, clock, -1))


async def test_fifty_concurrent_uses_of_one_code_give_one_success(
    service: AuthService, user_factory, clock: FakeClock
) -> None:
    user = await user_factory()
    secret, _ = await enrol(service, user.id, clock)
    code = code_at(secret, clock)

    async def attempt() -> bool:
        try:
            return await service.mfa.verify_code(user.id, code)
        except RateLimited:
            return False

    results = await asyncio.gather(*(attempt() for _ in range(50)))
    assert results.count(True) == 1


async def test_recovery_codes_are_single_use_even_concurrently(
    service: AuthService, user_factory, clock: FakeClock
) -> None:
    user = await user_factory()
    _, codes = await enrol(service, user.id, clock)
    assert await service.mfa.verify_code(user.id, codes[0].lower())
    assert not await service.mfa.verify_code(user.id, codes[0])

    async def attempt() -> bool:
        try:
            return await service.mfa.verify_code(user.id, codes[1])
        except RateLimited:
            return False

    results = await asyncio.gather(*(attempt() for _ in range(50)))
    assert results.count(True) == 1
    assert await service.mfa.remaining_recovery_codes(user.id) == 8


async def test_regenerating_codes_invalidates_the_old_set(
    service: AuthService, user_factory, clock: FakeClock
) -> None:
    user = await user_factory()
    _, old = await enrol(service, user.id, clock)
    new = await service.mfa.regenerate_recovery_codes(user.id)
    assert not await service.mfa.verify_code(user.id, old[2])
    assert await service.mfa.verify_code(user.id, new[2])


async def test_disabling_needs_a_current_code(service: AuthService, user_factory,
                                              clock: FakeClock) -> None:
    user = await user_factory()
    secret, _ = await enrol(service, user.id, clock)
    with pytest.raises(InvalidCredentials):
        await service.mfa.disable_mfa(user.id, "123456")
    assert (await service.users.get_by_id(user.id)).mfa_enabled
    await service.mfa.disable_mfa(user.id, code_at(secret, clock))
    assert not (await service.users.get_by_id(user.id)).mfa_enabled
    types = {e.event_type for e in await service.audit.get_events_for_user(user.id, limit=100)}
    assert {"MFA_ENABLED", "MFA_DISABLED", "MFA_VALIDATION_FAILED"} <= types
    await service.mail.drain()
    kinds = [m.kind for m in service.mail.outbox.messages]
    assert "mfa_added" in kinds and "mfa_removed" in kinds


@pytest.mark.settings(MAX_LOGIN_ATTEMPTS_PER_USER=3)
async def test_wrong_codes_count_toward_the_account_lockout(
    service: AuthService, user_factory, clock: FakeClock
) -> None:
    user = await user_factory()
    secret, _ = await enrol(service, user.id, clock)
    for _ in range(3):
        assert not await service.mfa.verify_code(user.id, "000000")
    with pytest.raises(RateLimited):
        await service.mfa.verify_code(user.id, code_at(secret, clock))

"""Lockout design: silent account locks, trusted devices exempt, requester keys answer 429."""

from __future__ import annotations

import asyncio
from collections.abc import Callable

import pytest

from quart_authtuna.core import AuthService, Settings
from quart_authtuna.core.crypto.cookie_codec import CookieCodec
from quart_authtuna.core.crypto.fernet import Encryptor
from quart_authtuna.core.db.models import User
from quart_authtuna.core.device_trust import DeviceTrust
from quart_authtuna.core.errors import AuthTunaError, InvalidCredentials, RateLimited
from quart_authtuna.core.lockout import LoginGate
from quart_authtuna.core.throttle import Throttle, account_key
from tests._support.clock import FakeClock
from tests.conftest import PASSWORD

WRONG = "not the password at all"
pytestmark = pytest.mark.settings(MAX_LOGIN_ATTEMPTS_PER_USER=5, MAX_LOGIN_ATTEMPTS_PER_IP=10,
                                  DATABASE_POOL_SIZE=8, DATABASE_MAX_OVERFLOW=0,
                                  DATABASE_POOL_TIMEOUT=120)


# --- DeviceTrust (no database) ---------------------------------------------------------------

@pytest.fixture
def devices(settings_for: Callable[..., Settings], clock: FakeClock) -> DeviceTrust:
    return DeviceTrust(settings_for(), clock)


def test_a_device_token_names_its_device_for_its_user_only(devices: DeviceTrust) -> None:
    token = devices.issue("user-1")
    device = devices.verify(token, "user-1")
    assert device is not None and len(device) >= 20
    assert devices.verify(token, "user-2") is None
    assert devices.verify(devices.issue("user-1", device), "user-1") == device
    assert devices.verify(devices.issue("user-1"), "user-1") != device


@pytest.mark.parametrize("bad", [None, "", "garbage", "a.b.c", "x" * 5000])
def test_anything_else_is_not_a_device_token(devices: DeviceTrust, bad: str | None) -> None:
    assert devices.verify(bad, "user-1") is None


def test_device_tokens_expire(devices: DeviceTrust, clock: FakeClock,
                              settings_for: Callable[..., Settings]) -> None:
    token = devices.issue("user-1")
    clock.advance(settings_for().device_trust_lifetime_seconds - 1)
    assert devices.verify(token, "user-1") is not None
    clock.advance(1)
    assert devices.verify(token, "user-1") is None


def test_signing_keys_rotate(settings_for: Callable[..., Settings], clock: FakeClock) -> None:
    old = DeviceTrust(settings_for(JWT_SECRET_KEY="o" * 40), clock)
    token = old.issue("user-1")
    assert DeviceTrust(settings_for(), clock).verify(token, "user-1") is None
    rotated = DeviceTrust(settings_for(JWT_FALLBACK_SECRET_KEYS=["o" * 40]), clock)
    assert rotated.verify(token, "user-1") is not None


def test_device_tokens_and_session_cookies_are_not_interchangeable(
        devices: DeviceTrust, settings_for: Callable[..., Settings], clock: FakeClock) -> None:
    settings = settings_for()
    codec = CookieCodec(settings, Encryptor(settings))
    cookie = codec.encode({"sub": "user-1"}, clock() + 3600)
    assert devices.verify(cookie, "user-1") is None
    assert codec.decode(devices.issue("user-1"), clock()) is None


# --- LoginGate, through the sign-in the flow is meant to do ----------------------------------

@pytest.fixture
def gate(service: AuthService, clock: FakeClock) -> LoginGate:
    return LoginGate(Throttle(service.db, service.settings, clock),
                     DeviceTrust(service.settings, clock))


@pytest.fixture
async def victim(user_factory) -> User:  # type: ignore[no-untyped-def]
    return await user_factory("victim")


async def sign_in(service: AuthService, gate: LoginGate, identifier: str, password: str,
                  ip: str = "198.51.100.1", device: str | None = None,
                  checked: list[str] | None = None) -> str:
    """What the login flow does with the gate; returns the device token to set."""
    user = await service.users.get_by_identifier(identifier)
    attempt = await gate.enter(account_key(identifier, user.id if user else None), ip, device,
                               user_id=user.id if user else None)
    real = user is not None and not attempt.account_locked
    ok = await service.passwords.verify(password, user.password_hash if real else None)
    if real and checked is not None:
        checked.append(identifier)
    if not (real and ok):
        raise InvalidCredentials()
    await gate.succeeded(attempt)
    return gate.trust(user.id, attempt)


async def answer(service: AuthService, gate: LoginGate, identifier: str, password: str,
                 **kwargs: object) -> tuple[str, str]:
    """(error code, message) of a sign-in that must fail."""
    with pytest.raises(AuthTunaError) as info:
        await sign_in(service, gate, identifier, password, **kwargs)  # type: ignore[arg-type]
    return info.value.code, info.value.message


async def fail(service: AuthService, gate: LoginGate, identifier: str, times: int,
               **kwargs: object) -> None:
    for _ in range(times):
        assert (await answer(service, gate, identifier, WRONG, **kwargs))[0] == \
            "invalid_credentials"


async def test_a_locked_account_answers_like_a_wrong_password_by_username_and_email(
        service: AuthService, gate: LoginGate, victim: User) -> None:
    await fail(service, gate, "victim", 5, ip="203.0.113.1")
    generic = await answer(service, gate, "no-such-person@example.com", PASSWORD)
    for identifier in ("victim", "VICTIM", "victim@example.com"):
        assert await answer(service, gate, identifier, PASSWORD, ip="203.0.113.2") == generic
    assert await answer(service, gate, "victim", WRONG) == generic


async def test_a_lock_by_email_is_the_same_lock_as_by_username(
        service: AuthService, gate: LoginGate, victim: User) -> None:
    await fail(service, gate, "victim@example.com", 3)
    await fail(service, gate, "Victim", 2)
    checked: list[str] = []
    with pytest.raises(InvalidCredentials):
        await sign_in(service, gate, "victim", PASSWORD, checked=checked)
    assert checked == [], "the locked account's hash is not checked"


async def test_an_unlocked_account_signs_in_and_forgets_its_failures(
        service: AuthService, gate: LoginGate, victim: User) -> None:
    await fail(service, gate, "victim", 4)
    await sign_in(service, gate, "victim", PASSWORD)
    await fail(service, gate, "victim", 4)
    await sign_in(service, gate, "victim@example.com", PASSWORD)


async def test_an_address_over_its_limit_is_told_so(service: AuthService, gate: LoginGate,
                                                    victim: User) -> None:
    for n in range(10):
        await answer(service, gate, f"sprayed{n}", WRONG, ip="203.0.113.9")
    code, _ = await answer(service, gate, "victim", PASSWORD, ip="203.0.113.9")
    assert code == "rate_limited"
    await sign_in(service, gate, "victim", PASSWORD, ip="203.0.113.10")


async def test_a_device_that_signed_in_before_is_not_locked_out(
        service: AuthService, gate: LoginGate, victim: User) -> None:
    token = await sign_in(service, gate, "victim", PASSWORD, ip="198.51.100.7")
    for n in range(12):
        await answer(service, gate, "victim", WRONG, ip="203.0.113.50")
        await answer(service, gate, f"other{n}", WRONG, ip="198.51.100.7")
    assert (await answer(service, gate, "victim", PASSWORD))[0] == "invalid_credentials"
    renewed = await sign_in(service, gate, "victim", PASSWORD, ip="198.51.100.7", device=token)
    assert gate.devices.verify(renewed, victim.id) == gate.devices.verify(token, victim.id)
    assert (await answer(service, gate, "victim", PASSWORD))[0] == "invalid_credentials", \
        "the trusted device's success does not lift the lock for everyone else"


async def test_a_trusted_device_has_its_own_limit_and_is_told_when_it_is_reached(
        service: AuthService, gate: LoginGate, clock: FakeClock, victim: User) -> None:
    token = await sign_in(service, gate, "victim", PASSWORD)
    await fail(service, gate, "victim", 5, device=token)
    code, _ = await answer(service, gate, "victim", PASSWORD, device=token)
    assert code == "rate_limited"
    await sign_in(service, gate, "victim", PASSWORD, ip="198.51.100.99")
    clock.advance(30)
    await sign_in(service, gate, "victim", PASSWORD, device=token)


async def test_a_device_token_of_another_account_gives_no_exemption(
        service: AuthService, gate: LoginGate, victim: User, user_factory) -> None:  # type: ignore[no-untyped-def]
    await user_factory("mallory")
    token = await sign_in(service, gate, "mallory", PASSWORD)
    await fail(service, gate, "victim", 5, ip="203.0.113.60")
    assert (await answer(service, gate, "victim", PASSWORD, device=token))[0] == \
        "invalid_credentials"


async def test_parallel_wrong_passwords_from_many_addresses_check_the_hash_at_most_the_limit(
        service: AuthService, gate: LoginGate, victim: User, backend: str) -> None:
    checked: list[str] = []
    results = await asyncio.gather(*(
        sign_in(service, gate, "victim", WRONG, ip=f"10.1.{i // 250}.{i % 250}",
                checked=checked) for i in range(100)), return_exceptions=True)
    assert all(isinstance(r, InvalidCredentials) for r in results), \
        {type(r).__name__ for r in results}
    print(f"\n[{backend}] login, one account from 100 IPs: sent 100, hash checked "
          f"{len(checked)}")
    assert len(checked) == 5
    assert not any(isinstance(r, RateLimited) for r in results)

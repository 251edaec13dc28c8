"""Accounts without a password (passkey-first): the password paths refuse them like any miss,
at the same cost, and a reset or set_first gives them one."""

from __future__ import annotations

import statistics
import time
from typing import Any

import bcrypt
import pytest

from quart_authtuna.core import AuthService, InvalidCredentials
from quart_authtuna.core.errors import ConflictError
from quart_authtuna.core.types import RequestMeta
from tests.conftest import PASSWORD


async def passwordless(service: AuthService, username: str) -> Any:
    return await service.users.create(f"{username}@example.com", username,
                                      email_verified=True)


async def test_each_miss_checks_one_bcrypt_hash(service: AuthService, user_factory: Any,
                                                monkeypatch: pytest.MonkeyPatch) -> None:
    await passwordless(service, "hana")
    await user_factory("ines")
    checks: list[int] = []
    real = bcrypt.checkpw
    monkeypatch.setattr(bcrypt, "checkpw", lambda *a: checks.append(1) or real(*a))
    for who in ("hana", "ines", "nobody-at-all"):
        checks.clear()
        with pytest.raises(InvalidCredentials) as refused:
            await service.login(who, "not the password")
        assert len(checks) == 1, who
        assert refused.value.message == InvalidCredentials().message


@pytest.mark.slow
@pytest.mark.settings(BCRYPT_ROUNDS=12, MAX_LOGIN_ATTEMPTS_PER_USER=100)
async def test_a_passwordless_account_costs_what_a_wrong_password_costs(
        service: AuthService, user_factory: Any) -> None:
    await passwordless(service, "jade")
    await user_factory("kai")

    async def timed(identifier: str) -> float:
        start = time.perf_counter()
        with pytest.raises(InvalidCredentials):
            await service.login(identifier, "not the right password")
        return time.perf_counter() - start

    await timed("jade")  # warms the dummy hash
    none = statistics.median([await timed("jade") for _ in range(5)])
    wrong = statistics.median([await timed("kai") for _ in range(5)])
    assert 0.5 < none / wrong < 2.0


async def test_set_first_only_when_there_is_none(service: AuthService, user_factory: Any
                                                 ) -> None:
    user = await passwordless(service, "lena")
    done = await service.flows.passwords.set_first(user.id, PASSWORD, RequestMeta())
    assert await service.passwords.verify(PASSWORD, done.user.password_hash)
    found, _ = await service.login("lena", PASSWORD)
    assert found.id == user.id
    with pytest.raises(ConflictError):
        await service.flows.passwords.set_first(user.id, PASSWORD + "!", RequestMeta())
    with pytest.raises(ConflictError):  # changing needs a current one
        await service.flows.passwords.change((await passwordless(service, "lulu")).id,
                                             "", PASSWORD, RequestMeta())
    other = await user_factory("mona")
    with pytest.raises(ConflictError):
        await service.flows.passwords.set_first(other.id, PASSWORD, RequestMeta())


async def test_turning_totp_off_keeps_a_passwordless_accounts_codes(
        service: AuthService) -> None:
    user = await passwordless(service, "nina")
    async with service.transaction() as tx:
        await service.mfa.store.replace_codes(tx, user.id)
        row = await service.mfa.store.user(tx, user.id)
        await service.mfa.store.remove_all(tx, row)
    assert await service.mfa.remaining_recovery_codes(user.id) == 10
    codes = await service.mfa.regenerate_recovery_codes(user.id)
    assert len(codes) == 10

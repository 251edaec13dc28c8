"""MailQuota: hourly caps per address and per IP, and the per-IP limit on token requests."""

from __future__ import annotations

import asyncio

import pytest
from sqlalchemy import select

from quart_authtuna.core import AuthService
from quart_authtuna.core.db.models import ThrottleCounter
from quart_authtuna.core.errors import RateLimited
from quart_authtuna.core.mail_quota import MailQuota
from quart_authtuna.core.throttle import Throttle
from tests._support.clock import FakeClock

IP = "203.0.113.20"
pytestmark = pytest.mark.settings(MAIL_MAX_PER_ADDRESS_PER_HOUR=3, MAIL_MAX_PER_IP_PER_HOUR=5,
                                  MAX_TOKEN_REQUESTS_PER_IP_PER_HOUR=4, DATABASE_POOL_SIZE=8,
                                  DATABASE_MAX_OVERFLOW=0, DATABASE_POOL_TIMEOUT=120)


@pytest.fixture
def quota(service: AuthService, clock: FakeClock) -> MailQuota:
    return MailQuota(Throttle(service.db, service.settings, clock), service.settings)


async def allowed(quota: MailQuota, address: str, times: int, ip: str | None = IP,
                  **kwargs: str) -> list[bool]:
    return [await quota.allow(address, ip, **kwargs) for _ in range(times)]


async def test_each_address_gets_a_few_mails_an_hour_whoever_asks(
        quota: MailQuota, clock: FakeClock) -> None:
    assert await allowed(quota, "bob@example.com", 2, ip="198.51.100.1") == [True, True]
    assert await allowed(quota, "Bob@EXAMPLE.com", 2, ip="198.51.100.2") == [True, False]
    assert await quota.allow("carol@example.com", "198.51.100.3")
    clock.advance(3599)
    assert not await quota.allow("bob@example.com", "198.51.100.4")
    clock.advance(1)
    assert await quota.allow("bob@example.com", "198.51.100.4")


async def test_each_ip_causes_a_bounded_number_of_mails(quota: MailQuota) -> None:
    results = [await quota.allow(f"person{n}@example.com", IP) for n in range(6)]
    assert results == [True] * 5 + [False]
    assert await quota.allow("person5@example.com", "198.51.100.8"), \
        "the address refused for its requester's cap was not counted"
    assert not await quota.allow("someone.else@example.com", IP)


async def test_a_trusted_device_is_not_silenced_by_strangers_filling_the_address_cap(
        quota: MailQuota) -> None:
    await allowed(quota, "dana@example.com", 3, ip="198.51.100.30")
    assert not await quota.allow("dana@example.com", "198.51.100.31")
    assert await allowed(quota, "dana@example.com", 4, ip="198.51.100.32",
                         device_id="dev-1") == [True] * 3 + [False]


async def test_no_address_is_stored(quota: MailQuota, service: AuthService) -> None:
    await quota.allow("erin.secret@example.com", IP)
    async with service.transaction() as tx:
        keys = (await tx.scalars(select(ThrottleCounter.key))).all()
    assert len(keys) == 2 and not [k for k in keys if "erin" in k]


async def test_concurrent_mails_to_one_address_stop_at_the_cap(
        quota: MailQuota, backend: str) -> None:
    results = await asyncio.gather(*(quota.allow("frank@example.com", f"10.2.0.{i % 250}")
                                     for i in range(100)))
    print(f"\n[{backend}] mails to one address: sent 100, allowed {sum(results)}")
    assert sum(results) == 3


async def test_token_requests_are_limited_per_requesting_ip(
        quota: MailQuota, clock: FakeClock) -> None:
    for _ in range(4):
        await quota.admit_request(IP)
    with pytest.raises(RateLimited) as info:
        await quota.admit_request(IP)
    assert info.value.retry_after == 3600
    await quota.admit_request("198.51.100.40")
    clock.advance(3600)
    await quota.admit_request(IP)

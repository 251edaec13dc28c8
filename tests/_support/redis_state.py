"""Throttle counters and challenges in the real Redis, under a key prefix unique to the test.

``redis_state`` (a fixture) gives the settings that pick the Redis backend, makes every
AuthService built during the test use its own prefix, and deletes the prefix's keys after.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from functools import partial
from typing import Any

import pytest

from quart_authtuna.core import redis_state as state_module
from quart_authtuna.core import service as service_module
from tests._support.brokers import redis_url_or_skip


@dataclass
class RedisState:
    """The test's Redis URL, key prefix and the settings choosing the Redis backend."""

    url: str
    prefix: str
    settings: dict[str, Any] = field(default_factory=dict)

    async def keys(self) -> dict[str, int]:
        """Every key under the prefix, with its TTL in seconds (-1: none)."""
        from redis.asyncio import Redis

        client = Redis.from_url(self.url, decode_responses=True)
        try:
            return {key: int(await client.ttl(key))
                    async for key in client.scan_iter(self.prefix + "*")}
        finally:
            await client.aclose()

    async def fields(self, key: str) -> dict[str, str]:
        """The hash stored under the prefix + ``key``."""
        from redis.asyncio import Redis

        client = Redis.from_url(self.url, decode_responses=True)
        try:
            return dict(await client.hgetall(self.prefix + key))  # type: ignore[misc]
        finally:
            await client.aclose()


@pytest.fixture
async def redis_state(monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[RedisState]:
    from redis.asyncio import Redis

    url = await redis_url_or_skip()
    prefix = f"authtuna_test_{uuid.uuid4().hex}:"
    monkeypatch.setattr(service_module, "make_state",
                        partial(state_module.make_state, prefix=prefix))
    yield RedisState(url, prefix, {"REDIS_URL": url, "STATE_BACKEND": "redis",
                                   "REVOCATION_BROADCASTER": "local"})
    client = Redis.from_url(url)
    try:
        found = [key async for key in client.scan_iter(prefix + "*")]
        if found:
            await client.delete(*found)
    finally:
        await client.aclose()

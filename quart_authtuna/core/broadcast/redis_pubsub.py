"""Redis pub/sub (``AUTHTUNA_REDIS_URL``; ``pip install quart-authtuna[redis]``).

A client without automatic retries holds the subscription, so a lost connection surfaces
here (redis-py would otherwise re-subscribe silently and hide the messages missed meanwhile);
a second client publishes.
"""

from __future__ import annotations

from typing import Any

from ..errors import ConfigurationError
from ..settings import Settings
from .listening import ListeningBroadcaster
from .wire import channel_for

try:
    from redis.asyncio import Redis
    from redis.asyncio.retry import Retry
    from redis.backoff import NoBackoff
    from redis.exceptions import RedisError
except ImportError:  # pragma: no cover - the optional extra is missing
    Redis = None  # type: ignore[assignment,misc]

SOCKET_TIMEOUT = 5.0


class RedisBroadcaster(ListeningBroadcaster):
    """Revocations over Redis pub/sub on this database's channel."""

    name = "redis"

    def __init__(self, settings: Settings) -> None:
        if Redis is None:
            raise ConfigurationError(["AUTHTUNA_REDIS_URL needs the redis package: "
                                      "pip install quart-authtuna[redis]"])
        if settings.redis_url is None:
            raise ConfigurationError(["AUTHTUNA_REVOCATION_BROADCASTER=redis needs "
                                      "AUTHTUNA_REDIS_URL"])
        super().__init__(channel_for(settings))
        self.errors = (OSError, RedisError)
        self._url = settings.redis_url.reveal()
        self._listener: Any = None
        self._pubsub: Any = None
        self._sender: Any = None

    @property
    def client_name(self) -> str:
        """The name the listening connection gives itself (``CLIENT KILL`` finds it)."""
        return f"authtuna-listen-{self.origin}"

    async def _open(self) -> None:
        self._listener = Redis.from_url(
            self._url, retry=Retry(NoBackoff(), 0), socket_connect_timeout=SOCKET_TIMEOUT,
            client_name=self.client_name)
        self._pubsub = self._listener.pubsub(ignore_subscribe_messages=True)
        await self._pubsub.subscribe(self.channel)
        if self._sender is None:
            self._sender = Redis.from_url(self._url, socket_connect_timeout=SOCKET_TIMEOUT,
                                          socket_timeout=SOCKET_TIMEOUT)

    async def _watch(self) -> None:
        """Read messages until the connection fails; ping it while idle."""
        idle = 0.0
        while not self._lost.is_set():
            message = await self._pubsub.get_message(timeout=0.5)
            if message is not None and message.get("type") == "message":
                self._receive(message["data"])
                idle = 0.0
                continue
            idle += 0.5
            if idle >= 5.0:
                await self._pubsub.ping()
                idle = 0.0

    async def _send(self, message: str) -> None:
        await self._sender.publish(self.channel, message)

    async def _ping(self) -> None:  # the reading loop pings
        return None

    async def _shut(self) -> None:
        pubsub, listener = self._pubsub, self._listener
        self._pubsub = self._listener = None
        for closing in (pubsub, listener):
            if closing is not None:
                try:
                    await closing.aclose()
                except self.errors:
                    pass

    async def close(self) -> None:
        await super().close()
        sender, self._sender = self._sender, None
        if sender is not None:
            await sender.aclose()

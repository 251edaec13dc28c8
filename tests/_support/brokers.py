"""Real brokers for the revocation tests: the Redis server, and a TCP proxy that can be cut.

Redis comes from ``AUTHTUNA_TEST_REDIS_URL`` (default ``redis://127.0.0.1:6379/15``); when it
does not answer, its tests skip on a laptop and fail in CI, as the PostgreSQL leg does.
"""

from __future__ import annotations

import asyncio
import contextlib
import os

import pytest

from tests._support.databases import in_ci

REDIS_URL_ENV = "AUTHTUNA_TEST_REDIS_URL"
HOST = "127.0.0.1"


async def redis_url_or_skip() -> str:
    """The test Redis URL, after checking that it answers."""
    from redis.asyncio import Redis

    url = os.environ.get(REDIS_URL_ENV) or "redis://127.0.0.1:6379/15"
    client = Redis.from_url(url, socket_connect_timeout=1)
    try:
        await client.ping()
    except (OSError, Exception) as exc:  # noqa: BLE001 - any failure means "no Redis here"
        message = f"Redis leg skipped: {url} does not answer ({type(exc).__name__})"
        if in_ci():
            pytest.fail(f"CI must run the Redis leg: {message}")
        pytest.skip(message)
    finally:
        await client.aclose()
    return url


class TcpProxy:
    """Forwards 127.0.0.1:<port> to ``target``; :meth:`cut` drops every connection and
    refuses new ones until :meth:`restore` (a broker outage, seen from one client)."""

    def __init__(self, target_host: str, target_port: int) -> None:
        self.target = (target_host, target_port)
        self.port = 0
        self._server: asyncio.Server | None = None
        self._writers: set[asyncio.StreamWriter] = set()
        self._tasks: set[asyncio.Task[None]] = set()

    async def start(self) -> None:
        self._server = await asyncio.start_server(self._accept, HOST, self.port)
        self.port = int(self._server.sockets[0].getsockname()[1])

    async def cut(self) -> None:
        """Close the listening socket and every open connection."""
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()
            self._server = None
        for writer in list(self._writers):
            writer.close()
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        self._writers.clear()

    async def restore(self) -> None:
        await self.start()

    async def close(self) -> None:
        await self.cut()

    async def _accept(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            up_reader, up_writer = await asyncio.open_connection(*self.target)
        except OSError:
            writer.close()
            return
        self._writers.update((writer, up_writer))
        pumps = [asyncio.ensure_future(self._pump(reader, up_writer)),
                 asyncio.ensure_future(self._pump(up_reader, writer))]
        self._tasks.update(pumps)
        await asyncio.wait(pumps, return_when=asyncio.FIRST_COMPLETED)
        for pump in pumps:
            pump.cancel()
        for w in (writer, up_writer):
            w.close()
            self._writers.discard(w)
        self._tasks.difference_update(pumps)

    @staticmethod
    async def _pump(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        with contextlib.suppress(OSError, asyncio.IncompleteReadError):
            while data := await reader.read(65536):
                writer.write(data)
                await writer.drain()

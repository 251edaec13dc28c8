"""A TCP proxy on 127.0.0.1 in front of a real server, that a test can cut and restore.

``cut("refuse")`` drops every open connection and stops listening (connections are refused,
as when the database is stopped); ``cut("blackhole")`` drops them and accepts new ones that
never answer (a pulled cable). ``restore()`` listens and forwards again, on the same port.
"""

from __future__ import annotations

import asyncio
import contextlib
import socket
from typing import Literal

HOST = "127.0.0.1"


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((HOST, 0))
        return int(sock.getsockname()[1])


class TcpProxy:
    """Forwards ``HOST:port`` to ``target_host:target_port``."""

    def __init__(self, target_host: str, target_port: int) -> None:
        self.target = (target_host, target_port)
        self.port = _free_port()
        self.mode: Literal["up", "refuse", "blackhole"] = "up"
        self._server: asyncio.Server | None = None
        self._writers: set[asyncio.StreamWriter] = set()
        self._tasks: set[asyncio.Task[None]] = set()

    async def start(self) -> TcpProxy:
        self._server = await asyncio.start_server(self._accept, HOST, self.port,
                                                  reuse_address=True)
        return self

    async def _accept(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self._writers.add(writer)
        if self.mode != "up":  # blackhole: hold the connection, answer nothing
            return
        try:
            up_reader, up_writer = await asyncio.open_connection(*self.target)
        except OSError:
            writer.close()
            return
        self._writers.add(up_writer)
        for source, sink in ((reader, up_writer), (up_reader, writer)):
            task = asyncio.create_task(self._pipe(source, sink))
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)

    async def _pipe(self, source: asyncio.StreamReader, sink: asyncio.StreamWriter) -> None:
        with contextlib.suppress(OSError, asyncio.IncompleteReadError):
            while data := await source.read(65536):
                sink.write(data)
                await sink.drain()
        with contextlib.suppress(OSError):
            sink.close()

    def _drop_all(self) -> None:
        for writer in list(self._writers):
            transport = writer.transport
            transport.abort()
        self._writers.clear()

    async def cut(self, mode: Literal["refuse", "blackhole"] = "refuse") -> None:
        """The database disappears: open connections die; new ones are refused or hang."""
        self.mode = mode
        self._drop_all()
        if mode == "refuse" and self._server is not None:
            self._server.close()
            await self._server.wait_closed()
            self._server = None

    async def restore(self) -> None:
        """The database is back."""
        self._drop_all()  # blackholed connections end too
        self.mode = "up"
        if self._server is None:
            await self.start()

    async def close(self) -> None:
        self._drop_all()
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()
            self._server = None
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)

"""A Quart app served by a real Hypercorn on a free loopback port, inside the test's loop, and
a raw HTTP/1.1 client that reads exactly what the server wrote."""

from __future__ import annotations

import asyncio
import socket
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass

from hypercorn.asyncio import serve
from hypercorn.config import Config
from quart import Quart

HOST = "127.0.0.1"


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((HOST, 0))
        return int(sock.getsockname()[1])


@asynccontextmanager
async def serving(app: Quart) -> AsyncIterator[int]:
    """Serve ``app`` (startup and shutdown included) until the block ends; yields the port."""
    port, stop = free_port(), asyncio.Event()
    config = Config()
    config.bind = [f"{HOST}:{port}"]
    config.accesslog = config.errorlog = None
    task = asyncio.create_task(serve(app, config, shutdown_trigger=stop.wait))
    for _ in range(300):
        try:
            _, writer = await asyncio.open_connection(HOST, port)
        except OSError:
            if task.done():
                task.result()
            await asyncio.sleep(0.02)
            continue
        writer.close()
        break
    try:
        yield port
    finally:
        stop.set()
        await asyncio.wait_for(task, 15)


@dataclass
class RawResponse:
    status: int
    headers: dict[str, str]
    body: bytes


async def read_response(reader: asyncio.StreamReader, timeout: float = 15) -> RawResponse:
    """One HTTP/1.1 response with a Content-Length (what Hypercorn sends for small bodies)."""
    head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), timeout)
    status_line, *lines = head.decode("latin-1").split("\r\n")
    headers = {k.strip().lower(): v.strip() for k, _, v in
               (line.partition(":") for line in lines if line)}
    body = await asyncio.wait_for(reader.readexactly(int(headers.get("content-length", 0))),
                                  timeout)
    return RawResponse(int(status_line.split()[1]), headers, body)

"""Issue 8.19: a guard that refuses a body before reading it must not reset the connection.

Through a real Hypercorn on 127.0.0.1, a raw client uploads a body far larger than the socket
buffers (8 MiB; before the fix every upload ended in a broken pipe) and then reads the 413.
The refused body is drained, so the same connection serves the next request.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from tests._support.clock import FakeClock
from tests._support.databases import database_overrides
from tests._support.live_server import HOST, RawResponse, read_response, serving
from tests.integration.conftest import build_app

BODY = 8 * 1024 * 1024
CHUNK = 256 * 1024
ROUTES = ["/auth/login", "/mfa/recovery-codes", "/mfa/validate-login", "/passkeys/login"]


@pytest.fixture(name="port")
async def _port(backend: str, tmp_path: Path, clock: FakeClock,
                app_settings: dict[str, Any]) -> AsyncIterator[int]:
    async with database_overrides(backend, tmp_path) as db:
        app = build_app({**app_settings, **db})
        app.extensions["authtuna"].service.clock = clock
        async with serving(app) as port:
            yield port


def head(path: str, content_type: str, length: int | None) -> bytes:
    framing = f"Content-Length: {length}" if length is not None else \
        "Transfer-Encoding: chunked"
    return (f"POST {path} HTTP/1.1\r\nHost: localhost\r\nAccept: application/json\r\n"
            f"Content-Type: {content_type}\r\n{framing}\r\n\r\n").encode()


async def upload(writer: asyncio.StreamWriter, path: str, chunked: bool) -> None:
    """Write the whole request as a client does: headers, then the body, without waiting."""
    writer.write(head(path, "application/json", None if chunked else BODY))
    sent = 0
    while sent < BODY:
        piece = b"x" * min(CHUNK, BODY - sent)
        writer.write(b"%x\r\n%s\r\n" % (len(piece), piece) if chunked else piece)
        await writer.drain()  # raises (broken pipe, reset) if the server hung up mid-upload
        sent += len(piece)
    if chunked:
        writer.write(b"0\r\n\r\n")
        await writer.drain()


async def next_request_on(reader: asyncio.StreamReader, writer: asyncio.StreamWriter
                          ) -> RawResponse:
    writer.write(b"GET /auth/login HTTP/1.1\r\nHost: localhost\r\n\r\n")
    await writer.drain()
    return await read_response(reader)


@pytest.mark.parametrize("chunked", [False, True], ids=["content-length", "chunked"])
@pytest.mark.parametrize("path", ROUTES)
async def test_an_oversized_upload_is_read_to_the_end_and_answered_413(
        port: int, path: str, chunked: bool) -> None:
    reader, writer = await asyncio.open_connection(HOST, port)
    try:
        await upload(writer, path, chunked)
        refused = await read_response(reader)
        assert refused.status == 413
        assert b"too_large" in refused.body
        assert refused.headers.get("connection") != "close"
        served = await next_request_on(reader, writer)
        assert served.status == 200, "the connection survives the refused upload"
    finally:
        writer.close()


async def test_a_body_over_the_apps_own_limit_is_answered_and_the_connection_closed(
        port: int) -> None:
    """Past MAX_CONTENT_LENGTH (16 MiB) nothing is drained: the answer says it will close."""
    reader, writer = await asyncio.open_connection(HOST, port)
    try:
        writer.write(head("/auth/login", "application/json", 64 * 1024 * 1024))
        writer.write(b"x" * CHUNK)
        await writer.drain()
        refused = await read_response(reader)
        assert refused.status == 413
        assert refused.headers["connection"] == "close"
    finally:
        writer.close()

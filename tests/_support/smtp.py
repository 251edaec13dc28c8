"""A real SMTP server on 127.0.0.1 (aiosmtpd) that keeps every message it receives.

Use the ``smtp_server`` fixture (import it into the test module)::

    from tests._support.smtp import smtp_server  # noqa: F401

    async def test_x(smtp_server):
        ...  # configure SMTP_HOST=127.0.0.1, SMTP_PORT=smtp_server.port
        [message] = await smtp_server.wait_for(1)
"""

from __future__ import annotations

import asyncio
import socket
import threading
import time
from collections.abc import AsyncIterator
from email.message import EmailMessage
from email.parser import BytesParser
from email.policy import default
from typing import Any

import pytest_asyncio
from aiosmtpd.controller import Controller


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class RecordingHandler:
    """aiosmtpd handler: stores each message's raw bytes, optionally after a delay."""

    def __init__(self) -> None:
        self.raw: list[bytes] = []
        self.envelopes: list[tuple[str, list[str]]] = []
        self.data_delay = 0.0
        self.released = threading.Event()
        self._lock = threading.Lock()

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # noqa: N802
        # The server's own loop, in its own thread: sleeping here stalls only the SMTP client.
        deadline = time.monotonic() + self.data_delay
        while time.monotonic() < deadline and not self.released.is_set():
            await asyncio.sleep(0.01)
        content = envelope.content
        with self._lock:
            self.raw.append(content if isinstance(content, bytes) else content.encode())
            self.envelopes.append((envelope.mail_from, list(envelope.rcpt_tos)))
        return "250 Message accepted for delivery"


class SmtpServer:
    """The running server: ``port``, parsed ``messages`` and ``wait_for``."""

    def __init__(self, handler: RecordingHandler, port: int) -> None:
        self.handler = handler
        self.port = port
        self.host = "127.0.0.1"

    @property
    def messages(self) -> list[EmailMessage]:
        parser = BytesParser(policy=default)
        return [parser.parsebytes(raw) for raw in list(self.handler.raw)]  # type: ignore[misc]

    @property
    def envelopes(self) -> list[tuple[str, list[str]]]:
        return list(self.handler.envelopes)

    def delay_data(self, seconds: float) -> None:
        """Answer each DATA command only after ``seconds`` (a slow mail server)."""
        self.handler.released.clear()
        self.handler.data_delay = seconds

    def release(self) -> None:
        """Stop delaying: answer held and future DATA commands at once."""
        self.handler.released.set()

    def to(self, address: str) -> list[EmailMessage]:
        return [m for m in self.messages if m["To"] == address]

    async def wait_for(self, count: int, timeout: float = 5.0) -> list[EmailMessage]:
        """Wait until at least ``count`` messages arrived; all messages so far."""
        deadline = time.monotonic() + timeout
        while len(self.handler.raw) < count:
            if time.monotonic() > deadline:
                raise AssertionError(f"expected {count} message(s) within {timeout}s, "
                                     f"got {len(self.handler.raw)}")
            await asyncio.sleep(0.01)
        return self.messages


@pytest_asyncio.fixture
async def smtp_server() -> AsyncIterator[SmtpServer]:
    handler = RecordingHandler()
    port = free_port()
    controller = Controller(handler, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield SmtpServer(handler, port)
    finally:
        handler.released.set()
        controller.stop()


def text_and_html(message: EmailMessage) -> tuple[str, str]:
    """The text/plain and text/html bodies of a multipart/alternative message."""
    text_part = message.get_body(preferencelist=("plain",))
    html_part = message.get_body(preferencelist=("html",))
    assert text_part is not None, "no text/plain part"
    assert html_part is not None, "no text/html part"
    return str(text_part.get_content()), str(html_part.get_content())

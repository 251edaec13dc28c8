"""Serve an app factory under Hypercorn in a subprocess on a free 127.0.0.1 port, then stop it.

Used by the benchmarks::

    with serve("benchmarks.bench_rps:create_app", {"db": "/tmp/x.db"}) as server:
        ...  # server.port, server.base_url

The child process runs ``python benchmarks/_server.py MODULE:FACTORY PORT`` with the factory's
config (JSON) in ``BENCH_APP_CONFIG``. It calls ``FACTORY(config)`` to build the app and serves it
with one Hypercorn worker (``hypercorn.asyncio.serve``, no reloader, no access log). With
``gc_freeze=True`` the child calls ``gc.freeze()`` once the app has started (after every
``before_serving`` hook), as a production server may, so full collections skip the startup heap.
SIGTERM shuts it down gracefully, so ``after_serving`` hooks run. The parent waits until a GET of
``ready_path`` answers, and kills the child if it does not stop within a few seconds.
"""

from __future__ import annotations

import asyncio
import gc
import importlib
import json
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
HOST = "127.0.0.1"
CONFIG_ENV = "BENCH_APP_CONFIG"
FREEZE_ENV = "BENCH_GC_FREEZE"


def free_port() -> int:
    """A TCP port nobody listens on right now (on 127.0.0.1)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((HOST, 0))
        return int(sock.getsockname()[1])


@dataclass
class Server:
    """A running app: where it listens and its process."""

    port: int
    process: subprocess.Popen[bytes]

    @property
    def base_url(self) -> str:
        return f"http://{HOST}:{self.port}"

    def stop(self, timeout: float = 10.0) -> None:
        """SIGTERM (graceful: after_serving runs), then SIGKILL if it lingers."""
        if self.process.poll() is not None:
            return
        self.process.send_signal(signal.SIGTERM)
        try:
            self.process.wait(timeout)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()


def _get_status(port: int, path: str, timeout: float = 1.0) -> int | None:
    """The status of one plain HTTP/1.1 GET, or None if nothing answers yet."""
    try:
        with socket.create_connection((HOST, port), timeout=timeout) as sock:
            sock.sendall(f"GET {path} HTTP/1.1\r\nHost: {HOST}:{port}\r\n"
                         "Connection: close\r\n\r\n".encode())
            head = sock.recv(64)
    except OSError:
        return None
    parts = head.split(b" ", 2)
    return int(parts[1]) if len(parts) > 1 and parts[1].isdigit() else None


@contextmanager
def serve(factory: str, config: dict[str, Any] | None = None, *, ready_path: str = "/bare",
          startup_timeout: float = 60.0, quiet: bool = True, gc_freeze: bool = False
          ) -> Iterator[Server]:
    """Run ``factory`` ("module:function", importable from the repository root) in a child.

    ``ready_path`` must answer (any status below 500) once the app is ready.
    """
    port = free_port()
    env = {**os.environ, CONFIG_ENV: json.dumps(config or {}), FREEZE_ENV: "1" if gc_freeze else "",
           "PYTHONPATH": os.pathsep.join(filter(None, [str(ROOT),
                                                       os.environ.get("PYTHONPATH")]))}
    process = subprocess.Popen(
        [sys.executable, str(Path(__file__).resolve()), factory, str(port)], cwd=ROOT, env=env,
        stdout=subprocess.DEVNULL if quiet else None, stderr=None)
    server = Server(port, process)
    try:
        deadline = time.monotonic() + startup_timeout
        while True:
            if process.poll() is not None:
                raise RuntimeError(f"server {factory} exited with code {process.returncode}")
            status = _get_status(port, ready_path)
            if status is not None and status < 500:
                break
            if time.monotonic() > deadline:
                raise RuntimeError(f"server {factory} did not become ready on port {port}")
            time.sleep(0.05)
        yield server
    finally:
        server.stop()


class HttpClient:
    """A minimal HTTP/1.1 keep-alive client on one connection (no dependency beyond asyncio).

    Enough for the benchmarks: Content-Length or chunked bodies, repeated headers kept.
    """

    def __init__(self, port: int, host: str = HOST) -> None:
        self.port, self.host = port, host
        self._reader: asyncio.StreamReader | None = None
        self._writer: asyncio.StreamWriter | None = None

    async def request(self, method: str, path: str, headers: dict[str, str] | None = None,
                      body: bytes = b"") -> tuple[int, list[tuple[str, str]], bytes]:
        """Send one request; returns (status, [(lower-case name, value)], body)."""
        if self._writer is None or self._writer.is_closing():
            self._reader, self._writer = await asyncio.open_connection(self.host, self.port)
        assert self._reader is not None and self._writer is not None
        head = {"Host": f"{self.host}:{self.port}", **(headers or {})}
        if body or method not in ("GET", "HEAD"):
            head["Content-Length"] = str(len(body))
        lines = [f"{method} {path} HTTP/1.1"] + [f"{k}: {v}" for k, v in head.items()]
        self._writer.write(("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + body)
        await self._writer.drain()
        raw = await self._reader.readuntil(b"\r\n\r\n")
        status_line, *header_lines = raw.decode("latin-1").split("\r\n")
        status = int(status_line.split(" ", 2)[1])
        pairs = [(n.strip().lower(), v.strip()) for n, _, v in
                 (h.partition(":") for h in header_lines if h)]
        found = dict(pairs)
        if found.get("transfer-encoding", "").lower() == "chunked":
            data = b""
            while True:
                size = int((await self._reader.readuntil(b"\r\n")).split(b";")[0], 16)
                data += await self._reader.readexactly(size + 2)
                if size == 0:
                    break
            data = data[:-2]
        else:
            data = await self._reader.readexactly(int(found.get("content-length", "0")))
        if found.get("connection", "").lower() == "close":
            await self.close()
        return status, pairs, data

    async def close(self) -> None:
        if self._writer is not None:
            self._writer.close()
            try:
                await self._writer.wait_closed()
            except OSError:
                pass
        self._reader = self._writer = None


def cookie_from(headers: list[tuple[str, str]], name: str) -> str | None:
    """The value a response sets for cookie ``name`` ("" when it deletes it), or None."""
    for header, value in headers:
        if header == "set-cookie" and value.startswith(name + "="):
            return value.split(";", 1)[0][len(name) + 1:].strip('"')
    return None


async def login(port: int, username: str, password: str,
                headers: dict[str, str] | None = None) -> tuple[int, str | None]:
    """POST /auth/login as JSON from this origin; (status, session cookie or None)."""
    client = HttpClient(port)
    body = json.dumps({"username_or_email": username, "password": password}).encode()
    try:
        status, got, _ = await client.request("POST", "/auth/login", {
            "Content-Type": "application/json", "Accept": "application/json",
            "Origin": f"http://{HOST}:{port}", **(headers or {})}, body)
    finally:
        await client.close()
    return status, cookie_from(got, "session_token")


def _load(factory: str) -> Any:
    module_name, _, func = factory.partition(":")
    return getattr(importlib.import_module(module_name), func or "create_app")


async def _run(app: Any, port: int) -> None:
    from hypercorn.asyncio import serve as hypercorn_serve
    from hypercorn.config import Config

    config = Config()
    config.bind = [f"{HOST}:{port}"]
    config.accesslog = None
    config.errorlog = "-"
    config.loglevel = "WARNING"
    config.backlog = 1024
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    await hypercorn_serve(app, config, shutdown_trigger=stop.wait)


def main() -> None:
    """Child entry point: ``_server.py MODULE:FACTORY PORT``."""
    factory, port = sys.argv[1], int(sys.argv[2])
    if str(ROOT) not in sys.path:
        sys.path.insert(0, str(ROOT))
    app = _load(factory)(json.loads(os.environ.get(CONFIG_ENV) or "{}"))
    if os.environ.get(FREEZE_ENV):
        @app.before_serving
        async def freeze() -> None:  # registered last: runs after the app's own start-up
            gc.collect()
            gc.freeze()
    asyncio.run(_run(app, port))


if __name__ == "__main__":
    main()

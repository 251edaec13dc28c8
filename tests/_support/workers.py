"""Real worker processes: the test app under the ``hypercorn`` command, and a raw client.

``serving_processes(config, workers=2)`` runs ``hypercorn -w 2`` (one port, the kernel picks
the worker of each connection); ``servers=2`` runs two one-worker servers on two ports (so a
test can choose the process). Each answer names its process in ``X-Worker``. The database must
already hold the tables (``prepared_database``): workers starting together would race to
create them.
"""

from __future__ import annotations

import asyncio
import json
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
CONFIG_ENV = "AUTHTUNA_TEST_APP"
HOST = "127.0.0.1"
#: A browser's headers: the session fingerprint binds User-Agent and Accept-Language.
BROWSER = {"User-Agent": "Mozilla/5.0 (X11; Linux x86_64) test", "Accept-Language": "en"}


def create_app() -> Any:
    """The factory each worker calls: tests.integration's app, settings from the env."""
    from tests.integration.conftest import build_app

    app = build_app(json.loads(os.environ[CONFIG_ENV]))

    @app.after_request
    async def name_the_worker(response: Any) -> Any:
        response.headers["X-Worker"] = str(os.getpid())
        return response

    return app


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((HOST, 0))
        return int(sock.getsockname()[1])


@dataclass
class Processes:
    ports: list[int]
    popens: list[subprocess.Popen[bytes]] = field(default_factory=list)


def _ready(port: int) -> bool:
    try:
        with socket.create_connection((HOST, port), timeout=0.5) as sock:
            sock.sendall(f"GET /bare HTTP/1.1\r\nHost: {HOST}\r\nConnection: close\r\n\r\n"
                         .encode())
            return sock.recv(16).startswith(b"HTTP/1.1 200")
    except OSError:
        return False


@contextmanager
def serving_processes(config: dict[str, Any], *, workers: int = 1, servers: int = 1,
                      ports: list[int] | None = None, startup_timeout: float = 90
                      ) -> Iterator[Processes]:
    """Start ``servers`` hypercorn commands (on ``ports``, or free ones) of ``workers``
    workers each; stop them after."""
    env = {**os.environ, CONFIG_ENV: json.dumps(config), "PYTHONPATH": str(ROOT)}
    found = Processes(ports or [free_port() for _ in range(servers)])
    try:
        for port in found.ports:
            found.popens.append(subprocess.Popen(
                [sys.executable, "-m", "hypercorn", "-w", str(workers), "--bind",
                 f"{HOST}:{port}", "--graceful-timeout", "2", "--log-level", "warning",
                 "tests._support.workers:create_app()"],
                cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=None))
        deadline = time.monotonic() + startup_timeout
        for port, popen in zip(found.ports, found.popens, strict=True):
            while not _ready(port):
                assert popen.poll() is None, f"hypercorn exited with {popen.returncode}"
                assert time.monotonic() < deadline, "hypercorn did not start"
                time.sleep(0.1)
        yield found
    finally:
        for popen in found.popens:
            if popen.poll() is None:
                popen.send_signal(signal.SIGTERM)
        for popen in found.popens:
            try:
                popen.wait(15)
            except subprocess.TimeoutExpired:
                popen.kill()
                popen.wait()


@dataclass
class Answer:
    status: int
    headers: dict[str, str]
    cookies: dict[str, str]
    body: bytes

    @property
    def worker(self) -> str:
        return self.headers.get("x-worker", "")

    def json(self) -> Any:
        return json.loads(self.body)


async def request(port: int, method: str, path: str, *, cookie: str | None = None,
                  json_body: Any = None, headers: dict[str, str] | None = None) -> Answer:
    """One request on a new connection (so ``-w 2`` may hand it to either worker)."""
    body = b"" if json_body is None else json.dumps(json_body).encode()
    head = {"Host": f"{HOST}:{port}", "Connection": "close", "Accept": "application/json",
            **BROWSER, **(headers or {})}
    if cookie:
        head["Cookie"] = f"session_token={cookie}"
    if json_body is not None:
        head.update({"Content-Type": "application/json", "Origin": f"http://{HOST}:{port}"})
    if body or method != "GET":
        head["Content-Length"] = str(len(body))
    reader, writer = await asyncio.open_connection(HOST, port)
    try:
        lines = [f"{method} {path} HTTP/1.1", *(f"{k}: {v}" for k, v in head.items())]
        writer.write(("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + body)
        await writer.drain()
        raw = await asyncio.wait_for(reader.read(), 15)
    finally:
        writer.close()
    head_raw, _, rest = raw.partition(b"\r\n\r\n")
    status_line, *header_lines = head_raw.decode("latin-1").split("\r\n")
    headers_found: dict[str, str] = {}
    cookies: dict[str, str] = {}
    for line in header_lines:
        name, _, value = line.partition(":")
        headers_found[name.strip().lower()] = value.strip()
        if name.strip().lower() == "set-cookie":
            key, _, val = value.strip().split(";", 1)[0].partition("=")
            cookies[key] = val.strip('"')
    return Answer(int(status_line.split()[1]), headers_found, cookies, rest)

"""A real Hypercorn process serving AuthTuna, for the crash test to SIGKILL and restart.

``python -m tests._support.crash_server PORT`` reads its settings (JSON) from the
``CRASH_SETTINGS`` environment variable; :class:`CrashServer` starts, kills and restarts it.
"""

from __future__ import annotations

import asyncio
import json
import os
import signal
import subprocess
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]


def create_app() -> Any:
    from quart import Quart

    from quart_authtuna import AuthTuna

    app = Quart(__name__)
    settings = json.loads(os.environ["CRASH_SETTINGS"])
    app.config.update({f"AUTHTUNA_{k}": v for k, v in settings.items()})
    AuthTuna(app)
    queue = app.extensions["authtuna"].service.mail.queue
    # A row a killed process had claimed is retried after this lease (60 s by default).
    queue.lease_seconds = float(os.environ.get("CRASH_MAIL_LEASE", "60"))
    if os.environ.get("CRASH_IN_MEMORY_MAIL") == "1":  # the control run: mail as before
        app.extensions["authtuna"].service.mail.queue = None
    return app


def main() -> None:
    from hypercorn.asyncio import serve
    from hypercorn.config import Config

    config = Config()
    config.bind = [f"127.0.0.1:{int(sys.argv[1])}"]
    config.accesslog = None
    config.keep_alive_timeout = 30
    asyncio.run(serve(create_app(), config))  # type: ignore[arg-type]


class CrashServer:
    """One server process at a time on ``port``; :meth:`kill` is SIGKILL, nothing graceful."""

    def __init__(self, port: int, settings: dict[str, Any], lease: float, log: Path) -> None:
        self.port = port
        self.env = {**os.environ, "CRASH_SETTINGS": json.dumps(settings),
                    "CRASH_MAIL_LEASE": str(lease), "PYTHONPATH": str(ROOT)}
        self.log = log
        self.process: subprocess.Popen[bytes] | None = None
        self.starts = 0

    async def start(self, timeout: float = 60) -> None:
        with self.log.open("ab") as out:
            self.process = subprocess.Popen(  # noqa: S603 - our own interpreter and module
                [sys.executable, "-m", "tests._support.crash_server", str(self.port)],
                cwd=ROOT, env=self.env, stdout=out, stderr=subprocess.STDOUT)
        self.starts += 1
        deadline = asyncio.get_running_loop().time() + timeout
        while True:
            if self.process.poll() is not None:
                raise RuntimeError(f"server exited with {self.process.returncode}: "
                                   f"see {self.log}")
            try:
                _, writer = await asyncio.open_connection("127.0.0.1", self.port)
            except OSError:
                if asyncio.get_running_loop().time() > deadline:
                    raise TimeoutError("server did not start") from None
                await asyncio.sleep(0.05)
                continue
            writer.close()
            return

    async def kill(self) -> None:
        if self.process is not None and self.process.poll() is None:
            os.kill(self.process.pid, signal.SIGKILL)
            while self.process.poll() is None:
                await asyncio.sleep(0.01)
        self.process = None


if __name__ == "__main__":
    main()

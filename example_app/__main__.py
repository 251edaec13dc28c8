"""Serve the example app with Hypercorn on 127.0.0.1:$PORT (default 5000)."""

from __future__ import annotations

import asyncio

from hypercorn.asyncio import serve
from hypercorn.config import Config

from example_app.app import create_app, demo_port


def main() -> None:
    port = demo_port()
    config = Config()
    config.bind = [f"127.0.0.1:{port}"]
    print(f"quart-authtuna demo: http://localhost:{port}/  (Ctrl+C to stop)", flush=True)
    try:
        asyncio.run(serve(create_app(), config))
    except KeyboardInterrupt:
        pass


if __name__ == "__main__":
    main()

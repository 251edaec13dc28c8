"""Serve the example app with Hypercorn on 127.0.0.1:$PORT (default 5000), with the dev
OpenID provider beside it (``Sign in with Dev SSO`` works offline; DEV_SSO=0 turns it off,
DEV_SSO_PORT picks its port, default a free one)."""

from __future__ import annotations

import asyncio
import os
from contextlib import ExitStack
from typing import Any

from hypercorn.asyncio import serve
from hypercorn.config import Config

from example_app.app import create_app, demo_port
from quart_authtuna.testing.dev_oidc import DevProvider


def main() -> None:
    port = demo_port()
    config = Config()
    config.bind = [f"127.0.0.1:{port}"]
    with ExitStack() as stack:
        extra: dict[str, Any] = {}
        if os.environ.get("DEV_SSO", "1") != "0":
            dev = stack.enter_context(
                DevProvider.running(port=int(os.environ.get("DEV_SSO_PORT", "0"))))
            extra["AUTHTUNA_OIDC_PROVIDERS"] = [dev.oidc_setting()]
            print(f"dev OpenID provider: {dev.issuer}/  (Sign in with Dev SSO)", flush=True)
        print(f"quart-authtuna demo: http://localhost:{port}/  (Ctrl+C to stop)", flush=True)
        try:
            asyncio.run(serve(create_app(extra), config))
        except KeyboardInterrupt:
            pass


if __name__ == "__main__":
    main()

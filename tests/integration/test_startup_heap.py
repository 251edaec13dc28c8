"""GC_FREEZE_AFTER_STARTUP: the first request freezes the start-up heap, once per process;
False leaves the collector alone. Each case runs in its own interpreter (freezing is global)."""

from __future__ import annotations

import subprocess
import sys
import textwrap

import pytest

SCRIPT = textwrap.dedent("""
    import asyncio, gc, sys
    calls = []
    freeze = gc.freeze
    gc.freeze = lambda: (calls.append(1), freeze())[1]
    from quart import Quart
    from quart_authtuna import AuthTuna

    app = Quart(__name__)
    app.config.update(AUTHTUNA_DEFAULT_DATABASE_URI="sqlite+aiosqlite:///:memory:",
                      AUTHTUNA_GC_FREEZE_AFTER_STARTUP=sys.argv[1] == "on")
    AuthTuna(app)

    @app.get("/")
    async def index() -> str:
        return "ok"

    async def main() -> None:
        async with app.test_app() as test_app:
            client = test_app.test_client()
            assert gc.get_freeze_count() == 0
            assert (await client.get("/")).status_code == 200
            first = gc.get_freeze_count()
            assert (await client.get("/")).status_code == 200
            print(first, len(calls))

    asyncio.run(main())
""")


@pytest.mark.parametrize(("setting", "frozen"), [("on", True), ("off", False)])
def test_first_request_freezes_the_startup_heap_once(setting: str, frozen: bool) -> None:
    done = subprocess.run([sys.executable, "-c", SCRIPT, setting], capture_output=True,
                          text=True, timeout=120, check=True)
    frozen_objects, calls = map(int, done.stdout.split())
    assert (frozen_objects > 10_000) is frozen  # SQLAlchemy's and AuthTuna's are ~100,000
    assert calls == int(frozen)  # the second request froze nothing more

"""Social sign-in in tests: the shipped dev OpenID provider over real HTTP, an app whose
Google, GitHub and ``dev`` providers all point at it, and the browser's round trip."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
from quart.typing import TestAppProtocol

from quart_authtuna.testing.dev_oidc import DevProvider, consent
from tests._support.clock import FakeClock
from tests._support.databases import database_overrides
from tests.integration.conftest import build_app

PROVIDERS = ("google", "github", "dev")


@pytest.fixture(name="dev_provider", scope="session")
def _dev_provider() -> Iterator[DevProvider]:
    with DevProvider.running(slow_seconds=2.0) as provider:
        yield provider


@pytest.fixture(name="sso_app")
async def _sso_app(backend: str, tmp_path: Path, clock: FakeClock, app_settings: dict[str, Any],
                   dev_provider: DevProvider) -> AsyncIterator[TestAppProtocol]:
    """The integration app with every provider at the dev provider; both share ``clock``."""
    dev_provider.clock = clock
    try:
        async with database_overrides(backend, tmp_path) as db:
            app = build_app({**app_settings, **dev_provider.app_settings(), **db})
            app.extensions["authtuna"].service.clock = clock
            async with app.test_app() as test_app:
                yield test_app
    finally:
        dev_provider.clock = time.time


def local(url: str) -> str:
    """The path and query of an absolute URL (the test client speaks paths)."""
    parts = urlsplit(url)
    return f"{parts.path}?{parts.query}" if parts.query else parts.path


async def start(client: Any, provider: str, next_path: str | None = None) -> str:
    """GET /auth/<provider>/login; the provider's authorize URL it redirects to."""
    query = f"?next={next_path}" if next_path else ""
    response = await client.get(f"/auth/{provider}/login{query}")
    assert response.status_code == 302, await response.get_data(as_text=True)
    return str(response.headers["Location"])


async def round_trip(client: Any, provider: str, *, next_path: str | None = None,
                     **identity: Any) -> Any:
    """Start, answer the provider's page as ``identity``, and follow the callback."""
    callback = await consent(await start(client, provider, next_path), **identity)
    return await client.get(local(callback))

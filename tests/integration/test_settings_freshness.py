"""REAUTHENTICATION_SECONDS is fresh_login_required's window; an explicit ``within`` wins."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from quart import Quart

from quart_authtuna import fresh_login_required
from quart_authtuna.core import AuthService
from tests._support.clock import FakeClock
from tests._support.web import submit
from tests.conftest import PASSWORD
from tests.integration.conftest import app_on_same_database

JSON = {"Accept": "application/json"}


def fresh_routes(app: Quart) -> None:
    """The decorator bare, called without arguments, and with a window longer than the
    setting (``/fresh`` in the test app has ``within=60``)."""

    @app.get("/fresh-bare")
    @fresh_login_required
    async def fresh_bare() -> str:
        return "fresh"

    @app.get("/fresh-called")
    @fresh_login_required()
    async def fresh_called() -> str:
        return "fresh"

    @app.get("/fresh-long")
    @fresh_login_required(within=timedelta(seconds=300))
    async def fresh_long() -> str:
        return "fresh"


async def statuses(client: Any) -> dict[str, int]:
    found = {}
    for path in ("/fresh", "/fresh-bare", "/fresh-called", "/fresh-long"):
        response = await client.get(path, headers=JSON)
        if response.status_code == 401:
            body = await response.get_json()
            assert body["errors"][0]["code"] == "reauthentication_required", path
        found[path] = response.status_code
    return found


async def signed_in(app: Any, username: str) -> Any:
    client = app.test_client()
    response = await submit(client, "/auth/login",
                            {"username_or_email": username, "password": PASSWORD}, face="json")
    assert response.status_code == 200, await response.get_data(as_text=True)
    return client


async def test_reauthentication_seconds_is_the_default_window(
        svc: AuthService, make_user: Any, clock: FakeClock, app_settings: dict[str, Any]
) -> None:
    await make_user("fresh")
    async with app_on_same_database(svc, app_settings, clock, {"REAUTHENTICATION_SECONDS": 120},
                                    fresh_routes) as app:
        client = await signed_in(app, "fresh")
        assert set((await statuses(client)).values()) == {200}
        clock.advance(90)
        assert await statuses(client) == {"/fresh": 401, "/fresh-bare": 200,
                                          "/fresh-called": 200, "/fresh-long": 200}
        clock.advance(31)  # 121 s: past the setting, inside the explicit 300 s
        assert await statuses(client) == {"/fresh": 401, "/fresh-bare": 401,
                                          "/fresh-called": 401, "/fresh-long": 200}
        clock.advance(180)
        assert (await statuses(client))["/fresh-long"] == 401
        assert (await client.get("/protected")).status_code == 200, "still signed in"


@pytest.mark.parametrize(("advance", "status"), [(899, 200), (901, 401)])
async def test_without_the_setting_the_window_is_upstreams_900_seconds(
        svc: AuthService, make_user: Any, clock: FakeClock, app_settings: dict[str, Any],
        advance: int, status: int) -> None:
    await make_user("patient")
    async with app_on_same_database(svc, app_settings, clock, routes=fresh_routes) as app:
        assert app.app.extensions["authtuna"].settings.reauthentication_seconds == 900
        client = await signed_in(app, "patient")
        clock.advance(advance)
        assert (await client.get("/fresh-bare", headers=JSON)).status_code == status
        assert (await client.get("/fresh-long", headers=JSON)).status_code == 401

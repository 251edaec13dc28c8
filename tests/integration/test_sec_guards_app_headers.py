"""Issue 8.13: with SECURE_APP_RESPONSES (on by default) the application's own signed-in
answers are not stored and its pages cannot be framed; logout clears the site's data."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from quart import Response
from quart.typing import TestAppProtocol as AppUnderTest

from quart_authtuna import login_required
from quart_authtuna.core import AuthService
from tests._support.clock import FakeClock
from tests._support.databases import database_overrides
from tests._support.headers import assert_security_headers, csp_directives
from tests._support.web import submit
from tests.integration.conftest import build_app

JSON = {"Accept": "application/json"}


@pytest.fixture(name="app")
async def _app(backend: str, tmp_path: Path, clock: FakeClock,
               app_settings: dict[str, Any]) -> AsyncIterator[AppUnderTest]:
    """The shared test app plus pages of the application's own."""
    async with database_overrides(backend, tmp_path) as db:
        app = build_app({**app_settings, **db})
        app.extensions["authtuna"].service.clock = clock

        @app.get("/dashboard")
        @login_required
        async def dashboard() -> str:
            return "<h1>Your projects</h1>"

        @app.get("/embeddable")
        async def embeddable() -> Response:
            return Response("<p>widget</p>", headers={"X-Frame-Options": "SAMEORIGIN"})

        @app.get("/own-policy")
        @login_required
        async def own_policy() -> Response:
            return Response("<p>mine</p>", headers={"Content-Security-Policy":
                                                    "default-src 'self';"})

        @app.get("/cached")
        @login_required
        async def cached() -> Response:
            return Response("<p>cached</p>", headers={"Cache-Control": "private, max-age=60"})

        async with app.test_app() as test_app:
            yield test_app


@pytest.fixture(name="member")
async def _member(make_user: Any, login: Any) -> None:
    await make_user("member")
    await login("member")


def assert_unframable(response: Any) -> None:
    assert response.headers["X-Frame-Options"] == "DENY"
    assert csp_directives(response)["frame-ancestors"] == "frame-ancestors 'none'"


@pytest.mark.usefixtures("member")
async def test_a_signed_in_app_page_is_not_stored_and_not_framable(client: Any) -> None:
    response = await client.get("/dashboard")
    assert response.status_code == 200
    assert response.headers["Cache-Control"] == "no-store"
    assert_unframable(response)


@pytest.mark.usefixtures("member")
async def test_a_signed_in_403_page_is_not_stored_and_not_framable(client: Any) -> None:
    response = await client.get("/projects/apollo")
    assert response.status_code == 403 and response.mimetype == "text/html"
    assert response.headers["Cache-Control"] == "no-store"
    assert_unframable(response)


@pytest.mark.usefixtures("member")
async def test_signed_in_json_is_not_stored(client: Any) -> None:
    response = await client.get("/protected", headers=JSON)
    assert response.status_code == 200
    assert response.headers["Cache-Control"] == "no-store"
    assert "X-Frame-Options" not in response.headers  # framing only matters for pages


async def test_an_api_key_answer_is_not_stored(client: Any, svc: AuthService,
                                               make_user: Any) -> None:
    user = await make_user("keyed")
    key = (await svc.api_keys.create_key(user.id, "k")).plaintext
    response = await client.get("/protected", headers={"Authorization": f"Bearer {key}"})
    assert response.status_code == 200
    assert response.headers["Cache-Control"] == "no-store"


async def test_anonymous_pages_are_unframable_but_cacheable(client: Any) -> None:
    response = await client.get("/bare")
    assert response.status_code == 200 and response.mimetype == "text/html"
    assert "Cache-Control" not in response.headers
    assert_unframable(response)


@pytest.mark.usefixtures("member")
async def test_the_apps_own_choices_win(client: Any) -> None:
    embeddable = await client.get("/embeddable")
    assert embeddable.headers["X-Frame-Options"] == "SAMEORIGIN"
    assert "Content-Security-Policy" not in embeddable.headers
    own = await client.get("/own-policy")
    assert own.headers["Content-Security-Policy"] == (
        "default-src 'self'; frame-ancestors 'none'")
    assert (await client.get("/cached")).headers["Cache-Control"] == "private, max-age=60"


@pytest.mark.usefixtures("member")
async def test_static_files_stay_cacheable_for_signed_in_users(client: Any) -> None:
    response = await client.get("/_authtuna/static/authtuna/css/authtuna.css")
    assert response.status_code == 200
    assert "no-store" not in response.headers.get("Cache-Control", "")


@pytest.mark.settings(SECURE_APP_RESPONSES=False)
@pytest.mark.usefixtures("member")
async def test_the_setting_turns_the_app_headers_off_but_not_authtunas(client: Any) -> None:
    response = await client.get("/dashboard")
    assert response.status_code == 200
    assert "Cache-Control" not in response.headers
    assert "X-Frame-Options" not in response.headers
    assert_security_headers(await client.get("/auth/change-password"))


@pytest.mark.usefixtures("member")
async def test_logout_clears_site_data_and_its_redirect_still_lands(client: Any,
                                                                   face: str) -> None:
    response = await submit(client, "/auth/logout", {}, page="/auth/change-password",
                            face=face)
    # "cache" only: "cookies" would also drop the trusted-device cookie (the lockout
    # exemption) and the host application's cookies; authtuna deletes its own by name.
    assert response.headers["Clear-Site-Data"] == '"cache"'
    deleted = [c for c in response.headers.getlist("Set-Cookie")
               if c.startswith("session_token=") and "Max-Age=0" in c]
    assert deleted, response.headers.getlist("Set-Cookie")
    if face == "html":
        assert response.status_code == 302
        landed = await client.get(response.headers["Location"])
        assert landed.status_code == 200 and 'name="csrf_token"' in await landed.get_data(
            as_text=True)
    else:
        assert response.status_code == 200
    assert (await client.get("/protected", headers=JSON)).status_code == 401


@pytest.mark.settings(LOGOUT_CLEAR_SITE_DATA=["cache", "cookies"])
@pytest.mark.usefixtures("member")
async def test_an_application_may_ask_logout_to_clear_cookies_too(client: Any) -> None:
    response = await submit(client, "/auth/logout", {}, page="/auth/change-password",
                            face="json")
    assert response.headers["Clear-Site-Data"] == '"cache", "cookies"'


async def test_other_answers_do_not_clear_site_data(client: Any, member: None) -> None:
    assert "Clear-Site-Data" not in (await client.get("/dashboard")).headers
    assert "Clear-Site-Data" not in (await client.get("/auth/login")).headers

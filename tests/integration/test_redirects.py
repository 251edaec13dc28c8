"""``next`` after sign-in stays on this site (checklist H1), via form field and query string."""

from __future__ import annotations

import html as htmllib
import re
from collections.abc import AsyncIterator
from typing import Any

import pytest
import pytest_asyncio

from quart_authtuna.web.redirects import safe_next
from tests._support.databases import BACKENDS, PG_URL_ENV, database_overrides, in_ci, postgres_url
from tests._support.web import CSRF_RE, submit
from tests.conftest import PASSWORD, TEST_SETTINGS
from tests.integration.conftest import build_app

#: Open-redirect and header-splitting attempts from the security checklist (H1, 2.3 item 12).
HOSTILE = [
    "//evil.example",
    "/\\evil.example",
    "\\/evil.example",
    "\\\\\\evil.example",
    " /evil",
    "\t/evil",
    "http:///evil.example",
    "https://evil.example",
    "javascript:alert(1)",
    "data:text/html,x",
    "https://app@evil.example",
    "/ok\r\nSet-Cookie: x=y",
    "/%0d%0aSet-Cookie:x",
    # further spellings from checklist 2.3 item 12
    "///evil.example",
    "\t//evil.example",
    "https:evil.example",
    "/%2F%2Fevil.example",
    "/%5Cevil.example",
    "/%09/evil.example",
    "JaVaScRiPt:alert(1)",
    "http://evil%23@localhost",
    "\x00/evil",
    "/ok\x7f",
]
KEPT = ["/projects/p1?tab=a", "/", "/bare", "/projects/p1#section", "/search?q=a%20b&page=2"]


def hostile_id(value: str) -> str:
    return repr(value)[1:-1]


# --- the function itself ---------------------------------------------------------------------

@pytest.mark.parametrize("value", HOSTILE, ids=hostile_id)
def test_safe_next_refuses_off_site_and_malformed_targets(value: str) -> None:
    assert safe_next(value) == "/"
    assert safe_next(value, default="/home") == "/home"


@pytest.mark.parametrize("value", KEPT)
def test_safe_next_keeps_same_site_paths(value: str) -> None:
    assert safe_next(value) == value


@pytest.mark.parametrize("value", [None, "", "projects/p1", "/" + "a" * 3000])
def test_safe_next_falls_back_on_missing_relative_or_huge_values(value: str | None) -> None:
    assert safe_next(value) == "/"


# --- through the login endpoint --------------------------------------------------------------

async def login_with_next_field(client: Any, face: str, target: str) -> str:
    """Sign in with ``next`` posted in the form (or JSON body); the target it answered."""
    response = await submit(client, "/auth/login", {"username_or_email": "walker",
                                                    "password": PASSWORD, "next": target},
                            face=face)
    assert response.status_code in (200, 302), await response.get_data(as_text=True)
    if face == "json":
        return str((await response.get_json())["data"]["next"])
    return str(response.headers["Location"])


async def login_with_next_in_query(client: Any, target: str) -> str:
    """As a browser: open /auth/login?next=..., submit the form it shows to the same URL."""
    page = await client.get("/auth/login", query_string={"next": target})
    assert page.status_code == 200
    html = await page.get_data(as_text=True)
    hidden = re.search(r'<input[^>]*name="next"[^>]*>', html)
    assert hidden, "the login page carries next as a hidden field"
    value = re.search(r'value="([^"]*)"', hidden.group(0))
    csrf = CSRF_RE.search(html)
    assert csrf
    form = {"username_or_email": "walker", "password": PASSWORD,
            "next": htmllib.unescape(value.group(1)) if value else "",
            "csrf_token": csrf.group(1) or csrf.group(2)}
    response = await client.post("/auth/login", query_string={"next": target}, form=form)
    assert response.status_code == 302, await response.get_data(as_text=True)
    return str(response.headers["Location"])


@pytest.fixture
async def walker(make_user: Any) -> Any:
    return await make_user("walker")


@pytest_asyncio.fixture(scope="module", loop_scope="module", params=BACKENDS)
async def shared_app(request: pytest.FixtureRequest,
                     tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[Any]:
    """One app and database for the many hostile-``next`` cases (each uses a new client)."""
    if request.param == "postgresql" and postgres_url() is None:
        if in_ci():
            pytest.fail(f"CI must run the PostgreSQL leg: {PG_URL_ENV} is not set")
        pytest.skip(f"PostgreSQL leg skipped: {PG_URL_ENV} is not set")
    async with database_overrides(request.param, tmp_path_factory.mktemp("redirects")) as db:
        app = build_app({**TEST_SETTINGS, "SESSION_SECURE": False,
                         "API_BASE_URL": "http://testserver.local", **db})
        async with app.test_app() as test_app:
            await app.extensions["authtuna"].service.users.create(
                "walker@example.com", "walker", PASSWORD, email_verified=True)
            yield test_app


@pytest.mark.asyncio(loop_scope="module")
@pytest.mark.parametrize("target", HOSTILE, ids=hostile_id)
async def test_hostile_next_in_the_form_lands_on_the_home_page(
        shared_app: Any, face: str, target: str) -> None:
    client = shared_app.test_client()
    assert await login_with_next_field(client, face, target) == "/"
    assert (await client.get("/protected")).status_code == 200


@pytest.mark.asyncio(loop_scope="module")
@pytest.mark.parametrize("target", HOSTILE, ids=hostile_id)
async def test_hostile_next_in_the_query_string_lands_on_the_home_page(
        shared_app: Any, target: str) -> None:
    assert await login_with_next_in_query(shared_app.test_client(), target) == "/"


@pytest.mark.parametrize("target", ["/projects/p1?tab=a", "/bare"])
async def test_same_site_next_is_kept_both_ways(client: Any, walker: Any, face: str,
                                                target: str) -> None:
    assert await login_with_next_field(client, face, target) == target
    if face == "html":
        await submit(client, "/auth/logout", {}, page="/auth/change-password")
        assert await login_with_next_in_query(client, target) == target


async def test_next_is_escaped_in_the_login_page(client: Any) -> None:
    page = await client.get("/auth/login", query_string={"next": '/x"><script>alert(1)</script>'})
    html = await page.get_data(as_text=True)
    assert "<script>alert(1)" not in html
    assert "&lt;script&gt;" in html or "&#34;&gt;" in html or "&quot;&gt;" in html


async def test_no_response_header_is_injected_by_next(client: Any, walker: Any,
                                                      face: str) -> None:
    response = await submit(client, "/auth/login", {"username_or_email": "walker",
                                                    "password": PASSWORD,
                                                    "next": "/ok\r\nSet-Cookie: x=y"}, face=face)
    cookies = response.headers.getlist("Set-Cookie")
    assert not any(c.startswith("x=") for c in cookies)
    assert all("\r" not in v and "\n" not in v for _, v in response.headers.items())


@pytest.mark.parametrize("target", ["//evil.example", "https://evil.example", "/\\evil.example"])
async def test_reauthenticate_next_stays_on_site(client: Any, walker: Any, face: str,
                                                 target: str) -> None:
    await login_with_next_field(client, face, "/")
    response = await submit(client, "/auth/reauthenticate", {"password": PASSWORD,
                                                             "next": target}, face=face)
    if face == "json":
        assert (await response.get_json())["data"]["next"] == "/"
    else:
        assert response.headers["Location"] == "/"


async def test_anonymous_redirect_to_login_only_carries_a_safe_next(client: Any) -> None:
    response = await client.get("/protected", headers={"Accept": "text/html"})
    assert response.status_code == 302
    assert response.headers["Location"] in ("/auth/login?next=/protected",
                                            "/auth/login?next=%2Fprotected")

"""Cookie names and lifetimes: ``__Host-`` names when Secure without Domain (issue 8.15), and
a session cookie that lives exactly as long as its session (issue 8.16)."""

from __future__ import annotations

from typing import Any

import pyotp
import pytest
from sqlalchemy import select

from quart_authtuna.core import AuthService
from quart_authtuna.core.db.models import UserSession
from tests._support.clock import FakeClock
from tests._support.web import csrf_token
from tests.conftest import PASSWORD

HTTPS = {"scheme": "https"}
JSON = {"Accept": "application/json", "Origin": "https://localhost"}
INTERVAL = 10.0


def set_cookies(response: Any) -> dict[str, dict[str, str]]:
    """``{name: {"": value, "max-age": "3600", "secure": "", ...}}`` of the Set-Cookie headers."""
    found: dict[str, dict[str, str]] = {}
    for header in response.headers.getlist("Set-Cookie"):
        first, *rest = header.split(";")
        name, _, value = first.partition("=")
        attrs = {"": value}
        for part in rest:
            key, _, val = part.strip().partition("=")
            attrs[key.lower()] = val
        found[name] = attrs
    return found


async def password_sign_in(client: Any, username: str, scheme: str = "https") -> Any:
    """The real login form over ``scheme``, with the CSRF token from the page."""
    token = await csrf_token_over(client, "/auth/login", scheme)
    return await client.post("/auth/login", scheme=scheme, form={
        "username_or_email": username, "password": PASSWORD, "csrf_token": token})


async def csrf_token_over(client: Any, page: str, scheme: str) -> str:
    if scheme == "http":
        return await csrf_token(client, page)
    html = await (await client.get(page, scheme=scheme)).get_data(as_text=True)
    return html.split('name="csrf_token" type="hidden" value="', 1)[1].split('"', 1)[0]


async def enable_totp(svc: AuthService, user: Any, clock: FakeClock) -> str:
    setup = await svc.mfa.setup_totp(user.id)
    await svc.mfa.verify_and_enable_totp(user.id, pyotp.TOTP(setup.secret).at(clock.now))
    clock.advance(30)
    return setup.secret


def assert_host_only_secure(attrs: dict[str, str]) -> None:
    """What browsers require of a ``__Host-`` cookie, on setting and on deleting it."""
    assert "secure" in attrs and attrs["path"] == "/" and "domain" not in attrs


# ---- 8.15 __Host- names ---------------------------------------------------------------------

@pytest.mark.settings(SESSION_SECURE=True)
async def test_secure_cookies_get_host_prefixed_names_and_round_trip(
        client: Any, svc: AuthService, make_user: Any, clock: FakeClock) -> None:
    user = await make_user("hana")
    page = await client.get("/auth/login", **HTTPS)
    seed = set_cookies(page)
    assert set(seed) == {"__Host-authtuna_csrf"}
    assert_host_only_secure(seed["__Host-authtuna_csrf"])

    secret = await enable_totp(svc, user, clock)
    first = await password_sign_in(client, "hana")
    assert first.status_code == 302, "the CSRF seed was read back under its __Host- name"
    pending = set_cookies(first)
    assert set(pending) == {"__Host-authtuna_mfa"}
    assert_host_only_secure(pending["__Host-authtuna_mfa"])

    token = await csrf_token_over(client, "/mfa/challenge", "https")
    done = await client.post("/mfa/challenge", form={"code": pyotp.TOTP(secret).at(clock.now),
                                                     "csrf_token": token}, **HTTPS)
    assert done.status_code == 302, "the pending cookie was read back under its __Host- name"
    cookies = set_cookies(done)
    assert set(cookies) == {"__Host-session_token", "__Host-authtuna_mfa",
                            "__Host-authtuna_device"}
    assert cookies["__Host-authtuna_mfa"][""] == "" and cookies["__Host-authtuna_mfa"][
        "max-age"] == "0"
    for attrs in cookies.values():
        assert_host_only_secure(attrs)
    assert (await client.get("/protected", **HTTPS)).status_code == 200

    token = await csrf_token_over(client, "/auth/change-password", "https")
    out = await client.post("/auth/logout", form={"csrf_token": token}, **HTTPS)
    deleted = set_cookies(out)["__Host-session_token"]
    assert deleted[""] == "" and deleted["max-age"] == "0"
    assert_host_only_secure(deleted)
    assert (await client.get("/protected", **HTTPS)).status_code == 302


@pytest.mark.settings(SESSION_SECURE=True)
async def test_an_unprefixed_cookie_is_not_read_when_the_prefix_is_on(
        app: Any, client: Any, make_user: Any) -> None:
    """A cookie a subdomain or an http page could plant under the bare name counts for nothing."""
    await make_user("ivan")
    response = await password_sign_in(client, "ivan")
    value = set_cookies(response)["__Host-session_token"][""]
    raw = app.app.test_client(use_cookies=False)
    bare = await raw.get("/protected", headers={"Cookie": f"session_token={value}", **JSON},
                         **HTTPS)
    assert bare.status_code == 401
    prefixed = await raw.get("/protected",
                             headers={"Cookie": f"__Host-session_token={value}", **JSON}, **HTTPS)
    assert prefixed.status_code == 200


@pytest.mark.parametrize("why", [
    pytest.param("setting off", marks=pytest.mark.settings(SESSION_SECURE=True,
                                                           COOKIE_HOST_PREFIX=False)),
    pytest.param("not secure", marks=pytest.mark.settings(SESSION_SECURE=False)),
    pytest.param("domain", marks=pytest.mark.settings(SESSION_SECURE=True,
                                                      SESSION_COOKIE_DOMAIN="localhost")),
])
async def test_upstream_names_without_the_prefix(client: Any, make_user: Any, why: str) -> None:
    await make_user("jon")
    seed = set_cookies(await client.get("/auth/login", **HTTPS))
    assert set(seed) == {"authtuna_csrf"}
    response = await password_sign_in(client, "jon")
    assert response.status_code == 302
    assert set(set_cookies(response)) == {"session_token", "authtuna_device"}
    assert (await client.get("/protected", **HTTPS)).status_code == 200


# ---- 8.16 the session cookie lives as long as the session ------------------------------------

async def session_row(svc: AuthService) -> UserSession:
    async with svc.transaction() as tx:
        [row] = (await tx.scalars(select(UserSession))).all()
    return row


def max_age(response: Any) -> int:
    return int(set_cookies(response)["session_token"]["max-age"])


async def test_cookie_max_age_is_the_idle_lifetime_not_a_year(
        client: Any, svc: AuthService, make_user: Any, clock: FakeClock) -> None:
    await make_user("kim")
    response = await password_sign_in(client, "kim", scheme="http")
    row = await session_row(svc)
    assert max_age(response) == int(min(row.etime, row.e_abs_time) - clock()) == 604800


@pytest.mark.settings(SESSION_LIFETIME_SECONDS=3600, SESSION_ABSOLUTE_LIFETIME_SECONDS=5000)
async def test_cookie_max_age_renews_with_the_session_and_stops_at_the_absolute_end(
        client: Any, svc: AuthService, make_user: Any, clock: FakeClock) -> None:
    await make_user("lee")
    assert max_age(await password_sign_in(client, "lee", scheme="http")) == 3600
    clock.advance(2000)  # active again: the idle expiry moves, the cookie is re-issued
    renewed = await client.get("/protected")
    assert renewed.status_code == 200
    row = await session_row(svc)
    assert max_age(renewed) == int(min(row.etime, row.e_abs_time) - clock()) == 3000
    clock.advance(2990)  # 10 s before the absolute end
    last = await client.get("/protected")
    assert last.status_code == 200 and max_age(last) == 10


@pytest.mark.settings(SESSION_LIFETIME_SECONDS=3600, SESSION_LIFETIME_FROM="creation")
async def test_cookie_max_age_counts_down_when_the_lifetime_runs_from_creation(
        client: Any, make_user: Any, clock: FakeClock) -> None:
    await make_user("max")
    assert max_age(await password_sign_in(client, "max", scheme="http")) == 3600
    clock.advance(INTERVAL + 990)
    renewed = await client.get("/protected")
    assert renewed.status_code == 200 and max_age(renewed) == 2600

"""Cross-site request refusal, security headers and body-size limits on the /auth pages."""

from __future__ import annotations

import json
import time
from typing import Any
from urllib.parse import urlencode

import bcrypt
import pytest

from tests._support.headers import assert_security_headers
from tests._support.web import ORIGIN, csrf_token, submit
from tests.conftest import PASSWORD

JSON = {"Accept": "application/json"}
PAGES = ["/auth/login", "/auth/signup", "/auth/forgot-password", "/auth/reset-password?token=x",
         "/auth/verify?token=x", "/auth/verify/resend", "/auth/passwordless/request",
         "/auth/passwordless/login?token=x"]
WRITES = [("/auth/login", {"username_or_email": "csrfuser", "password": PASSWORD}),
          ("/auth/signup", {"username": "newcomer", "email": "newcomer@example.com",
                            "password": PASSWORD}),
          ("/auth/forgot-password", {"email": "csrfuser@example.com"}),
          ("/auth/passwordless/request", {"email": "csrfuser@example.com"}),
          ("/auth/logout", {})]


@pytest.fixture
async def member(make_user: Any) -> Any:
    return await make_user("csrfuser")


def session_cookies(response: Any) -> list[str]:
    return [h for h in response.headers.getlist("Set-Cookie") if h.startswith("session_token=")]


async def anonymous(client: Any) -> bool:
    return (await client.get("/protected", headers=JSON)).status_code == 401


# --- CSRF for browser forms ------------------------------------------------------------------

async def test_login_form_without_csrf_token_is_400_expired_and_opens_no_session(
        client: Any, member: Any) -> None:
    await client.get("/auth/login")
    response = await client.post("/auth/login", form={"username_or_email": "csrfuser",
                                                      "password": PASSWORD})
    assert response.status_code == 400
    html = await response.get_data(as_text=True)
    assert "expired" in html.lower()
    assert 'name="csrf_token"' in html, "the form comes back with a fresh token"
    assert session_cookies(response) == []
    assert await anonymous(client)


async def test_login_form_with_another_browsers_token_is_400(app: Any, client: Any,
                                                             member: Any) -> None:
    await client.get("/auth/login")
    foreign = await csrf_token(app.test_client(), "/auth/login")
    response = await client.post("/auth/login", form={"username_or_email": "csrfuser",
                                                      "password": PASSWORD,
                                                      "csrf_token": foreign})
    assert response.status_code == 400
    assert "expired" in (await response.get_data(as_text=True)).lower()
    assert await anonymous(client)


@pytest.mark.parametrize("token", ["", "garbage", "x" * 600])
async def test_login_form_with_a_forged_token_is_400(client: Any, member: Any,
                                                     token: str) -> None:
    await client.get("/auth/login")
    response = await client.post("/auth/login", form={"username_or_email": "csrfuser",
                                                      "password": PASSWORD,
                                                      "csrf_token": token})
    assert response.status_code == 400
    assert await anonymous(client)


async def test_a_token_from_before_login_does_not_work_for_the_signed_in_session(
        client: Any, member: Any) -> None:
    """Tokens are bound to the session: the pre-login one cannot sign the user out."""
    stale = await csrf_token(client, "/auth/login")
    await submit(client, "/auth/login", {"username_or_email": "csrfuser", "password": PASSWORD})
    response = await client.post("/auth/logout", form={"csrf_token": stale})
    assert response.status_code == 400
    assert not await anonymous(client)


async def test_csrf_cookie_is_httponly_and_lax(client: Any) -> None:
    response = await client.get("/auth/login")
    cookie = next(h for h in response.headers.getlist("Set-Cookie")
                  if h.startswith("authtuna_csrf="))
    attributes = {a.strip().lower() for a in cookie.split(";")[1:]}
    assert {"httponly", "samesite=lax", "path=/"} <= attributes


@pytest.mark.parametrize(("path", "data"), WRITES, ids=[p for p, _ in WRITES])
async def test_form_posts_without_a_token_change_nothing(client: Any, svc: Any, member: Any,
                                                         path: str, data: dict[str, Any]
                                                         ) -> None:
    response = await client.post(path, form=data)
    assert response.status_code == 400
    await svc.mail.drain()
    assert list(svc.mail.outbox.messages) == []
    assert await svc.users.get_by_username("newcomer") is None


# --- cross-site JSON -------------------------------------------------------------------------

@pytest.mark.parametrize(("path", "data"), WRITES, ids=[p for p, _ in WRITES])
async def test_json_from_another_origin_is_403_cross_origin(client: Any, svc: Any, member: Any,
                                                            path: str, data: dict[str, Any]
                                                            ) -> None:
    response = await client.post(path, json=data, headers={"Origin": "https://evil.example",
                                                           **JSON})
    assert response.status_code == 403
    body = await response.get_json()
    assert body["status"] == 403 and body["errors"][0]["code"] == "cross_origin"
    assert session_cookies(response) == []
    await svc.mail.drain()
    assert list(svc.mail.outbox.messages) == []


@pytest.mark.parametrize("origin", ["null", "http://localhost.evil.example",
                                    "https://localhost", "http://testserver.local.evil"])
async def test_json_from_look_alike_origins_is_403(client: Any, member: Any,
                                                   origin: str) -> None:
    response = await client.post("/auth/login", headers={"Origin": origin, **JSON},
                                 json={"username_or_email": "csrfuser", "password": PASSWORD})
    assert response.status_code == 403
    assert await anonymous(client)


@pytest.mark.parametrize("site", ["cross-site", "same-site"])
async def test_json_without_origin_but_cross_site_fetch_metadata_is_403(
        client: Any, member: Any, site: str) -> None:
    response = await client.post("/auth/login", headers={"Sec-Fetch-Site": site, **JSON},
                                 json={"username_or_email": "csrfuser", "password": PASSWORD})
    assert response.status_code == 403
    assert (await response.get_json())["errors"][0]["code"] == "cross_origin"
    assert await anonymous(client)


@pytest.mark.parametrize("headers", [{"Origin": ORIGIN},
                                     {"Origin": "http://testserver.local"},
                                     {"Sec-Fetch-Site": "same-origin"},
                                     {}],
                         ids=["own-origin", "api-base-url", "same-origin-fetch", "no-browser"])
async def test_json_from_this_site_or_a_non_browser_client_is_accepted(
        client: Any, member: Any, headers: dict[str, str]) -> None:
    response = await client.post("/auth/login", headers={**headers, **JSON},
                                 json={"username_or_email": "csrfuser", "password": PASSWORD})
    assert response.status_code == 200
    assert not await anonymous(client)


# --- headers ---------------------------------------------------------------------------------

@pytest.mark.parametrize("page", PAGES)
async def test_auth_pages_carry_strict_security_headers(client: Any, page: str) -> None:
    response = await client.get(page)
    assert response.status_code == 200
    assert_security_headers(response)
    html = await response.get_data(as_text=True)
    assert "<script>" not in html and " onclick=" not in html, "no inline script to allow"


async def test_json_answers_and_failures_carry_the_headers_too(client: Any, face: str) -> None:
    response = await submit(client, "/auth/login", {"username_or_email": "ghost",
                                                    "password": "wrong password 1"}, face=face)
    assert response.status_code == 401
    assert_security_headers(response)


async def test_signed_in_pages_carry_the_headers(client: Any, member: Any) -> None:
    await submit(client, "/auth/login", {"username_or_email": "csrfuser", "password": PASSWORD})
    assert_security_headers(await client.get("/auth/change-password"))
    assert_security_headers(await client.get("/auth/user-info", headers=JSON))


async def test_no_hsts_on_plain_http_base_url(client: Any) -> None:
    assert "Strict-Transport-Security" not in (await client.get("/auth/login")).headers


@pytest.mark.settings(API_BASE_URL="https://app.example")
async def test_hsts_for_an_https_base_url(client: Any) -> None:
    hsts = (await client.get("/auth/login")).headers["Strict-Transport-Security"]
    assert "max-age=31536000" in hsts and "includeSubDomains" in hsts


# --- body size -------------------------------------------------------------------------------

def one_bcrypt_cost_12() -> float:
    started = time.perf_counter()
    bcrypt.hashpw(b"measure one hash", bcrypt.gensalt(rounds=12))
    return time.perf_counter() - started


@pytest.mark.parametrize("announced", [True, False], ids=["content-length", "chunked"])
async def test_a_one_megabyte_password_is_413_in_a_fraction_of_a_hash(
        client: Any, member: Any, face: str, announced: bool) -> None:
    huge = "p" * (1024 * 1024)
    token = await csrf_token(client, "/auth/login")
    data = {"username_or_email": "csrfuser", "password": huge}
    if face == "json":
        kwargs: dict[str, Any] = {"data": json.dumps(data),
                                  "headers": {"Origin": ORIGIN, **JSON,
                                              "Content-Type": "application/json"}}
    else:
        kwargs = {"data": urlencode({**data, "csrf_token": token}),
                  "headers": {"Content-Type": "application/x-www-form-urlencoded"}}
    if announced:
        kwargs["headers"]["Content-Length"] = str(len(kwargs["data"]))
    started = time.perf_counter()
    response = await client.post("/auth/login", **kwargs)
    elapsed = time.perf_counter() - started
    hash_time = one_bcrypt_cost_12()
    assert response.status_code == 413
    if face == "json":
        error = (await response.get_json())["errors"][0]
        assert error["code"] == "too_large" and "too large" in error["message"]
    else:
        assert "too large" in (await response.get_data(as_text=True)).lower()
    assert elapsed / hash_time < 0.25, f"413 took {elapsed:.3f}s, one cost-12 hash {hash_time:.3f}s"
    assert session_cookies(response) == []
    assert_security_headers(response)


async def test_an_over_long_password_within_the_body_limit_is_refused_cheaply(
        client: Any, svc: Any, member: Any, face: str) -> None:
    response = await submit(client, "/auth/login", {"username_or_email": "csrfuser",
                                                    "password": "p" * 5000}, face=face)
    assert response.status_code == 400
    if face == "json":
        assert {e["param"] for e in (await response.get_json())["errors"]} == {"password"}
    assert await anonymous(client)

"""MFA over HTTP: setup with inline QR, the login challenge on both faces, recovery codes."""

from __future__ import annotations

import re
from typing import Any

import pyotp
import pytest

from quart_authtuna.core import AuthService
from tests._support.clock import FakeClock
from tests._support.web import ORIGIN, csrf_token, submit
from tests.conftest import PASSWORD


async def enrol_over_http(client: Any, clock: FakeClock) -> tuple[str, list[str]]:
    page = await (await client.get("/mfa/setup")).get_data(as_text=True)
    assert 'src="data:image/svg+xml' in page
    secret = re.search(r'class="at-secret">([A-Z2-7]+)<', page).group(1)
    token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page).group(1)
    response = await client.post("/mfa/setup", form={"code": pyotp.TOTP(secret).at(clock.now),
                                                     "csrf_token": token})
    html = await response.get_data(as_text=True)
    assert response.status_code == 200, html
    codes = re.findall(r"<li><code>([A-Z0-9-]+)</code></li>", html)
    assert len(codes) == 10
    clock.advance(30)
    return secret, codes


async def test_setup_page_never_puts_the_secret_in_a_url(
    client: Any, make_user: Any, login: Any
) -> None:
    await make_user("alice")
    await login("alice")
    page = await (await client.get("/mfa/setup")).get_data(as_text=True)
    secret = re.search(r'class="at-secret">([A-Z2-7]+)<', page).group(1)
    assert f"secret={secret}" not in page  # only inside the inline image's encoded data
    assert "/mfa/qr-code" not in page


async def test_totp_login_journey_html(client: Any, app: Any, make_user: Any, login: Any,
                                       clock: FakeClock, svc: AuthService) -> None:
    await make_user("bob")
    await login("bob")
    secret, codes = await enrol_over_http(client, clock)
    await submit(client, "/auth/logout", {}, page="/auth/change-password")
    response = await submit(client, "/auth/login",
                            {"username_or_email": "bob", "password": PASSWORD})
    assert response.status_code == 302 and "/mfa/challenge" in response.headers["Location"]
    assert (await client.get("/protected")).status_code == 302  # no session yet
    token = await csrf_token(client, "/mfa/challenge")
    bad = await client.post("/mfa/challenge", form={"code": "000000", "csrf_token": token})
    assert bad.status_code == 401
    token = await csrf_token(client, "/mfa/challenge")
    ok = await client.post("/mfa/challenge", form={"code": pyotp.TOTP(secret).at(clock.now),
                                                   "csrf_token": token})
    assert ok.status_code == 302
    assert (await client.get("/protected")).status_code == 200
    # a new browser finishes with a recovery code instead
    other = app.test_client()
    await submit(other, "/auth/login", {"username_or_email": "bob", "password": PASSWORD})
    token = await csrf_token(other, "/mfa/challenge")
    done = await other.post("/mfa/challenge", form={"code": codes[0], "csrf_token": token})
    assert done.status_code == 302
    assert (await other.get("/protected")).status_code == 200


async def test_totp_login_journey_json(client: Any, app: Any, make_user: Any, login: Any,
                                       clock: FakeClock) -> None:
    await make_user("carol")
    await login("carol")
    secret, _ = await enrol_over_http(client, clock)
    api = app.test_client()
    first = await submit(api, "/auth/login", {"username_or_email": "carol",
                                              "password": PASSWORD}, face="json")
    body = await first.get_json()
    assert body["data"]["mfa_required"] is True and body["data"]["mfa_token"]
    assert (await api.get("/protected", headers={"Accept": "application/json"})).status_code == 401
    second = await api.post("/mfa/validate-login", json={
        "mfa_token": body["data"]["mfa_token"], "code": pyotp.TOTP(secret).at(clock.now)},
        headers={"Origin": ORIGIN})
    assert second.status_code == 200, await second.get_data(as_text=True)
    assert (await api.get("/protected")).status_code == 200
    replay = await app.test_client().post("/mfa/validate-login", json={
        "mfa_token": body["data"]["mfa_token"], "code": pyotp.TOTP(secret).at(clock.now)},
        headers={"Origin": ORIGIN})
    assert replay.status_code == 400


async def test_pending_login_allows_a_bounded_number_of_attempts(
    client: Any, app: Any, make_user: Any, login: Any, clock: FakeClock
) -> None:
    await make_user("dan")
    await login("dan")
    secret, _ = await enrol_over_http(client, clock)
    api = app.test_client()
    body = await (await submit(api, "/auth/login", {"username_or_email": "dan",
                                                    "password": PASSWORD}, face="json")).get_json()
    for _ in range(5):
        wrong = await api.post("/mfa/validate-login", json={"mfa_token": body["data"]["mfa_token"],
                                                            "code": "000000"},
                               headers={"Origin": ORIGIN})
        assert wrong.status_code in (401, 429)
    late = await api.post("/mfa/validate-login", json={
        "mfa_token": body["data"]["mfa_token"], "code": pyotp.TOTP(secret).at(clock.now)},
        headers={"Origin": ORIGIN})
    assert late.status_code in (400, 429)


@pytest.mark.settings(MFA_REQUIRED_ROLES=["Admin"])
async def test_required_roles_must_enrol_before_anything_else(
    client: Any, make_user: Any, login: Any, clock: FakeClock
) -> None:
    await make_user("erin", roles=(("Admin", "global"),))
    await login("erin")
    response = await client.get("/protected")
    assert response.status_code == 302 and response.headers["Location"].endswith("/mfa/setup")
    await enrol_over_http(client, clock)
    assert (await client.get("/protected")).status_code == 200

"""The blueprint factory: every authtuna area refuses cross-site JSON writes, answers 413 before
parsing, carries the security headers (error pages included) and sends one Retry-After."""

from __future__ import annotations

import json
from typing import Any

import pyotp
import pytest
from quart import Quart
from werkzeug.routing import Rule

from quart_authtuna.core import AuthService
from quart_authtuna.core.errors import RateLimited
from quart_authtuna.web.errors import headers_for
from tests._support.clock import FakeClock
from tests._support.headers import assert_security_headers, csp_directives
from tests._support.web import ORIGIN, csrf_token, submit

JSON = {"Accept": "application/json"}
EVIL = {"Origin": "https://evil.example", **JSON}
AREAS = ("authtuna_auth", "authtuna_mfa", "authtuna_passkeys", "authtuna_ui")
TWO_MIB = 2 * 1024 * 1024


def area_rules(app: Quart, method: str) -> list[Rule]:
    rules = [r for r in app.url_map.iter_rules()
             if r.endpoint.split(".")[0] in AREAS and method in (r.methods or ())]
    assert {r.endpoint.split(".")[0] for r in rules} >= (
        set(AREAS) - {"authtuna_ui"} if method == "POST" else set(AREAS))
    return rules


def path_of(rule: Rule) -> str:
    return rule.rule.replace("<credential_id>", "AAAA")


async def enrolled(client: Any, svc: AuthService, make_user: Any, login: Any,
                   clock: FakeClock) -> Any:
    """A signed-in user who turned TOTP on from this session (recovery codes issued)."""
    user = await make_user("guarded")
    await login("guarded")
    secret = (await svc.mfa.setup_totp(user.id)).secret
    response = await submit(client, "/mfa/setup", {"code": pyotp.TOTP(secret).at(clock.now)},
                            face="json")
    assert response.status_code == 200, await response.get_data(as_text=True)
    await svc.mail.drain()
    svc.mail.outbox.messages.clear()
    return user


# --- same-origin JSON writes -------------------------------------------------------------------

async def test_cross_site_json_writes_are_refused_on_every_area_route(
        app: Any, client: Any, make_user: Any, login: Any) -> None:
    await make_user("crosser")
    await login("crosser")
    for rule in area_rules(app.app, "POST"):
        response = await client.post(path_of(rule), json={"code": "1"}, headers=EVIL)
        body = await response.get_json()
        assert response.status_code == 403, rule.rule
        assert body["errors"][0]["code"] == "cross_origin", rule.rule
        assert_security_headers(response)


async def test_cross_site_recovery_code_regeneration_issues_nothing(
        app: Any, client: Any, svc: AuthService, make_user: Any, login: Any,
        clock: FakeClock) -> None:
    """Issue 8.7: POST /mfa/recovery-codes from https://evil.example returned 200."""
    user = await enrolled(client, svc, make_user, login, clock)
    refused = await client.post("/mfa/recovery-codes", json={}, headers=EVIL)
    assert refused.status_code == 403
    await svc.mail.drain()
    assert list(svc.mail.outbox.messages) == []
    assert await svc.mfa.remaining_recovery_codes(user.id) == 10
    same_site = await client.post("/mfa/recovery-codes", json={},
                                  headers={"Origin": ORIGIN, **JSON})
    assert same_site.status_code == 200  # the same call from this site is served
    assert len((await same_site.get_json())["data"]["recovery_codes"]) == 10


async def test_passkey_form_posts_need_a_csrf_token(client: Any) -> None:
    refused = await client.post("/passkeys/login-options", form={"x": "1"})
    assert refused.status_code == 400
    assert (await refused.get_json())["errors"][0]["code"] == "csrf_failed"
    token = await csrf_token(client, "/auth/login")
    accepted = await client.post("/passkeys/login-options", form={"csrf_token": token})
    assert accepted.status_code == 200


# --- body limit --------------------------------------------------------------------------------

@pytest.mark.parametrize("announced", [True, False], ids=["content-length", "chunked"])
@pytest.mark.parametrize("kind", ["json", "form"])
async def test_every_area_write_answers_413_to_a_two_mebibyte_body(
        app: Any, client: Any, make_user: Any, login: Any, announced: bool,
        kind: str) -> None:
    await make_user("big")
    await login("big")
    if kind == "json":
        data, content_type = json.dumps({"code": "x" * TWO_MIB}), "application/json"
    else:
        data, content_type = "code=" + "x" * TWO_MIB, "application/x-www-form-urlencoded"
    headers = {"Origin": ORIGIN, "Content-Type": content_type, **JSON}
    if announced:
        headers["Content-Length"] = str(len(data))
    for rule in area_rules(app.app, "POST"):
        response = await client.post(path_of(rule), data=data, headers=headers)
        assert response.status_code == 413, rule.rule
        assert (await response.get_json())["errors"][0]["code"] == "too_large"
        assert_security_headers(response)


async def test_an_oversized_body_never_reaches_the_view(
        app: Any, client: Any, svc: AuthService, make_user: Any, login: Any,
        clock: FakeClock) -> None:
    """A valid same-site call padded past the limit: 413, and no new recovery codes."""
    user = await enrolled(client, svc, make_user, login, clock)
    response = await client.post("/mfa/recovery-codes", json={"pad": "x" * (70 * 1024)},
                                 headers={"Origin": ORIGIN, **JSON})
    assert response.status_code == 413
    await svc.mail.drain()
    assert list(svc.mail.outbox.messages) == []
    assert await svc.mfa.remaining_recovery_codes(user.id) == 10


async def test_a_body_within_the_limit_still_reaches_the_view(
        client: Any, make_user: Any) -> None:
    await make_user("small")
    response = await submit(client, "/auth/login", {"username_or_email": "small",
                                                    "password": "x" * 1000}, face="json")
    assert response.status_code == 401  # parsed and checked, just wrong


async def test_an_oversized_form_page_is_413_html(client: Any) -> None:
    response = await client.post("/mfa/challenge", form={"code": "x" * (70 * 1024)})
    assert response.status_code == 413
    assert "too large" in (await response.get_data(as_text=True)).lower()
    assert response.mimetype == "text/html"
    assert_security_headers(response)


# --- headers on every answer, error pages included ---------------------------------------------

async def test_every_area_page_and_api_answer_is_no_store_with_headers(
        app: Any, client: Any, make_user: Any, login: Any) -> None:
    await make_user("pages")
    await login("pages")
    for rule in area_rules(app.app, "GET"):
        response = await client.get(path_of(rule))
        assert response.status_code < 500, rule.rule
        assert_security_headers(response)


@pytest.mark.parametrize(("method", "path", "status"), [
    ("GET", "/auth/no-such-page", 404), ("GET", "/mfa/no-such-page", 404),
    ("GET", "/passkeys/AAAA/rename", 405), ("GET", "/ui/no-such-page", 404),
    ("GET", "/auth/logout", 405), ("DELETE", "/mfa/status", 405), ("PUT", "/auth/login", 405),
])
async def test_error_pages_of_authtuna_routes_carry_the_headers(
        client: Any, method: str, path: str, status: int) -> None:
    response = await client.open(path, method=method)
    assert response.status_code == status
    assert_security_headers(response)


async def test_an_unknown_app_path_gets_only_frame_protection(client: Any) -> None:
    """The strict authtuna policy stays on authtuna paths; the app's 404 is only unframable."""
    response = await client.get("/authentication/nothing-here")
    assert response.status_code == 404
    assert csp_directives(response) == {"frame-ancestors": "frame-ancestors 'none'"}
    assert "Referrer-Policy" not in response.headers


# --- one Retry-After rule ----------------------------------------------------------------------

@pytest.mark.parametrize(("wait", "header"), [(0.0, "1"), (0.2, "1"), (1.0, "1"), (1.01, "2"),
                                              (30.5, "31")])
def test_retry_after_is_whole_seconds_rounded_up_and_at_least_one(wait: float,
                                                                   header: str) -> None:
    assert headers_for(RateLimited(wait)) == {"Retry-After": header}


async def test_a_rate_limit_raised_by_an_app_route_uses_the_same_rule(
        app: Any, client: Any, face: str) -> None:
    @app.app.get("/busy")
    async def busy() -> str:
        raise RateLimited(0.4)

    response = await client.get("/busy", headers=JSON if face == "json" else {})
    assert response.status_code == 429
    assert response.headers["Retry-After"] == "1"  # was "0" on this path

"""The OpenAPI document: valid OpenAPI 3.1, every authtuna route and method in it with its
schemas, real answers matching them, and the app's own quart-schema left alone.

A route added without a schema fails ``test_every_authtuna_route_is_documented`` with the
list of what is missing; add an entry to the ``ROUTES`` of its area module in
``quart_authtuna/web/schemas/`` (the package docstring shows how).
"""

from __future__ import annotations

import re
from typing import Any

import pyotp
import pytest
from openapi_spec_validator import validate
from quart import Quart
from quart_schema import QuartSchema

from quart_authtuna import AuthTuna
from quart_authtuna.testing.webauthn import SoftAuthenticator
from quart_authtuna.web.schemas import ROUTES
from tests._support.clock import FakeClock
from tests._support.openapi import WRITES, AnswerChecker, gaps, operations, stale
from tests._support.web import ORIGIN
from tests.conftest import PASSWORD, TEST_SETTINGS

#: Every optional area on, so every authtuna route is in the document.
pytestmark = pytest.mark.settings(HEALTHZ_ENABLED=True)

JSON = {"Accept": "application/json", "Origin": ORIGIN}
DOC = "/auth/openapi.json"


async def _document(client: Any, path: str = DOC) -> dict[str, Any]:
    response = await client.get(path)
    assert response.status_code == 200, response.status_code
    assert response.content_type.startswith("application/json")
    document: dict[str, Any] = await response.get_json()
    return document


async def test_document_is_valid_openapi_31(client: Any) -> None:
    document = await _document(client)
    validate(document)  # the OpenAPI 3.1 meta-schema, plus unique operationIds and parameters
    assert document["openapi"].startswith("3.1")
    assert {"Failed", "ErrorItem", "Ok_SignIn"} <= set(document["components"]["schemas"])


async def test_every_authtuna_route_is_documented(
        app: Any, client: Any, record_testsuite_property: Any) -> None:
    document = await _document(client)
    ops = operations(app.app)
    missing = gaps(app.app, document)
    covered = len(ops) - len(missing)
    record_testsuite_property("openapi_operations_documented", f"{covered}/{len(ops)}")
    print(f"OpenAPI coverage: {covered}/{len(ops)} authtuna operations documented")
    assert not missing, (
        f"{len(missing)} authtuna route(s) lack OpenAPI schemas; add them to ROUTES in "
        "quart_authtuna/web/schemas/<area>.py:\n  " + "\n  ".join(missing))
    gone = stale(app.app, ROUTES)
    assert not gone, f"ROUTES entries without a route: {gone}"
    assert len(ops) >= 75


async def test_methods_are_described_one_by_one(client: Any) -> None:
    document = await _document(client)
    login = document["paths"]["/auth/login"]
    assert "requestBody" not in login["get"]
    assert set(login["get"]["responses"]["200"]["content"]) == {"text/html"}
    body = login["post"]["requestBody"]["content"]
    assert body["application/json"]["schema"] == {"$ref": "#/components/schemas/LoginIn"}
    assert "application/x-www-form-urlencoded" in body
    keys = document["paths"]["/ui/settings/api-keys"]
    assert set(keys["get"]["responses"]) == {"200", "default"}
    assert set(keys["post"]["responses"]) == {"201", "default"}
    search = document["paths"]["/admin/users/search"]["get"]
    assert {p["name"] for p in search["parameters"]} >= {"q", "role", "cursor", "limit"}
    for item in document["paths"].values():
        for method, operation in item.items():
            if method.upper() not in WRITES:
                assert "requestBody" not in operation
            assert "default" in operation["responses"]  # the error envelope


async def test_real_answers_match_their_schemas(client: Any, make_user: Any) -> None:
    call = AnswerChecker(client, await _document(client), JSON)
    await make_user("boss", roles=(("Admin", "global"),))
    refused = await call("POST", "/auth/login",
                         json={"username_or_email": "boss", "password": "wrong password"})
    assert refused["errors"]
    signed_in = await call("POST", "/auth/login",
                           json={"username_or_email": "boss", "password": PASSWORD})
    user_id = signed_in["data"]["user"]["id"]
    for url in ("/auth/user-info", "/mfa/status", "/ui/dashboard", "/ui/settings/sessions",
                "/ui/settings/available-scopes", "/ui/settings/activity", "/passkeys/",
                "/admin/users", "/admin/users/search"):
        await call("GET", url)
    for url in ("/admin/users/{user_id}", "/admin/users/{user_id}/details-data",
                "/admin/users/{user_id}/assignable-roles", "/admin/users/{user_id}/audit-log"):
        await call("GET", url.format(user_id=user_id), url)
    created = await call("POST", "/ui/settings/api-keys",
                         json={"name": "deploy", "valid_seconds": 3600})
    await call("GET", "/ui/settings/api-keys")
    key = "/ui/settings/api-keys/{key_id}"
    await call("DELETE", key.format(key_id=created["data"]["api_key"]["id"]), key, json={})
    await call("POST", "/auth/logout", json={})
    await call("GET", "/auth/user-info")  # 401: the error envelope
    assert len(call.checked) == 20


async def test_actions_answer_as_documented(client: Any, make_user: Any) -> None:
    call = AnswerChecker(client, await _document(client), JSON)
    await make_user("boss", roles=(("Admin", "global"),))
    target = await make_user("target", email_verified=False)
    await call("POST", "/auth/login", json={"username_or_email": "boss", "password": PASSWORD})
    user = "/admin/users/{user_id}"
    for action, body in (("/suspend", {"reason": "spam"}), ("/unsuspend", {}),
                         ("/sessions/end-all", {}), ("/verification/resend", {}),
                         ("/password-reset", {}), ("/mfa/reset", {})):
        await call("POST", f"/admin/users/{target.id}{action}", user + action, json=body)
    role = {"user_id": target.id, "role_name": "User", "scope": "project:apollo"}
    await call("POST", "/admin/users/roles/assign", json=role)
    await call("POST", "/admin/users/roles/revoke", json=role)
    await call("POST", "/admin/users/roles/assign", json={**role, "role_name": "Nope"})
    await call("PATCH", "/ui/profile", json={"username": "chief"})
    await call("POST", "/ui/profile/email", json={"email": "chief@example.com"})
    await call("POST", "/ui/settings/sessions/terminate-all", json={})
    for url in ("/passkeys/register-options", "/passkeys/login-options"):
        await call("POST", url, json={})
    await call("POST", "/mfa/validate-login", json={"mfa_token": "gone", "code": "123456"})
    await call("POST", "/auth/signup", json={"username": "newbie", "password": PASSWORD,
                                             "email": "newbie@example.com"})
    await call("POST", "/auth/forgot-password", json={"email": "target@example.com"})
    await call("POST", "/ui/settings/delete", json={"confirmation": "chief"})
    assert [int(line.rsplit(" ", 1)[1]) for line in call.checked] == [
        200, 200, 200, 200, 200, 200, 409, 200, 200, 404,  # MFA was off; no role "Nope"
        200, 202, 200, 200, 200, 400, 202, 202, 200], call.checked


async def test_the_mfa_journey_answers_as_documented(app: Any, client: Any, make_user: Any,
                                                     clock: FakeClock) -> None:
    call = AnswerChecker(client, await _document(client), JSON)
    await make_user("carol")
    credentials = {"username_or_email": "carol", "password": PASSWORD}
    await call("POST", "/auth/login", json=credentials)
    page = await (await client.get("/mfa/setup")).get_data(as_text=True)
    secret = re.search(r'class="at-secret">([A-Z2-7]+)<', page)
    assert secret, "no TOTP secret on the setup page"
    totp = pyotp.TOTP(secret.group(1))
    enabled = await call("POST", "/mfa/verify", json={"code": totp.at(clock.now)})
    assert len(enabled["data"]["recovery_codes"]) == 10
    await call("GET", "/mfa/status")
    await call("POST", "/mfa/recovery-codes", json={})
    api = AnswerChecker(app.test_client(), call.document, JSON)
    pending = await api("POST", "/auth/login", json=credentials)
    assert pending["data"]["mfa_required"] is True
    clock.advance(30)
    await api("POST", "/mfa/validate-login",
              json={"mfa_token": pending["data"]["mfa_token"], "code": totp.at(clock.now)})
    clock.advance(30)
    disabled = await api("POST", "/mfa/disable", json={"code": totp.at(clock.now)})
    assert disabled["data"] == {"mfa_enabled": False}
    assert [line.rsplit(" ", 1)[1] for line in call.checked + api.checked] == ["200"] * 7


async def test_the_passkey_journey_answers_as_documented(app: Any, client: Any,
                                                         make_user: Any, svc: Any) -> None:
    call = AnswerChecker(client, await _document(client), JSON)
    await make_user("pat")
    await call("POST", "/auth/login", json={"username_or_email": "pat", "password": PASSWORD})
    device = SoftAuthenticator(rp_id=svc.settings.webauthn_rp_id,
                               origin=svc.settings.webauthn_origin[0])
    options = await call("POST", "/passkeys/register-options", json={})
    added = await call("POST", "/passkeys/register",
                       json={"credential": device.create(options["data"]), "nickname": "key"})
    item = "/passkeys/{credential_id}"
    one = item.format(credential_id=added["data"]["passkey"]["id"])
    await call("POST", f"{one}/rename", f"{item}/rename", json={"nickname": "laptop"})
    await call("GET", "/passkeys/")
    await call("POST", "/auth/logout", json={})
    options = await call("POST", "/passkeys/login-options", json={})
    signed_in = await call("POST", "/passkeys/login", json={"credential": device.get(
        options["data"])})
    assert signed_in["data"]["user"]["username"] == "pat"
    await call("POST", f"{one}/delete", f"{item}/delete", json={})
    assert [line.rsplit(" ", 1)[1] for line in call.checked] == [
        "200", "200", "201", "200", "200", "200", "200", "200", "200"], call.checked


@pytest.mark.settings(OPENAPI_ENABLED=False)
async def test_the_document_can_be_switched_off(app: Any, client: Any) -> None:
    assert (await client.get(DOC)).status_code == 404
    assert "authtuna_openapi" not in app.app.extensions


@pytest.mark.settings(OPENAPI_PATH="/api/auth-openapi.json", AUTH_PREFIX="/account")
async def test_the_path_is_a_setting(client: Any) -> None:
    document = await _document(client, "/api/auth-openapi.json")
    assert "/account/login" in document["paths"]
    assert (await client.get("/account/openapi.json")).status_code == 404


async def test_no_documentation_pages_that_load_cdn_scripts(app: Any, client: Any) -> None:
    endpoints = {r.endpoint for r in app.app.url_map.iter_rules()}
    assert not endpoints & {"openapi", "swagger_ui", "redoc_ui", "scalar_ui"}
    assert "QUART_SCHEMA" not in app.app.extensions  # nothing installed on the app
    for path in ("/openapi.json", "/docs", "/redocs", "/scalar"):
        assert (await client.get(path)).status_code == 404


async def test_an_apps_own_quart_schema_is_kept(tmp_path: Any) -> None:
    app = Quart(__name__)
    theirs = QuartSchema(app)
    app.config.update({f"AUTHTUNA_{k}": v for k, v in TEST_SETTINGS.items()})
    app.config["AUTHTUNA_DEFAULT_DATABASE_URI"] = f"sqlite+aiosqlite:///{tmp_path}/db.sqlite"
    AuthTuna(app)

    @app.get("/hello")
    async def hello() -> dict[str, str]:
        """Say hello."""
        return {"hello": "world"}

    assert app.extensions["QUART_SCHEMA"] is theirs
    async with app.test_app() as test_app:
        client = test_app.test_client()
        their_document = await _document(client, "/openapi.json")
        assert "/hello" in their_document["paths"]
        ours = await _document(client)
        assert "/hello" not in ours["paths"] and "/auth/login" in ours["paths"]
        try:
            import pydantic  # noqa: F401
        except ImportError:  # their quart-schema cannot convert dataclasses: ours are hidden
            assert "/auth/login" not in their_document["paths"]
        else:
            assert "/auth/login" in their_document["paths"]


def test_a_path_without_a_leading_slash_is_refused() -> None:
    from quart_authtuna.core.settings import Settings

    settings = Settings.from_sources(overrides={**TEST_SETTINGS, "OPENAPI_PATH": "api.json"})
    assert "AUTHTUNA_OPENAPI_PATH must start with /" in settings.problems()

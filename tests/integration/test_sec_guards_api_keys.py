"""Issue 8.12: API keys cannot manage the account (password, re-authentication, MFA, passkeys,
the dashboard) unless the application opts in with API_KEYS_ACCOUNT_MANAGEMENT."""

from __future__ import annotations

from typing import Any

import pyotp
import pytest
from quart import Quart
from werkzeug.routing import Rule

from quart_authtuna.core import AuthService
from quart_authtuna.core.db.models import User
from tests._support.clock import FakeClock
from tests._support.web import ORIGIN
from tests.conftest import PASSWORD

NEW_PASSWORD = "an entirely new passphrase 42"
ACCOUNT_AREAS = ("authtuna_mfa", "authtuna_passkeys", "authtuna_ui")
ACCOUNT_AUTH = ("authtuna_auth.change_password", "authtuna_auth.reauthenticate")


def bearer(key: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {key}", "Accept": "application/json"}


async def project_viewer(svc: AuthService, make_user: Any, name: str = "viewer") -> User:
    """A user holding ProjectViewer (projects:read) at project:apollo only."""
    if await svc.roles.get_by_name("ProjectViewer") is None:
        await svc.roles.create("ProjectViewer", level=10)
        await svc.permissions.get_or_create("projects:read")
        await svc.roles.add_permission_to_role("ProjectViewer", "projects:read")
    return await make_user(name, roles=(("ProjectViewer", "project:apollo"),))


async def scoped_key(svc: AuthService, user: User) -> str:
    issued = await svc.api_keys.create_key(user.id, "apollo viewer",
                                           scopes=["ProjectViewer:project:apollo"])
    return issued.plaintext


def account_rules(app: Quart) -> list[Rule]:
    rules = [r for r in app.url_map.iter_rules()
             if r.endpoint.split(".")[0] in ACCOUNT_AREAS or r.endpoint in ACCOUNT_AUTH]
    assert {r.endpoint.split(".")[0] for r in rules} == {*ACCOUNT_AREAS, "authtuna_auth"}
    return rules


async def assert_refused(response: Any, status: int = 403, code: str = "api_key_refused"
                         ) -> None:
    body = await response.get_json()
    assert response.status_code == status, body
    assert body["status"] == status and body["errors"][0]["code"] == code


async def test_a_scoped_key_works_where_its_role_allows(client: Any, svc: AuthService,
                                                        make_user: Any) -> None:
    """The control: the key is valid, so the refusals below are the rule, not a broken key."""
    key = await scoped_key(svc, await project_viewer(svc, make_user))
    assert (await client.get("/projects/apollo", headers=bearer(key))).status_code == 200
    assert (await client.get("/projects/gemini", headers=bearer(key))).status_code == 403
    assert (await client.get("/auth/user-info", headers=bearer(key))).status_code == 200


async def test_every_account_route_refuses_a_scoped_key(app: Any, client: Any,
                                                        svc: AuthService, make_user: Any) -> None:
    key = await scoped_key(svc, await project_viewer(svc, make_user))
    for rule in account_rules(app.app):
        path = rule.rule.replace("<credential_id>", "AAAA")
        for method in sorted({"GET", "POST"} & set(rule.methods or ())):
            response = await client.open(path, method=method, json={},
                                         headers={**bearer(key), "Origin": ORIGIN})
            assert response.status_code == 403, f"{method} {path}"
            await assert_refused(response)


async def test_a_key_cannot_change_the_password(client: Any, svc: AuthService,
                                                make_user: Any) -> None:
    key = await scoped_key(svc, await project_viewer(svc, make_user))
    response = await client.post("/auth/change-password", headers=bearer(key),
                                 json={"current_password": PASSWORD,
                                       "new_password": NEW_PASSWORD})
    await assert_refused(response)
    login = await client.post("/auth/login", json={"username_or_email": "viewer",
                                                   "password": PASSWORD})
    assert login.status_code == 200, "the old password still works"


async def test_a_key_cannot_turn_mfa_off(client: Any, svc: AuthService, make_user: Any,
                                         clock: FakeClock) -> None:
    user = await project_viewer(svc, make_user)
    secret = (await svc.mfa.setup_totp(user.id)).secret
    await svc.mfa.verify_and_enable_totp(user.id, pyotp.TOTP(secret).at(clock.now))
    clock.advance(30)
    key = await scoped_key(svc, user)
    response = await client.post("/mfa/disable", headers=bearer(key),
                                 json={"code": pyotp.TOTP(secret).at(clock.now)})
    await assert_refused(response)
    stored = await svc.users.get_by_id(user.id)
    assert stored is not None and stored.mfa_enabled


async def test_an_invalid_key_on_an_account_route_is_401(client: Any) -> None:
    response = await client.get("/mfa/status", headers=bearer("sk_nope.nope"))
    await assert_refused(response, 401, "invalid_api_key")


async def test_a_session_still_manages_the_account(client: Any, svc: AuthService,
                                                   make_user: Any, login: Any) -> None:
    await project_viewer(svc, make_user)
    await login("viewer")
    assert (await client.get("/mfa/status", headers={"Accept": "application/json"})
            ).status_code == 200
    assert (await client.get("/passkeys/")).status_code == 200


@pytest.mark.settings(API_KEYS_ACCOUNT_MANAGEMENT=True)
async def test_the_application_can_let_keys_manage_the_account(
        client: Any, svc: AuthService, make_user: Any) -> None:
    key = await scoped_key(svc, await project_viewer(svc, make_user))
    status = await client.get("/mfa/status", headers=bearer(key))
    assert status.status_code == 200
    assert (await status.get_json())["data"]["mfa_enabled"] is False
    assert (await client.get("/passkeys/", headers=bearer(key))).status_code == 200

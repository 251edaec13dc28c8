"""API keys over HTTP: Authorization: Bearer, STRATEGY, publishable opt-in by decorator only,
intersection of the key's scopes with live roles, and immediate revocation."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from quart import Quart, request
from quart.typing import TestAppProtocol as AppUnderTest
from sqlalchemy import event

from quart_authtuna import current_user, login_required, permission_required, role_required
from quart_authtuna.core import AuthService
from quart_authtuna.core.db.models import ApiKey, User
from quart_authtuna.web.request_state import request_state
from tests._support.clock import FakeClock
from tests._support.databases import database_overrides
from tests.integration.conftest import build_app

Factory = Callable[..., Awaitable[User]]


def build_key_app(overrides: dict[str, Any]) -> Quart:
    """The shared test app plus routes that exercise API keys."""
    app = build_app(overrides)

    @app.get("/whoami")
    async def whoami() -> dict[str, Any]:
        state = request_state()
        return {"authenticated": current_user.is_authenticated, "id": current_user.id,
                "token_method": state.token_method, "api_key": state.api_key_id}

    @app.get("/public-ok")
    @login_required(allow_publishable=True)
    async def public_ok() -> dict[str, Any]:
        return {"id": current_user.id, "key_type": current_user.key_type}

    @app.get("/public-perm")
    @permission_required("team:create", allow_publishable=True)
    async def public_perm() -> str:
        return "ok"

    @app.get("/admin-users")
    @permission_required("admin:manage:users")
    async def admin_users() -> str:
        return "users"

    @app.get("/orgs/<org_id>/teams")
    @login_required
    @permission_required("team:create", scope_from_path="org_id")
    async def org_teams(org_id: str) -> str:
        return f"teams of {org_id}"

    @app.get("/orgs/<org_id>/admin")
    @role_required("OrgAdmin", scope_from_path="org_id")
    async def org_admin(org_id: str) -> str:
        return f"admin of {org_id}"

    @app.post("/keys")
    @login_required
    async def create_key() -> tuple[dict[str, Any], int]:
        body = await request.get_json()
        svc = app.extensions["authtuna"].service
        issued = await svc.api_keys.create_key(
            current_user.id, body["name"], key_type=body.get("key_type", "secret"),
            scopes=body.get("scopes", ()), creator_session_is_api_key=current_user.is_api_key,
            creator_grants=current_user.grants if current_user.is_api_key else None)
        return {"id": issued.id, "key": issued.plaintext}, 201

    return app


@pytest.fixture(name="app")
async def _key_app(backend: str, tmp_path: Path, clock: FakeClock,
                   app_settings: dict[str, Any]) -> AsyncIterator[AppUnderTest]:
    async with database_overrides(backend, tmp_path) as db:
        app = build_key_app({**app_settings, **db})
        app.extensions["authtuna"].service.clock = clock
        async with app.test_app() as test_app:
            yield test_app


def bearer(key: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {key}"}


async def new_key(svc: AuthService, user: User, key_type: str = "secret", **kwargs: Any) -> str:
    return (await svc.api_keys.create_key(user.id, "k", key_type=key_type, **kwargs)).plaintext


async def code_of(response: Any) -> str:
    return (await response.get_json())["errors"][0]["code"]


@contextmanager
def recorded_statements(svc: AuthService) -> Iterator[list[str]]:
    seen: list[str] = []

    def before(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        seen.append(statement)

    event.listen(svc.engine.sync_engine, "before_cursor_execute", before)
    try:
        yield seen
    finally:
        event.remove(svc.engine.sync_engine, "before_cursor_execute", before)


# ---- authentication ------------------------------------------------------------------------


async def test_bearer_key_authenticates(client: Any, svc: AuthService,
                                        make_user: Factory) -> None:
    user = await make_user()
    key = await new_key(svc, user, scopes=["User"])
    response = await client.get("/whoami", headers=bearer(key))
    data = await response.get_json()
    assert data == {"authenticated": True, "id": user.id, "token_method": "BEARER",
                    "api_key": key.split(".")[0]}
    response = await client.get("/protected", headers=bearer(key))
    assert response.status_code == 200
    assert (await response.get_json())["id"] == user.id
    assert "set-cookie" not in response.headers


async def test_invalid_key_is_anonymous_and_401_json_on_guarded_routes(
        client: Any, svc: AuthService, make_user: Factory) -> None:
    user = await make_user()
    key = await new_key(svc, user)
    wrong = key[:-1] + ("a" if key[-1] != "a" else "b")
    response = await client.get("/protected", headers=bearer(wrong))
    assert response.status_code == 401 and await code_of(response) == "invalid_api_key"
    assert (await client.get("/bare", headers=bearer(wrong))).status_code == 200
    anonymous = await (await client.get("/whoami", headers=bearer("garbage"))).get_json()
    assert anonymous["authenticated"] is False and anonymous["id"] is None


async def test_key_is_verified_once_per_request(client: Any, svc: AuthService,
                                                make_user: Factory) -> None:
    user = await make_user(roles=(("OrgAdmin", "org:x"),))
    key = await new_key(svc, user, scopes=["OrgAdmin:org:x"])
    with recorded_statements(svc) as seen:  # cold cache, two stacked guards
        response = await client.get("/orgs/x/teams", headers=bearer(key))
    assert response.status_code == 200
    assert len([s for s in seen if "FROM api_keys" in s]) == 1
    with recorded_statements(svc) as seen:
        assert (await client.get("/orgs/x/teams", headers=bearer(key))).status_code == 200
    assert seen == []  # cached: no SQL at all


# ---- authorisation -------------------------------------------------------------------------


async def test_key_permissions_are_the_intersection(client: Any, svc: AuthService,
                                                    make_user: Factory) -> None:
    admin = await make_user(roles=(("Admin", "global"),))
    narrow = await new_key(svc, admin, scopes=["User"])
    master = await new_key(svc, admin, "master")
    assert (await client.get("/admin-users", headers=bearer(narrow))).status_code == 403
    assert (await client.get("/admin-area", headers=bearer(narrow))).status_code == 403
    assert (await client.get("/admin-users", headers=bearer(master))).status_code == 200
    assert (await client.get("/admin-area", headers=bearer(master))).status_code == 200


async def test_org_scoped_key(client: Any, svc: AuthService, make_user: Factory) -> None:
    user = await make_user(roles=(("OrgAdmin", "org:x"), ("OrgAdmin", "org:y")))
    key = await new_key(svc, user, scopes=["OrgAdmin:org:x"])
    assert (await client.get("/orgs/x/teams", headers=bearer(key))).status_code == 200
    assert (await client.get("/orgs/y/teams", headers=bearer(key))).status_code == 403
    assert (await client.get("/orgs/x/admin", headers=bearer(key))).status_code == 200
    assert (await client.get("/orgs/y/admin", headers=bearer(key))).status_code == 403
    await svc.roles.remove_from_user(user.id, "OrgAdmin", "system", scope="org:x")
    assert (await client.get("/orgs/x/teams", headers=bearer(key))).status_code == 403
    assert (await client.get("/orgs/x/admin", headers=bearer(key))).status_code == 403


async def test_publishable_keys_need_a_decorator_opt_in(client: Any, svc: AuthService,
                                                        make_user: Factory) -> None:
    user = await make_user(roles=(("OrgAdmin", "global"),))
    key = await new_key(svc, user, "publishable")
    for path in ("/protected", "/protected?allow_public_key=1", "/protected?allow_public_key=true",
                 "/admin-area", "/orgs/x/teams", "/fresh"):
        response = await client.get(path, headers=bearer(key))
        assert response.status_code == 403, path
        assert await code_of(response) == "publishable_key_refused", path
    response = await client.get("/public-ok", headers=bearer(key))
    assert response.status_code == 200
    assert await response.get_json() == {"id": user.id, "key_type": "PUBLIC"}
    # Opted in, it identifies the user but grants nothing.
    assert (await client.get("/public-perm", headers=bearer(key))).status_code == 403
    secret = await new_key(svc, user, scopes=["OrgAdmin"])
    assert (await client.get("/public-perm", headers=bearer(secret))).status_code == 200


async def test_api_keys_never_count_as_a_fresh_login(client: Any, svc: AuthService,
                                                     make_user: Factory) -> None:
    user = await make_user()
    response = await client.get("/fresh", headers=bearer(await new_key(svc, user, "master")))
    assert response.status_code == 401
    assert await code_of(response) == "reauthentication_required"


# ---- revocation and expiry -----------------------------------------------------------------


async def test_expired_suspended_and_deleted_keys_are_refused_at_once(
        client: Any, svc: AuthService, make_user: Factory, clock: FakeClock) -> None:
    user = await make_user()
    short = await new_key(svc, user, valid_seconds=60)
    assert (await client.get("/protected", headers=bearer(short))).status_code == 200
    clock.advance(60)
    assert (await client.get("/protected", headers=bearer(short))).status_code == 401
    key = await new_key(svc, user)
    assert (await client.get("/protected", headers=bearer(key))).status_code == 200
    await svc.users.suspend_user(user.id, "system")
    assert (await client.get("/protected", headers=bearer(key))).status_code == 401
    await svc.users.unsuspend_user(user.id, "system")
    assert (await client.get("/protected", headers=bearer(key))).status_code == 200
    await svc.api_keys.delete_key(key.split(".")[0], user_id=user.id)
    assert (await client.get("/protected", headers=bearer(key))).status_code == 401


async def test_last_used_at_written_once_over_five_requests(
        client: Any, svc: AuthService, make_user: Factory, clock: FakeClock) -> None:
    user = await make_user()
    key = await new_key(svc, user)
    start = clock.now
    with recorded_statements(svc) as seen:
        for _ in range(5):
            assert (await client.get("/protected", headers=bearer(key))).status_code == 200
            clock.advance(6)
    writes = [s for s in seen if s.lstrip().upper().startswith("UPDATE API_KEYS")]
    assert len(writes) == 1
    async with svc.transaction() as tx:
        row = await tx.get(ApiKey, key.split(".")[0])
    assert row is not None and row.last_used_at == start


# ---- strategy ------------------------------------------------------------------------------


@pytest.mark.settings(STRATEGY="COOKIE")
async def test_cookie_strategy_ignores_bearer(client: Any, svc: AuthService,
                                              make_user: Factory, login: Any) -> None:
    owner = await make_user()
    other = await make_user()
    key = await new_key(svc, other, "master")
    response = await client.get("/protected", headers=bearer(key))
    assert response.status_code in (302, 401)
    await login(owner.username)
    data = await (await client.get("/whoami", headers=bearer(key))).get_json()
    assert data["id"] == owner.id and data["token_method"] == "COOKIE"


async def test_auto_strategy_bearer_wins_over_cookie(client: Any, svc: AuthService,
                                                     make_user: Factory, login: Any) -> None:
    owner = await make_user()
    other = await make_user()
    key = await new_key(svc, other, "master")
    await login(owner.username)
    assert (await (await client.get("/whoami")).get_json())["id"] == owner.id
    data = await (await client.get("/whoami", headers=bearer(key))).get_json()
    assert data["id"] == other.id and data["token_method"] == "BEARER"
    response = await client.get("/protected", headers=bearer("sk_bogus.bogus"))
    assert response.status_code == 401  # a bad key never falls back to the cookie


@pytest.mark.settings(STRATEGY="BEARER")
async def test_bearer_strategy_ignores_cookies(client: Any, svc: AuthService,
                                               make_user: Factory, login: Any) -> None:
    user = await make_user()
    await login(user.username)
    assert (await (await client.get("/whoami")).get_json())["authenticated"] is False
    key = await new_key(svc, user)
    assert (await (await client.get("/whoami", headers=bearer(key))).get_json())["id"] == user.id


# ---- minting keys through a request ---------------------------------------------------------


async def test_a_key_cannot_mint_a_master_key_or_a_wider_key(
        client: Any, svc: AuthService, make_user: Factory, login: Any) -> None:
    user = await make_user(roles=(("Admin", "global"),))
    key = await new_key(svc, user, scopes=["User"])
    response = await client.post("/keys", json={"name": "m", "key_type": "master"},
                                 headers=bearer(key))
    assert response.status_code == 403 and await code_of(response) == "escalation_denied"
    response = await client.post("/keys", json={"name": "w", "scopes": ["Admin"]},
                                 headers=bearer(key))
    assert response.status_code == 403
    response = await client.post("/keys", json={"name": "s", "scopes": ["User"]},
                                 headers=bearer(key))
    assert response.status_code == 201
    await login(user.username)  # a real sign-in may create a master key
    response = await client.post("/keys", json={"name": "m", "key_type": "master"},
                                 headers={"Accept": "application/json"})
    assert response.status_code == 201
    minted = (await response.get_json())["key"]
    assert minted.startswith("mk_")
    assert (await client.get("/admin-users", headers=bearer(minted))).status_code == 200

"""Seed 000's "Sample Backend Code" and "Advanced Guide > Multi-Tenant Applications", in Quart.

Conventions as in ``test_seed_examples_web.py``. The sample's undefined helpers
(``get_all_users``, ``create_role_in_db``, ...) are written with the core's managers.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from quart import Quart, request

from quart_authtuna import (
    AuthTuna,
    current_user,
    login_required,
    permission_required,
    role_required,
)
from tests._support.seeds import JSON, reader_role, seed_environment, serving, signed_in


@pytest.fixture(name="seed_env")
async def _seed_env(backend: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                    app_settings: dict[str, Any]) -> AsyncIterator[None]:
    async with seed_environment(backend, tmp_path, monkeypatch, app_settings):
        yield


def sample_backend_app() -> Quart:
    """000 "Sample Backend Code"."""
    app = Quart("AuthTuna Example API")        # FastAPI(title="AuthTuna Example API")
    # The sample defines its own /admin/... routes, so the built-in admin area moves aside
    # (FastAPI routers are opt-in; here the admin area is on unless switched off or moved).
    auth = AuthTuna(ADMIN_PREFIX="/authtuna-admin")  # from authtuna import init_app

    # Initialize AuthTuna (adds all routes, middleware, etc.)
    auth.init_app(app)                         # init_app(app)

    async def get_all_users() -> list[str]:
        return [user.username for user in await auth.service.users.list()]

    async def create_role_in_db(role_data: dict[str, Any]) -> str:
        role = await auth.service.roles.create(role_data["name"], role_data.get("description"),
                                               creator_id=current_user.id)
        return role.name

    # Public endpoint
    @app.get("/")
    async def root() -> dict[str, Any]:
        return {"message": "Welcome to AuthTuna API"}

    # Protected endpoint - requires authentication
    @app.get("/me")
    @login_required                            # user=Depends(get_current_user)
    async def get_current_user_info() -> dict[str, Any]:
        user = current_user
        return {
            "id": user.id,
            "username": user.username,
            "email": user.email,
            "roles": sorted(user.grants.role_names())  # [role.name for role in user.roles]
        }

    # Permission-based protection
    @app.get("/admin/users")
    @permission_required("admin:manage:users")  # PermissionChecker("users:manage")
    async def list_users() -> dict[str, Any]:
        # Only users with users:manage permission
        users = await get_all_users()
        return {"users": users}

    # Role-based protection
    @app.post("/admin/roles")
    @role_required("Admin")                    # RoleChecker("admin")
    async def create_role() -> dict[str, Any]:
        role_data = await request.get_json()   # role_data: dict
        # Only admin role
        new_role = await create_role_in_db(role_data)
        return {"role": new_role}

    # Scoped permissions
    @app.get("/projects/<project_id>")
    @permission_required("projects:read", scope_from_path="project_id")
    async def get_project(project_id: str) -> dict[str, Any]:
        # Check if user can read this specific project
        project = {"id": project_id}           # await get_project_by_id(project_id)
        return {"project": project}

    # API key support
    @app.get("/api/data")
    @login_required                            # user=Depends(get_current_user)
    async def get_data() -> dict[str, Any]:
        # Works with both session cookies and API keys
        data = [f"row of {current_user.id}"]   # await fetch_data_for_user(user.id)
        return {"data": data}

    return app


def multi_tenant_app() -> Quart:
    """000 "Advanced Guide > Multi-Tenant Applications"."""
    app = Quart(__name__)
    AuthTuna(app)

    async def get_projects_for_org(org_id: str, user_id: str) -> list[str]:
        return [f"{org_id}/apollo"]

    # Organization-scoped permissions
    @app.get("/orgs/<org_id>/projects")
    @permission_required("projects:read", scope_from_path="org_id")
    async def list_org_projects(org_id: str) -> dict[str, Any]:
        # User must have projects:read permission in this org
        projects = await get_projects_for_org(org_id, current_user.id)
        return {"projects": projects}

    return app


async def test_sample_backend_public_and_me(seed_env: None) -> None:
    async with serving(sample_backend_app()) as (test_app, svc):
        anonymous = test_app.test_client()
        assert await (await anonymous.get("/")).get_json() == {
            "message": "Welcome to AuthTuna API"}
        assert (await anonymous.get("/me", headers=JSON)).status_code == 401
        alice, user = await signed_in(test_app, svc, "alice", (("Admin", "global"),))
        assert await (await alice.get("/me")).get_json() == {
            "id": user.id, "username": "alice", "email": "alice@example.com",
            "roles": ["Admin", "User"]}


async def test_sample_backend_permission_and_role_guards(seed_env: None) -> None:
    async with serving(sample_backend_app()) as (test_app, svc):
        alice, _ = await signed_in(test_app, svc, "alice", (("Admin", "global"),))
        bob, _ = await signed_in(test_app, svc, "bob")
        listed = await alice.get("/admin/users")
        assert {"alice", "bob"} <= set((await listed.get_json())["users"])
        assert (await bob.get("/admin/users", headers=JSON)).status_code == 403
        created = await alice.post("/admin/roles", json={"name": "reviewer",
                                                         "description": "Reviews posts"})
        assert await created.get_json() == {"role": "reviewer"}
        assert (await svc.roles.get_by_name("reviewer")).description == "Reviews posts"
        refused = await bob.post("/admin/roles", json={"name": "sneaky"})
        assert refused.status_code == 403
        assert await svc.roles.get_by_name("sneaky") is None


async def test_sample_backend_scoped_permission(seed_env: None) -> None:
    async with serving(sample_backend_app()) as (test_app, svc):
        await reader_role(svc, "projects:read", "ProjectViewer")
        carol, _ = await signed_in(test_app, svc, "carol", (("ProjectViewer", "project:apollo"),))
        assert await (await carol.get("/projects/apollo")).get_json() == {
            "project": {"id": "apollo"}}
        assert (await carol.get("/projects/zeus", headers=JSON)).status_code == 403


async def test_sample_backend_api_key(seed_env: None) -> None:
    """``/api/data`` answers a bearer API key like a session (the seed's query parameter
    ``?api_key=`` is not supported: keys in URLs end up in logs)."""
    async with serving(sample_backend_app()) as (test_app, svc):
        _, bob = await signed_in(test_app, svc, "bob")
        key = await svc.api_keys.create_key(bob.id, "script")
        script = test_app.app.test_client(use_cookies=False)
        response = await script.get("/api/data",
                                    headers={"Authorization": f"Bearer {key.plaintext}"})
        assert await response.get_json() == {"data": [f"row of {bob.id}"]}
        wrong = await script.get("/api/data", headers={"Authorization": "Bearer sk_nope.x"})
        assert wrong.status_code == 401
        by_query = await script.get(f"/api/data?api_key={key.plaintext}", headers=JSON)
        assert by_query.status_code == 401


async def test_multi_tenant_org_scope(seed_env: None) -> None:
    async with serving(multi_tenant_app()) as (test_app, svc):
        await reader_role(svc, "projects:read", "ProjectViewer")
        dana, _ = await signed_in(test_app, svc, "dana", (("ProjectViewer", "org:acme"),))
        response = await dana.get("/orgs/acme/projects")
        assert await response.get_json() == {"projects": ["acme/apollo"]}
        assert (await dana.get("/orgs/globex/projects", headers=JSON)).status_code == 403
        # a role held lower down (one project of acme) does not reach the org level
        erin, _ = await signed_in(test_app, svc, "erin",
                                  (("ProjectViewer", "org:acme/project:apollo"),))
        assert (await erin.get("/orgs/acme/projects", headers=JSON)).status_code == 403

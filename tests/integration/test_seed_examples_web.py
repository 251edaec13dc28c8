"""The seed READMEs' FastAPI examples, mapped line by line to Quart (upstream AuthTuna's
documentation; seed 000 is its long README, seed 002 its short one).

Each ``*_app`` function below is one seed example with its FastAPI-only lines replaced by
the Quart equivalent named in the comment (the README's "Coming from AuthTuna (FastAPI)").
As in the seeds, configuration comes from the environment: ``seed_env`` exports every test
setting as ``AUTHTUNA_*``, including ``AUTHTUNA_DEFAULT_DATABASE_URI``.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from quart import Quart

from quart_authtuna import (
    AuthTuna,
    current_user,
    login_required,
    permission_required,
    role_required,
)
from tests._support.seeds import JSON, reader_role, seed_environment, serving, signed_in
from tests.conftest import PASSWORD


@pytest.fixture(name="seed_env")
async def _seed_env(backend: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                    app_settings: dict[str, Any]) -> AsyncIterator[None]:
    async with seed_environment(backend, tmp_path, monkeypatch, app_settings):
        yield


# ---- the seed examples, in Quart ------------------------------------------------------------

def minimal_app() -> Quart:
    """000 "Getting Started" step 3 (its /me is also 000 "Dependencies" and 002 "Quick Start")."""
    app = Quart(__name__)                      # app = FastAPI()
    AuthTuna(app)                              # app.add_middleware(DatabaseSessionMiddleware)

    @app.get("/me")
    @login_required                            # user=Depends(get_current_user)
    async def me() -> dict[str, Any]:
        user = current_user
        return {"id": user.id, "username": user.username, "email": user.email}

    return app


def middleware_only_app() -> Quart:
    """000 "FastAPI Integration > Dependencies": the middleware alone mounts no pages."""
    app = Quart(__name__)
    AuthTuna(app, ONLY_MIDDLEWARE=True)        # app.add_middleware(DatabaseSessionMiddleware)

    @app.get("/me")
    @login_required                            # user=Depends(get_current_user)
    async def me() -> dict[str, Any]:
        return {"id": current_user.id, "username": current_user.username}

    return app


def checker_app() -> Quart:
    """000 "Permission Checker" and "Role Checker"; roles are case-sensitive, and the seeded
    ones are ``Admin`` and ``SuperAdmin``, so the literal ``"admin"`` matches nobody."""
    app = Quart(__name__)
    AuthTuna(app)

    @app.get("/resource/<resource_id>")
    @permission_required("resource:read", scope_from_path="resource_id")  # PermissionChecker
    async def get_resource(resource_id: str) -> dict[str, Any]:
        return {"resource": resource_id}

    @app.get("/admin")
    @role_required("Admin", "SuperAdmin")      # Depends(RoleChecker("admin", "superuser"))
    async def admin_panel() -> str:
        return "admin panel"

    @app.get("/admin-literal")
    @role_required("admin", "superuser")       # the seed's names, verbatim
    async def admin_literal() -> str:
        return "never"

    return app


def quick_start_app() -> Quart:
    """002 "Quick Start" (``User`` is ``quart_authtuna.core.db.models.User`` there)."""
    app = Quart(__name__)
    AuthTuna(app)                              # app.add_middleware(DatabaseSessionMiddleware)

    @app.get("/me")
    @login_required
    async def whoami() -> dict[str, Any]:
        user = current_user
        return {"id": user.id, "username": user.username, "email": user.email}

    # Require a specific permission (AND by default)
    @app.get("/projects/<project_id>")
    @permission_required("project:read", scope_from_path="project_id")
    async def read_project(project_id: str) -> dict[str, Any]:
        return {"project_id": project_id, "user": current_user.id}

    # Require one of multiple roles
    @app.get("/admin")
    @role_required("Admin", "Moderator")       # RoleChecker("admin", "moderator")
    async def admin_area() -> dict[str, Any]:
        return {"message": f"Welcome, {current_user.username}"}

    return app


# ---- tests --------------------------------------------------------------------------------

async def test_getting_started_minimal_app(seed_env: None) -> None:
    async with serving(minimal_app()) as (test_app, svc):
        anonymous = test_app.test_client()
        assert (await anonymous.get("/me", headers=JSON)).status_code == 401
        client, user = await signed_in(test_app, svc, "johndoe")
        response = await client.get("/me")
        assert response.status_code == 200
        assert await response.get_json() == {"id": user.id, "username": "johndoe",
                                             "email": "johndoe@example.com"}


async def test_dependencies_middleware_only(seed_env: None) -> None:
    """The cookie a full app issued is honoured by a middleware-only app on the same database."""
    async with serving(minimal_app()) as (full, svc):
        client, user = await signed_in(full, svc, "johndoe")
        cookie = next(c.value for c in client.cookie_jar if c.name == "session_token")
        async with serving(middleware_only_app()) as (bare, _):
            browser = bare.app.test_client(use_cookies=False)
            assert (await browser.get("/auth/login")).status_code == 404
            assert (await browser.get("/me", headers=JSON)).status_code == 401
            response = await browser.get("/me", headers={"Cookie": f"session_token={cookie}"})
            assert response.status_code == 200
            assert await response.get_json() == {"id": user.id, "username": "johndoe"}


async def test_permission_checker_and_role_checker(seed_env: None) -> None:
    async with serving(checker_app()) as (test_app, svc):
        await reader_role(svc, "resource:read", "ResourceReader")
        reader, _ = await signed_in(test_app, svc, "reader",
                                    (("ResourceReader", "resource:r1"),))
        assert (await reader.get("/resource/r1")).status_code == 200
        assert (await reader.get("/resource/r2", headers=JSON)).status_code == 403
        assert (await reader.get("/admin", headers=JSON)).status_code == 403
        admin, _ = await signed_in(test_app, svc, "boss", (("Admin", "global"),))
        assert await (await admin.get("/admin")).get_data(as_text=True) == "admin panel"
        assert (await admin.get("/admin-literal", headers=JSON)).status_code == 403
        assert (await test_app.test_client().get("/resource/r1", headers=JSON)).status_code == 401


async def test_quick_start_002(seed_env: None) -> None:
    async with serving(quick_start_app()) as (test_app, svc):
        await reader_role(svc, "project:read", "ProjectReader")
        pat, user = await signed_in(test_app, svc, "pat", (("ProjectReader", "project:p1"),))
        assert (await (await pat.get("/me")).get_json())["id"] == user.id
        response = await pat.get("/projects/p1")
        assert await response.get_json() == {"project_id": "p1", "user": user.id}
        assert (await pat.get("/projects/p2", headers=JSON)).status_code == 403
        assert (await pat.get("/admin", headers=JSON)).status_code == 403
        mod, _ = await signed_in(test_app, svc, "molly", (("Moderator", "global"),))
        assert await (await mod.get("/admin")).get_json() == {"message": "Welcome, molly"}


async def test_built_in_routers_002(seed_env: None) -> None:
    """002 "Built-in Routers and Templates": ``include_router(auth_router.router,
    prefix="/auth")`` is built in (``AUTH_PREFIX``); the social router is not built yet."""
    app = Quart(__name__)
    AuthTuna(app, AUTH_PREFIX="/auth")
    async with serving(app) as (test_app, _):
        client = test_app.test_client()
        for page in ("/auth/login", "/auth/signup", "/auth/forgot-password"):
            response = await client.get(page)
            assert response.status_code == 200, page
            assert 'name="csrf_token"' in await response.get_data(as_text=True)


async def test_enabling_mfa(seed_env: None, monkeypatch: pytest.MonkeyPatch) -> None:
    """000 "MFA > Enabling MFA": ``MFA_ENABLED=True`` in the environment mounts /mfa."""
    for value, status in (("True", 200), ("False", 404)):
        monkeypatch.setenv("AUTHTUNA_MFA_ENABLED", value)
        async with serving(minimal_app()) as (test_app, svc):
            client, _ = await signed_in(test_app, svc, f"mfa{value.lower()}")
            assert (await client.get("/mfa/setup")).status_code == status, value


async def test_passkeys_configuration(seed_env: None, monkeypatch: pytest.MonkeyPatch) -> None:
    """000 "Passkeys > Configuration", as ``AUTHTUNA_*`` environment variables."""
    monkeypatch.setenv("AUTHTUNA_WEBAUTHN_ENABLED", "True")
    monkeypatch.setenv("AUTHTUNA_WEBAUTHN_RP_ID", "yourdomain.com")
    monkeypatch.setenv("AUTHTUNA_WEBAUTHN_RP_NAME", "Your App Name")
    monkeypatch.setenv("AUTHTUNA_WEBAUTHN_ORIGIN", "https://yourdomain.com")
    async with serving(minimal_app()) as (_, svc):
        assert svc.settings.webauthn_origin == ("https://yourdomain.com",)
        user = await svc.users.create("pk@example.com", "passkeyuser", PASSWORD)
        options = await svc.passkeys.registration_options(user, "binding")
        assert options["rp"] == {"id": "yourdomain.com", "name": "Your App Name"}


async def test_database_integration(seed_env: None, backend: str) -> None:
    """000 "Database Integration": ``DEFAULT_DATABASE_URI`` picks the database."""
    async with serving(minimal_app()) as (_, svc):
        assert svc.engine.dialect.name == backend
        assert await svc.users.get_by_username("admin") is not None  # tables made, defaults in


async def test_sso_configuration_shows_the_configured_providers(seed_env: None) -> None:
    """000 "SSO (Social Login)": a client id turns a provider on; its routes are upstream's
    ``/auth/<provider>/login`` and ``/callback`` (GitHub has no client id here, so no button).
    The round trip itself runs against the dev provider in tests/integration/test_sso_*.py."""
    app = Quart(__name__)
    configured = AuthTuna(app, GOOGLE_CLIENT_ID="your_google_client_id",
                          GITHUB_REDIRECT_URI="https://yourapp.com/auth/social/github/callback")
    assert configured.settings is not None
    assert configured.settings.google_client_id == "your_google_client_id"
    assert configured.settings.github_redirect_uri.endswith("/auth/social/github/callback")
    async with serving(app) as (test_app, _):
        client = test_app.test_client()
        page = await (await client.get("/auth/login")).get_data(as_text=True)
        assert "Continue with Google" in page and "GitHub" not in page
        assert (await client.get("/auth/github/login")).status_code == 404

"""An app with AuthTuna on a fresh database per test, its test client, and the two faces."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import pytest
from quart import Quart
from quart.typing import TestAppProtocol

from quart_authtuna import (
    AuthTuna,
    current_user,
    fresh_login_required,
    login_required,
    permission_required,
    role_required,
)
from quart_authtuna.core import AuthService
from quart_authtuna.core.db.models import User
from tests._support.clock import FakeClock
from tests._support.databases import database_overrides
from tests._support.web import submit
from tests.conftest import PASSWORD, TEST_SETTINGS


def build_app(overrides: dict[str, Any]) -> Quart:
    """A small app with one route per kind of guard."""
    app = Quart(__name__)
    app.config.update({f"AUTHTUNA_{k}": v for k, v in overrides.items()})
    AuthTuna(app)

    @app.get("/bare")
    async def bare() -> str:
        return "ok"

    @app.get("/protected")
    @login_required
    async def protected() -> dict[str, Any]:
        return {"id": current_user.id, "username": current_user.username,
                "email": current_user.email}

    @app.get("/projects/<project_id>")
    @permission_required("projects:read", scope_from_path="project_id")
    async def project(project_id: str) -> dict[str, Any]:
        return {"id": current_user.id, "username": current_user.username,
                "email": current_user.email, "project": project_id}

    @app.get("/orgs/<org_id>/teams/<team_id>/board")
    @role_required("TeamLead", "TeamMember", scope="org:{org_id}/team:{team_id}")
    async def team_board(org_id: str, team_id: str) -> dict[str, Any]:
        return {"username": current_user.username, "org": org_id, "team": team_id}

    @app.get("/admin-area")
    @role_required("Admin", "Moderator")
    async def admin_area() -> str:
        return "admins"

    @app.get("/fresh")
    @fresh_login_required(within=60)
    async def fresh() -> str:
        return "fresh"

    return app


@asynccontextmanager
async def app_on_same_database(svc: AuthService, app_settings: dict[str, Any], clock: FakeClock,
                               extra: dict[str, Any] | None = None,
                               routes: Callable[[Any], None] | None = None
                               ) -> AsyncIterator[TestAppProtocol]:
    """Another app on ``svc``'s database (another worker, or a redeploy with ``extra``
    settings), sharing the test clock."""
    db = {"DEFAULT_DATABASE_URI": svc.settings.default_database_uri.reveal()}
    if svc.settings.database_schema:
        db["DATABASE_SCHEMA"] = svc.settings.database_schema
    quart_app = build_app({**app_settings, **db, **(extra or {})})
    if routes is not None:
        routes(quart_app)
    quart_app.extensions["authtuna"].service.clock = clock
    async with quart_app.test_app() as test_app:
        yield test_app


@pytest.fixture(name="app_settings")
def _app_settings(request: pytest.FixtureRequest) -> dict[str, Any]:
    marker = request.node.get_closest_marker("settings")
    return {**TEST_SETTINGS, "SESSION_SECURE": False, "API_BASE_URL": "http://testserver.local",
            **(dict(marker.kwargs) if marker else {})}


@pytest.fixture(name="app")
async def _app(backend: str, tmp_path: Path, clock: FakeClock,
               app_settings: dict[str, Any]) -> AsyncIterator[TestAppProtocol]:
    async with database_overrides(backend, tmp_path) as db:
        app = build_app({**app_settings, **db})
        app.extensions["authtuna"].service.clock = clock
        async with app.test_app() as test_app:
            yield test_app


@pytest.fixture(name="svc")
def _svc(app: TestAppProtocol) -> AuthService:
    return app.app.extensions["authtuna"].service  # type: ignore[attr-defined]


@pytest.fixture(name="client")
def _client(app: TestAppProtocol) -> Any:
    return app.test_client()


@pytest.fixture(name="face", params=["html", "json"])
def _face(request: pytest.FixtureRequest) -> str:
    """Each journey runs as browser form posts (with CSRF) and as JSON calls."""
    return str(request.param)


@pytest.fixture(name="make_user")
def _make_user(svc: AuthService) -> Callable[..., Awaitable[User]]:
    counter = iter(range(1, 1_000_000))

    async def make(username: str | None = None, *, password: str = PASSWORD,
                   roles: tuple[tuple[str, str], ...] = (), **kwargs: Any) -> User:
        name = username or f"member{next(counter)}"
        kwargs.setdefault("email_verified", True)
        user = await svc.users.create(kwargs.pop("email", f"{name}@example.com"), name,
                                      password, **kwargs)
        for role, scope in roles:
            await svc.roles.assign_to_user(user.id, role, "system", scope=scope)
        return user

    return make


@pytest.fixture(name="login")
def _login(client: Any, svc: AuthService) -> Callable[..., Awaitable[Any]]:
    """Sign ``client`` in through the real login form (or JSON); the sign-in notice is
    delivered before this returns, so the outbox's sender is idle afterwards."""

    async def do(identifier: str, password: str = PASSWORD, face: str = "html") -> Any:
        response = await submit(client, "/auth/login",
                                {"username_or_email": identifier, "password": password},
                                face=face)
        assert response.status_code in (200, 302), await response.get_data(as_text=True)
        await svc.mail.drain()
        return response

    return do

"""The shipped test kit (issue 10): the README's example runs as written, and ``login_as``,
``session_cookie`` and ``api_key_header`` give real sessions and keys on both databases."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import pytest
from quart import Quart
from quart.typing import TestAppProtocol as AppUnderTest
from sqlalchemy import select

from quart_authtuna import AuthTuna
from quart_authtuna.core import AuthService
from quart_authtuna.core.db.models import AuditEvent, User, UserSession
from quart_authtuna.core.errors import AccountSuspended
from quart_authtuna.testing import (
    api_key_header,
    login_as,
    quart_app,
    service_of,
    session_cookie,
)
from tests._support.clock import FakeClock
from tests._support.web import ORIGIN

ROOT = Path(__file__).resolve().parents[2]
MakeUser = Callable[..., Awaitable[User]]
JSON = {"Origin": ORIGIN, "Accept": "application/json"}


# ---- the README example ---------------------------------------------------------------------

def readme_example() -> str:
    """The Python block of the README's "Testing your app" section."""
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    section = readme.split("\n## Testing your app\n", 1)[1].split("\n## ", 1)[0]
    blocks = re.findall(r"```python\n(.*?)```", section, flags=re.S)
    assert len(blocks) == 1, "the section shows exactly one Python example"
    return str(blocks[0])


def test_the_readme_example_runs_as_a_users_test_suite(tmp_path: Path) -> None:
    """Copied into an empty directory and run by pytest, as a user of the package would."""
    (tmp_path / "test_readme_example.py").write_text(readme_example(), encoding="utf-8")
    env = {k: v for k, v in os.environ.items() if not k.startswith("AUTHTUNA_")}
    env["PYTHONPATH"] = str(ROOT)  # this checkout's package, whatever the venv has installed
    result = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-W", "error",
         "-W", "ignore::DeprecationWarning:aiosqlite", "-o", "asyncio_mode=auto",
         "-o", "asyncio_default_fixture_loop_scope=function", "test_readme_example.py"],
        cwd=tmp_path, env=env, capture_output=True, text=True, timeout=240)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "2 passed" in result.stdout, result.stdout


# ---- login_as ---------------------------------------------------------------------------------

async def project_viewer_role(svc: AuthService) -> None:
    """ProjectViewer grants projects:read (what the test app's /projects/<id> asks for)."""
    await svc.roles.create("ProjectViewer", level=10)
    await svc.permissions.get_or_create("projects:read")
    await svc.roles.add_permission_to_role("ProjectViewer", "projects:read")


async def whoami(client: Any, path: str = "/protected", **kwargs: Any) -> tuple[int, Any]:
    headers = {"Accept": "application/json", **kwargs.pop("headers", {})}
    response = await client.get(path, headers=headers, **kwargs)
    return response.status_code, await response.get_json()


async def test_login_as_signs_a_client_in_with_a_real_session(
        app: AppUnderTest, svc: AuthService, make_user: MakeUser, clock: FakeClock) -> None:
    ada = await make_user("ada")
    client = await login_as(app, ada)
    assert await whoami(client) == (200, {"id": ada.id, "username": "ada",
                                          "email": "ada@example.com"})
    async with svc.transaction() as tx:
        rows = (await tx.scalars(select(UserSession).where(UserSession.user_id == ada.id))).all()
        events = set((await tx.scalars(select(AuditEvent.event_type).where(
            AuditEvent.user_id == ada.id))).all())
    assert [(r.active, r.auth_method, r.device) for r in rows] == [(True, "test", "Test client")]
    assert {"SESSION_CREATED", "LOGIN_SUCCESS"} <= events
    # Past the rotation period the row is checked and rotated in the database.
    clock.advance(svc.settings.session_rotation_seconds + 1)
    assert (await whoami(client))[0] == 200
    async with svc.transaction() as tx:
        assert (await tx.get(UserSession, rows[0].session_id, populate_existing=True)
                ).version == 1


async def test_login_as_accepts_an_id_a_username_or_an_email(
        app: AppUnderTest, make_user: MakeUser) -> None:
    ada = await make_user("ada")
    for who in (ada.id, "ada", "ADA@example.com"):
        assert (await whoami(await login_as(app, who)))[1]["id"] == ada.id


async def test_the_session_ends_as_any_other_does(
        app: AppUnderTest, make_user: MakeUser) -> None:
    await make_user("ada")
    client = await login_as(app, "ada")
    assert (await client.post("/auth/logout", json={}, headers=JSON)).status_code == 200
    assert (await whoami(client))[0] == 401


async def test_guards_see_the_users_roles_and_a_fresh_login(
        app: AppUnderTest, svc: AuthService, make_user: MakeUser) -> None:
    await project_viewer_role(svc)
    await make_user("viewer", roles=(("ProjectViewer", "project:apollo"),))
    await make_user("nobody")
    viewer, nobody = await login_as(app, "viewer"), await login_as(app, "nobody")
    assert (await whoami(viewer, "/projects/apollo"))[0] == 200
    assert (await whoami(viewer, "/projects/zeus"))[0] == 403
    assert (await whoami(nobody, "/projects/apollo"))[0] == 403
    assert (await viewer.get("/fresh")).status_code == 200


async def test_login_as_replaces_the_session_of_a_given_client(
        app: AppUnderTest, make_user: MakeUser) -> None:
    await make_user("ada")
    await make_user("bob")
    client = await login_as(app, "ada")
    assert await login_as(app, "bob", client=client) is client
    assert (await whoami(client))[1]["username"] == "bob"
    assert client.cookie_jar is not None and len(list(client.cookie_jar)) == 1


@pytest.mark.settings(SESSION_SECURE=True)
async def test_a_secure_cookie_carries_the_host_prefix(
        app: AppUnderTest, make_user: MakeUser) -> None:
    await make_user("ada")
    client = await login_as(app, "ada")
    assert client.cookie_jar is not None
    (cookie,) = list(client.cookie_jar)
    assert cookie.name == "__Host-session_token" and cookie.secure and cookie.path == "/"
    assert (await whoami(client))[0] == 200


async def test_session_cookie_works_in_a_cookie_header_of_any_client(
        app: AppUnderTest, make_user: MakeUser) -> None:
    ada = await make_user("ada")
    cookie = await session_cookie(app, "ada")
    assert (cookie.name, cookie.user_id, cookie.secure, cookie.samesite) == (
        "session_token", ada.id, False, "Lax")
    raw = quart_app(app).test_client(use_cookies=False)
    assert (await whoami(raw, headers={"Cookie": cookie.header}))[1]["id"] == ada.id
    assert (await whoami(raw))[0] == 401


async def test_unknown_and_suspended_users_are_refused(
        app: AppUnderTest, svc: AuthService, make_user: MakeUser) -> None:
    with pytest.raises(LookupError, match="nobody"):
        await login_as(app, "nobody")
    await make_user("sus", is_active=False)
    with pytest.raises(AccountSuspended):
        await login_as(app, "sus")
    async with svc.transaction() as tx:
        assert (await tx.scalars(select(UserSession))).all() == []


async def test_an_app_that_has_not_started_gets_a_clear_error(tmp_path: Path) -> None:
    app = Quart(__name__)
    with pytest.raises(RuntimeError, match="AuthTuna is not initialised"):
        service_of(app)
    AuthTuna(app, DEFAULT_DATABASE_URI=f"sqlite+aiosqlite:///{tmp_path}/x.db")
    with pytest.raises(RuntimeError, match="test_app"):
        await login_as(app, "ada")
    with pytest.raises(TypeError):
        quart_app(object())  # type: ignore[arg-type]


# ---- API keys ---------------------------------------------------------------------------------

async def test_api_key_header_is_a_real_key_with_the_roles_it_names(
        app: AppUnderTest, svc: AuthService, make_user: MakeUser) -> None:
    await project_viewer_role(svc)
    ada = await make_user("ada", roles=(("ProjectViewer", "project:apollo"),))
    client = quart_app(app).test_client(use_cookies=False)
    headers = await api_key_header(app, ada, scopes=["ProjectViewer:project:apollo"])
    assert (await whoami(client, headers=headers))[1]["id"] == ada.id
    assert (await whoami(client, "/projects/apollo", headers=headers))[0] == 200
    bare = await api_key_header(app, "ada", name="no roles")
    assert (await whoami(client, "/projects/apollo", headers=bare))[0] == 403
    keys = await svc.api_keys.get_all_keys_for_user(ada.id)
    assert sorted(k.name for k in keys) == ["no roles", "test key"]

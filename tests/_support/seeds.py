"""Running the seed READMEs' web examples: the ``.env`` as ``AUTHTUNA_*`` variables, serving
an app, and signing a browser in."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import pytest
from quart import Quart

from quart_authtuna.core import AuthService
from quart_authtuna.core.db.models import User
from tests._support.databases import database_overrides
from tests._support.web import submit
from tests.conftest import PASSWORD

JSON = {"Accept": "application/json"}


@asynccontextmanager
async def seed_environment(backend: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                           settings: dict[str, Any]) -> AsyncIterator[None]:
    """The seeds' ``.env``: every setting as an ``AUTHTUNA_*`` environment variable, with
    ``AUTHTUNA_DEFAULT_DATABASE_URI`` naming a fresh database of ``backend``."""
    async with database_overrides(backend, tmp_path) as db:
        for key, value in {**settings, **db}.items():
            monkeypatch.setenv(f"AUTHTUNA_{key}",
                               json.dumps(value) if isinstance(value, list) else str(value))
        yield


@asynccontextmanager
async def serving(app: Quart) -> AsyncIterator[tuple[Any, AuthService]]:
    """Serve ``app`` (startup creates the tables); yield its test app and the service."""
    async with app.test_app() as test_app:
        yield test_app, app.extensions["authtuna"].service


async def signed_in(test_app: Any, svc: AuthService, username: str,
                    roles: tuple[tuple[str, str], ...] = ()) -> tuple[Any, User]:
    """A new browser signed in (through the JSON login) as a new user holding ``roles``."""
    user = await svc.users.create(f"{username}@example.com", username, PASSWORD,
                                  email_verified=True)
    for role, scope in roles:
        await svc.roles.assign_to_user(user.id, role, "system", scope=scope)
    client = test_app.test_client()
    response = await submit(client, "/auth/login",
                            {"username_or_email": username, "password": PASSWORD}, face="json")
    assert response.status_code == 200, await response.get_data(as_text=True)
    return client, user


async def reader_role(svc: AuthService, permission: str, role: str) -> None:
    """A role carrying ``permission``, set up with the seeds' own calls."""
    await svc.permissions.get_or_create(permission, {"description": permission})
    await svc.roles.create(role, f"Holds {permission}")
    await svc.roles.add_permission_to_role(role, permission)

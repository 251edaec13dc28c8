"""An application's own ``templates/authtuna/...`` files replace the shipped ones, one by one."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from quart import Quart

from quart_authtuna import AuthTuna, current_user, login_required
from quart_authtuna.core import AuthService
from tests._support.clock import FakeClock
from tests._support.databases import database_overrides
from tests._support.web import submit
from tests.conftest import PASSWORD

#: A replacement login page: the app's own look, still built from the shipped pieces.
CUSTOM_LOGIN = """\
{% extends "authtuna/layouts/entrance.html" %}
{% from "authtuna/_macros/forms.html" import field, submit, csrf %}
{% block card_title %}Welcome to the Custom Harbour{% endblock %}
{% block content %}
<p id="custom-login-marker">Sign in, sailor.</p>
<form method="post" action="">
  {{ csrf(form) }}
  {{ field(form.next) }}
  {{ field(form.username_or_email) }}
  {{ field(form.password) }}
  {{ submit("Board") }}
</form>
{% endblock %}
"""
CUSTOM_VERIFICATION_TEXT = "Ahoy {{ username }}! Confirm here: {{ verification_link }}\n"


def build_app_at(root: Path, overrides: dict[str, Any]) -> Quart:
    """Like ``build_app``, but the app lives in ``root`` (its ``templates`` folder is there)."""
    app = Quart("override_app", root_path=str(root))
    app.config.update({f"AUTHTUNA_{k}": v for k, v in overrides.items()})
    AuthTuna(app)

    @app.get("/protected")
    @login_required
    async def protected() -> dict[str, Any]:
        return {"username": current_user.username}

    return app


@pytest.fixture
def app_root(tmp_path: Path) -> Path:
    root = tmp_path / "myapp"
    auth_pages = root / "templates" / "authtuna" / "auth"
    auth_pages.mkdir(parents=True)
    (auth_pages / "login.html").write_text(CUSTOM_LOGIN, encoding="utf-8")
    mail = root / "mail"
    mail.mkdir()
    (mail / "verification.txt").write_text(CUSTOM_VERIFICATION_TEXT, encoding="utf-8")
    return root


@pytest.fixture
async def custom_app(backend: str, tmp_path: Path, clock: FakeClock, app_root: Path,
                     app_settings: dict[str, Any]) -> AsyncIterator[Any]:
    async with database_overrides(backend, tmp_path) as db:
        app = build_app_at(app_root, {**app_settings, **db,
                                      "EMAIL_TEMPLATE_DIR": str(app_root / "mail")})
        app.extensions["authtuna"].service.clock = clock
        async with app.test_app() as test_app:
            yield test_app


@pytest.fixture
def custom_svc(custom_app: Any) -> AuthService:
    return custom_app.app.extensions["authtuna"].service  # type: ignore[no-any-return]


async def test_the_apps_own_login_page_is_served_instead_of_the_shipped_one(
        custom_app: Any) -> None:
    response = await custom_app.test_client().get("/auth/login")
    assert response.status_code == 200
    html = await response.get_data(as_text=True)
    assert 'id="custom-login-marker"' in html
    assert "Welcome to the Custom Harbour" in html
    assert "Forgot password?" not in html, "the shipped login body is not rendered"
    assert response.headers["Content-Security-Policy"], "headers still apply"


async def test_signing_in_through_the_overridden_page_works(
        custom_app: Any, custom_svc: AuthService, face: str) -> None:
    await custom_svc.users.create("sailor@example.com", "sailor", PASSWORD, email_verified=True)
    client = custom_app.test_client()
    response = await submit(client, "/auth/login",
                            {"username_or_email": "sailor", "password": PASSWORD}, face=face)
    assert response.status_code in (200, 302)
    assert (await (await client.get("/protected")).get_json())["username"] == "sailor"


async def test_a_failed_login_re_renders_the_overridden_page(custom_app: Any) -> None:
    response = await submit(custom_app.test_client(), "/auth/login",
                            {"username_or_email": "nobody", "password": "wrong password 1"})
    assert response.status_code == 401
    html = await response.get_data(as_text=True)
    assert 'id="custom-login-marker"' in html
    assert "Invalid username/email or password." in html


@pytest.mark.parametrize(("page", "marker"), [
    ("/auth/signup", 'name="username"'),
    ("/auth/forgot-password", 'name="email"'),
    ("/auth/passwordless/request", 'name="email"'),
    ("/auth/reset-password?token=abc", 'name="new_password"'),
    ("/auth/verify?token=abc", 'name="token"'),
])
async def test_pages_the_app_does_not_override_still_render_from_the_package(
        custom_app: Any, page: str, marker: str) -> None:
    response = await custom_app.test_client().get(page)
    assert response.status_code == 200
    html = await response.get_data(as_text=True)
    assert marker in html
    assert "custom-login-marker" not in html


async def test_email_template_dir_replaces_one_message_part(
        custom_app: Any, custom_svc: AuthService, face: str) -> None:
    response = await submit(custom_app.test_client(), "/auth/signup",
                            {"username": "deckhand", "email": "deckhand@example.com",
                             "password": PASSWORD}, face=face)
    assert response.status_code in (200, 202)
    await custom_svc.mail.drain()
    message = custom_svc.mail.outbox.last("verification", "deckhand@example.com")
    assert message is not None
    assert message.text.startswith("Ahoy deckhand! Confirm here: http://testserver.local/auth/")
    assert "deckhand" in message.html and "Ahoy" not in message.html, "HTML stays shipped"


async def test_the_shipped_login_page_is_used_without_an_override(
        app: Any) -> None:
    html = await (await app.test_client().get("/auth/login")).get_data(as_text=True)
    assert "custom-login-marker" not in html and "Forgot password?" in html

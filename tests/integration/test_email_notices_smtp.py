"""Security notices through a real SMTP server on 127.0.0.1: a new API key is announced to the
account holder (never the key), and an email change tells the old address at request and at
confirmation, while the change applies only when the new address confirms."""

from __future__ import annotations

from email.message import EmailMessage
from typing import Any

import pytest
from werkzeug.datastructures import MultiDict

from quart_authtuna.core import AuthService
from tests._support.smtp import SmtpServer, smtp_server, text_and_html  # noqa: F401
from tests._support.web import csrf_token, submit, token_from_link
from tests.conftest import PASSWORD

BASE = "http://testserver.local"
MARKUP = "<b>Deploy</b>"
CONFIRM = "/ui/profile/email/confirm"


@pytest.fixture(name="app_settings")
def _smtp_settings(app_settings: dict[str, Any],
                   smtp_server: SmtpServer) -> dict[str, Any]:  # noqa: F811
    """The suite's app, sending through the real SMTP server."""
    return {**app_settings, "EMAIL_ENABLED": True, "SMTP_HOST": smtp_server.host,
            "SMTP_PORT": smtp_server.port, "MAIL_STARTTLS": False, "USE_CREDENTIALS": False,
            "SEND_NEW_LOGIN_EMAIL": False}


async def _signed_in(app: Any, svc: AuthService, name: str) -> Any:
    await svc.users.create(f"{name}@example.com", name, PASSWORD, email_verified=True)
    client = app.test_client()
    response = await submit(client, "/auth/login",
                            {"username_or_email": name, "password": PASSWORD})
    assert response.status_code == 302
    return client


async def _received(smtp: SmtpServer, svc: AuthService, to: str, subject: str
                    ) -> EmailMessage:
    await svc.mail.drain()
    found = [m for m in smtp.to(to) if subject in str(m["Subject"])]
    assert len(found) == 1, [(m["To"], m["Subject"]) for m in smtp.messages]
    return found[0]


async def test_a_new_api_key_is_announced_without_the_key(
        app: Any, svc: AuthService, smtp_server: SmtpServer,  # noqa: F811
        face: str) -> None:
    await svc.permissions.get_or_create("projects:read")
    await svc.roles.create("ProjectViewer", level=10)
    await svc.roles.add_permission_to_role("ProjectViewer", "projects:read")
    client = await _signed_in(app, svc, "kim")
    user = await svc.users.get_by_username("kim")
    assert user is not None
    await svc.roles.assign_to_user(user.id, "ProjectViewer", "system", "project:apollo")
    data = {"name": MARKUP, "key_type": "secret", "valid_days": "30"}
    scope = "ProjectViewer:project:apollo"
    if face == "json":
        response = await submit(client, "/ui/settings/api-keys", {**data, "scopes": [scope]},
                                face="json")
    else:
        token = await csrf_token(client, "/ui/settings")
        response = await client.post("/ui/settings/api-keys", form=MultiDict(
            [*data.items(), ("scopes", scope), ("csrf_token", token)]))
    assert response.status_code in (200, 201), await response.get_data(as_text=True)
    [key] = await svc.flows.api_keys.list(user.id)

    message = await _received(smtp_server, svc, "kim@example.com", "new API key")
    text, html = text_and_html(message)
    for part in (text, html):
        assert "Secret key" in part and "ProjectViewer:project:apollo" in part
        assert "UTC" in part and "IP address" in part and key.id not in part
    assert MARKUP in text and "&lt;b&gt;Deploy&lt;/b&gt;" in html and MARKUP not in html
    assert f"{BASE}/auth/forgot-password" in text
    raw = b"".join(smtp_server.handler.raw)
    assert key.id.encode() not in raw and key.hashed_key.encode() not in raw


async def test_the_old_address_is_told_at_request_and_at_confirmation(
        app: Any, svc: AuthService, smtp_server: SmtpServer,  # noqa: F811
        face: str) -> None:
    client = await _signed_in(app, svc, "olga")
    new = "olga.new@example.org"
    requested = await submit(client, "/ui/profile/email", {"email": new}, face=face)
    assert requested.status_code in (202, 302)
    notice = await _received(smtp_server, svc, "olga@example.com",
                             "change of your email address was requested")
    assert new in text_and_html(notice)[0]
    link = await _received(smtp_server, svc, new, "")
    user = await svc.users.get_by_username("olga")
    assert user is not None and user.email == "olga@example.com"  # not until confirmed
    assert not [m for m in smtp_server.to("olga@example.com") if "was changed" in m["Subject"]]

    token = token_from_link(text_and_html(link)[0], CONFIRM)
    done = await submit(client, CONFIRM, {"token": token}, face=face,
                        page=f"{CONFIRM}?token={token}")
    assert done.status_code == 200
    changed = await _received(smtp_server, svc, "olga@example.com",
                              "email address of your")
    text, html = text_and_html(changed)
    assert new in text and new in html and "UTC" in text
    assert "can no longer be used to sign in" in text
    assert not [m for m in smtp_server.to(new) if "was changed" in m["Subject"]]

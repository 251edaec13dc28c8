"""Email through a real SMTP server on 127.0.0.1: content, links, escaping, never blocking."""

from __future__ import annotations

import logging
import time
from collections.abc import AsyncIterator
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from quart_authtuna.core import AuthService
from quart_authtuna.core.db.models import OutboxMail, PendingSignup
from tests._support.clock import FakeClock
from tests._support.databases import database_overrides
from tests._support.smtp import SmtpServer, free_port, smtp_server, text_and_html  # noqa: F401
from tests._support.web import submit, token_from_link
from tests.conftest import PASSWORD, TEST_SETTINGS
from tests.integration.conftest import build_app

BASE = "http://testserver.local"
SENDER = "no-reply@testserver.local"
APP_NAME = "Tuna & <Co>"
NEW_PASSWORD = "an entirely new passphrase 5"
HOSTILE_AGENT = '<script>alert("ua")</script><img src=x onerror=alert(1)>'


def smtp_settings(port: int) -> dict[str, Any]:
    return {**TEST_SETTINGS, "SESSION_SECURE": False, "API_BASE_URL": BASE,
            "EMAIL_ENABLED": True, "SMTP_HOST": "127.0.0.1", "SMTP_PORT": port,
            "MAIL_STARTTLS": False, "USE_CREDENTIALS": False,
            "DEFAULT_SENDER_EMAIL": SENDER, "APP_NAME": APP_NAME}


async def running_app(backend: str, tmp_path: Path, clock: FakeClock, port: int
                      ) -> AsyncIterator[Any]:
    async with database_overrides(backend, tmp_path) as db:
        app = build_app({**smtp_settings(port), **db})
        app.extensions["authtuna"].service.clock = clock
        async with app.test_app() as test_app:
            yield test_app


@pytest.fixture
async def mail_app(backend: str, tmp_path: Path, clock: FakeClock,
                   smtp_server: SmtpServer) -> AsyncIterator[Any]:  # noqa: F811
    async for test_app in running_app(backend, tmp_path, clock, smtp_server.port):
        yield test_app


@pytest.fixture
def mail_svc(mail_app: Any) -> AuthService:
    return mail_app.app.extensions["authtuna"].service  # type: ignore[no-any-return]


async def sign_up(client: Any, face: str, username: str, email: str) -> Any:
    return await submit(client, "/auth/signup",
                        {"username": username, "email": email, "password": PASSWORD},
                        face=face)


async def next_message(smtp: SmtpServer, svc: AuthService, count: int) -> EmailMessage:
    """Wait for background sends, then the ``count``-th message received."""
    await svc.mail.drain()
    return (await smtp.wait_for(count))[count - 1]


def check_message(message: EmailMessage, to: str) -> tuple[str, str]:
    """Headers every message carries, both parts present, the app name escaped in HTML."""
    assert message["From"] == SENDER
    assert message["To"] == to
    assert message["Subject"] and message["Date"] and message["Message-ID"]
    assert message.get_content_type() == "multipart/alternative"
    text, html = text_and_html(message)
    assert text.strip() and html.strip()
    assert "<Co>" not in html, "the app name must be escaped in the HTML part"
    assert "&lt;Co&gt;" in html
    assert "<html" in html.lower() and "<html" not in text.lower()
    return text, html


def link_in(text: str, path: str) -> str:
    """The link to ``path`` in the text part; it must be built on API_BASE_URL."""
    lines = [word for word in text.split() if path in word]
    assert lines, f"no link to {path}"
    assert all(word.startswith(f"{BASE}{path}?token=") for word in lines), lines
    return token_from_link(text, path)


# --- the verification journey ----------------------------------------------------------------

async def test_signup_sends_a_real_two_part_message_whose_link_verifies(
        mail_app: Any, mail_svc: AuthService, smtp_server: SmtpServer,  # noqa: F811
        face: str) -> None:
    client = mail_app.test_client()
    response = await sign_up(client, face, "a.b-c", "abc@example.com")
    assert response.status_code == (202 if face == "json" else 200)
    message = await next_message(smtp_server, mail_svc, 1)
    assert smtp_server.envelopes[0] == (SENDER, ["abc@example.com"])
    text, html = check_message(message, "abc@example.com")
    assert "a.b-c" in text and "a.b-c" in html
    token = link_in(text, "/auth/verify")
    assert f"{BASE}/auth/verify?token=" in html

    page = await client.get(f"/auth/verify?token={token}")
    assert page.status_code == 200
    confirmed = await submit(client, "/auth/verify", {"token": token}, face=face,
                             page=f"/auth/verify?token={token}")
    assert confirmed.status_code == 200
    user = await mail_svc.users.get_by_email("abc@example.com")
    assert user is not None and user.email_verified is True
    welcome = await next_message(smtp_server, mail_svc, 2)
    welcome_text, _ = check_message(welcome, "abc@example.com")
    assert f"{BASE}/auth/login" in welcome_text


# --- every kind of message -------------------------------------------------------------------

async def test_every_kind_of_message_goes_out_with_both_parts(
        mail_app: Any, mail_svc: AuthService, smtp_server: SmtpServer,  # noqa: F811
        clock: FakeClock, face: str) -> None:
    client = mail_app.test_client()
    email = "every.kind@example.com"
    seen: dict[str, tuple[str, str]] = {}

    await sign_up(client, face, "a.b-c", email)
    seen["verification"] = check_message(await next_message(smtp_server, mail_svc, 1), email)
    token = link_in(seen["verification"][0], "/auth/verify")
    await submit(client, "/auth/verify", {"token": token}, face=face,
                 page=f"/auth/verify?token={token}")
    seen["welcome"] = check_message(await next_message(smtp_server, mail_svc, 2), email)

    login = await submit(client, "/auth/login", {"username_or_email": "a.b-c",
                                                 "password": PASSWORD}, face=face,
                         headers={"User-Agent": HOSTILE_AGENT})
    assert login.status_code in (200, 302)
    seen["new_login"] = check_message(await next_message(smtp_server, mail_svc, 3), email)

    anonymous = mail_app.test_client()
    await submit(anonymous, "/auth/forgot-password", {"email": email}, face=face)
    seen["password_reset"] = check_message(await next_message(smtp_server, mail_svc, 4), email)
    token = link_in(seen["password_reset"][0], "/auth/reset-password")
    reset = await submit(anonymous, "/auth/reset-password",
                         {"token": token, "new_password": NEW_PASSWORD}, face=face,
                         page=f"/auth/reset-password?token={token}")
    assert reset.status_code == 200
    seen["password_change"] = check_message(await next_message(smtp_server, mail_svc, 5), email)

    await submit(anonymous, "/auth/passwordless/request", {"email": email}, face=face)
    seen["passwordless_login"] = check_message(await next_message(smtp_server, mail_svc, 6),
                                               email)
    link_in(seen["passwordless_login"][0], "/auth/passwordless/login")

    clock.advance(3600)  # a new hour: verification, reset and magic link used the address's cap
    await sign_up(mail_app.test_client(), face, "someone-else", email)
    seen["account_exists"] = check_message(await next_message(smtp_server, mail_svc, 7), email)

    for kind, (text, html) in seen.items():
        assert "a.b-c" in text and "a.b-c" in html, f"{kind} does not greet the user"
    new_login_text, new_login_html = seen["new_login"]
    for part in (new_login_text, new_login_html):
        assert "<script" not in part and "onerror" not in part
    assert "Unknown browser on Unknown system" in new_login_html
    assert len(smtp_server.messages) == 7


async def test_reset_mail_links_ignore_a_forged_host_header(
        mail_app: Any, mail_svc: AuthService, smtp_server: SmtpServer,  # noqa: F811
        face: str) -> None:
    await mail_svc.users.create("hosted@example.com", "hosted", PASSWORD, email_verified=True)
    client = mail_app.test_client()
    headers = {"Host": "evil.example", "X-Forwarded-Host": "evil.example"}
    if face == "json":
        headers["Origin"] = "http://evil.example"
    await submit(client, "/auth/forgot-password", {"email": "hosted@example.com"}, face=face,
                 headers=headers)
    text, html = check_message(await next_message(smtp_server, mail_svc, 1),
                               "hosted@example.com")
    link_in(text, "/auth/reset-password")
    assert "evil.example" not in text + html


# --- never blocking --------------------------------------------------------------------------

async def test_a_slow_mail_server_does_not_delay_the_response(
        mail_app: Any, mail_svc: AuthService, smtp_server: SmtpServer,  # noqa: F811
        face: str) -> None:
    delay = 3.0  # the server holds its DATA reply this long (released early once measured)
    smtp_server.delay_data(delay)
    client = mail_app.test_client()
    if face == "html":
        await client.get("/auth/signup")  # the page fetch is not part of the measured post
    started = time.perf_counter()
    response = await sign_up(client, face, "patient", "patient@example.com")
    elapsed = time.perf_counter() - started
    assert response.status_code in (200, 202)
    assert smtp_server.messages == [], "the answer came while the message was in flight"
    assert elapsed / delay < 0.5, f"signup answered after {elapsed:.2f}s, server delay {delay}s"
    smtp_server.release()
    message = await next_message(smtp_server, mail_svc, 1)
    assert message["To"] == "patient@example.com"


async def test_a_mail_server_that_is_down_does_not_break_signup(
        backend: str, tmp_path: Path, clock: FakeClock, face: str,
        caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.WARNING, logger="quart_authtuna.mail")
    async for test_app in running_app(backend, tmp_path, clock, free_port()):
        service = test_app.app.extensions["authtuna"].service
        response = await sign_up(test_app.test_client(), face, "offline", "offline@example.com")
        assert response.status_code in (200, 202)
        await service.mail.drain()
        async with service.transaction() as tx:  # the acknowledged sign-up is kept
            held = await tx.scalar(select(PendingSignup.username).where(
                PendingSignup.email == "offline@example.com"))
        assert held == "offline"
        async with service.transaction() as tx:  # and its mail waits in the outbox
            waiting = await tx.scalar(select(OutboxMail.kind))
        assert waiting == "verification"
    assert any("verification" in r.getMessage() for r in caplog.records)

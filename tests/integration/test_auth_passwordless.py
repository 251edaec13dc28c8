"""Passwordless sign-in by emailed link: request, confirm page, single use, admins excluded."""

from __future__ import annotations

from typing import Any

import pytest

from quart_authtuna.core import AuthService
from quart_authtuna.core.defaults import ADMIN_ID
from tests._support.clock import FakeClock
from tests._support.web import submit, token_from_link

BASE = "http://testserver.local"
LINK_PATH = "/auth/passwordless/login"
JSON = {"Accept": "application/json"}


async def request_link(client: Any, face: str, email: str) -> Any:
    return await submit(client, "/auth/passwordless/request", {"email": email}, face=face)


async def redeem(client: Any, face: str, token: str) -> Any:
    return await submit(client, LINK_PATH, {"token": token}, face=face,
                        page=f"{LINK_PATH}?token={token}")


async def link_token(svc: AuthService, email: str) -> str:
    await svc.mail.drain()
    mail = svc.mail.outbox.last("passwordless_login", email)
    assert mail is not None, f"no sign-in link mailed to {email}"
    assert f"{BASE}{LINK_PATH}?token=" in mail.text
    return token_from_link(mail.text, LINK_PATH)


async def answer(response: Any, face: str) -> tuple[int, Any]:
    if face == "json":
        return response.status_code, await response.get_json()
    return response.status_code, await response.get_data(as_text=True)


async def who(client: Any) -> str | None:
    response = await client.get("/protected", headers=JSON)
    return (await response.get_json())["username"] if response.status_code == 200 else None


async def test_link_request_answers_the_same_for_known_unknown_suspended_and_admin(
        client: Any, svc: AuthService, make_user: Any, face: str) -> None:
    known = await make_user("linky")
    suspended = await make_user("frozen", is_active=False)
    admin = await svc.users.get_by_id(ADMIN_ID)
    assert admin is not None
    answers = [await answer(await request_link(client, face, email), face)
               for email in (known.email, "nobody-at-all@example.com", suspended.email,
                             admin.email)]
    assert all(a == answers[0] for a in answers), answers
    assert answers[0][0] == (202 if face == "json" else 200)
    await svc.mail.drain()
    sent_to = {m.to for m in svc.mail.outbox.messages if m.kind == "passwordless_login"}
    assert sent_to == {known.email}


async def test_link_page_shows_a_confirm_button_and_does_not_sign_in(
        client: Any, svc: AuthService, make_user: Any) -> None:
    user = await make_user("previewer")
    await request_link(client, "html", user.email)
    token = await link_token(svc, user.email)
    for _ in range(2):
        page = await client.get(f"{LINK_PATH}?token={token}")
        assert page.status_code == 200
        html = await page.get_data(as_text=True)
        assert f'value="{token}"' in html and 'method="post"' in html
    assert await who(client) is None
    assert await svc.sessions.get_all_for_user(user.id) == []


async def test_confirming_the_link_signs_in(client: Any, svc: AuthService, make_user: Any,
                                            face: str) -> None:
    user = await make_user("magic")
    await request_link(client, face, user.email)
    response = await redeem(client, face, await link_token(svc, user.email))
    if face == "json":
        assert response.status_code == 200
        assert (await response.get_json())["data"]["user"]["id"] == user.id
    else:
        assert response.status_code == 302 and response.headers["Location"] == "/"
    cookie = [h for h in response.headers.getlist("Set-Cookie")
              if h.startswith("session_token=")]
    assert cookie and "HttpOnly" in cookie[0]
    assert await who(client) == "magic"
    sessions = await svc.sessions.get_all_for_user(user.id)
    assert [s.auth_method for s in sessions] == ["magic_link"]


async def test_a_sign_in_link_works_only_once(app: Any, client: Any, svc: AuthService,
                                              make_user: Any, face: str) -> None:
    user = await make_user("oneshot")
    await request_link(client, face, user.email)
    token = await link_token(svc, user.email)
    assert (await redeem(client, face, token)).status_code in (200, 302)
    thief = app.test_client()
    again = await redeem(thief, face, token)
    assert again.status_code == 400
    if face == "json":
        assert (await again.get_json())["errors"][0]["code"] == "token_invalid"
    assert await who(thief) is None


async def test_a_newer_link_replaces_the_older_one(client: Any, svc: AuthService,
                                                   make_user: Any, face: str) -> None:
    user = await make_user("forgetful")
    await request_link(client, face, user.email)
    first = await link_token(svc, user.email)
    await request_link(client, face, user.email)
    second = await link_token(svc, user.email)
    assert first != second
    assert (await redeem(client, face, first)).status_code == 400
    assert (await redeem(client, face, second)).status_code in (200, 302)


async def test_a_default_admin_cannot_sign_in_by_link_even_with_a_token(
        client: Any, svc: AuthService, face: str) -> None:
    issued = await svc.tokens.create(ADMIN_ID, "passwordless_login")
    response = await redeem(client, face, issued.raw)
    assert response.status_code == 400
    assert await who(client) is None
    assert await svc.sessions.get_all_for_user(ADMIN_ID) == []


async def test_other_purposes_are_refused_as_sign_in_links(
        client: Any, svc: AuthService, make_user: Any, face: str) -> None:
    user = await make_user("mixed")
    for purpose in ("password_reset", "email_verification"):
        issued = await svc.tokens.create(user.id, purpose)
        assert (await redeem(client, face, issued.raw)).status_code == 400
    assert await who(client) is None


async def test_link_sign_in_confirms_the_email_address(client: Any, svc: AuthService,
                                                       make_user: Any, face: str) -> None:
    user = await make_user("unconfirmed", email_verified=False)
    await request_link(client, face, user.email)
    assert (await redeem(client, face, await link_token(svc, user.email))).status_code in (
        200, 302)
    fresh = await svc.users.get_by_id(user.id)
    assert fresh is not None and fresh.email_verified is True


async def test_link_sign_in_replaces_the_browsers_previous_session(
        client: Any, svc: AuthService, make_user: Any, face: str) -> None:
    first = await make_user("firstuser")
    second = await make_user("seconduser")
    await submit(client, "/auth/login", {"username_or_email": "firstuser",
                                         "password": "correct horse battery staple"}, face=face)
    assert await who(client) == "firstuser"
    await request_link(client, face, second.email)
    await redeem(client, face, await link_token(svc, second.email))
    assert await who(client) == "seconduser"
    assert await svc.sessions.get_all_for_user(first.id) == []


@pytest.mark.settings(TOKENS_MAX_COUNT_PER_DAY_PER_USER_PER_ACTION=2)
async def test_link_requests_are_capped_per_address_per_hour_without_changing_the_answer(
        client: Any, svc: AuthService, clock: FakeClock, make_user: Any, face: str) -> None:
    user = await make_user("spammed")
    cap = svc.settings.mail_max_per_address_per_hour
    assert cap == 3

    async def sent() -> int:
        await svc.mail.drain()
        return len([m for m in svc.mail.outbox.messages
                    if m.kind == "passwordless_login" and m.to == user.email])

    answers = [await answer(await request_link(client, face, user.email), face)
               for _ in range(cap + 1)]
    assert all(a == answers[0] for a in answers), "the capped request answers the same"
    assert answers[0][0] == (202 if face == "json" else 200)
    assert await sent() == cap, "the request past the hourly cap sends no mail"
    clock.advance(3601)
    assert await answer(await request_link(client, face, user.email), face) == answers[0]
    assert await sent() == cap + 1, "the cap is per hour"


@pytest.mark.settings(PASSWORDLESS_LOGIN_ENABLED=False)
async def test_switched_off_passwordless_pages_do_not_exist_and_send_nothing(
        client: Any, svc: AuthService, make_user: Any) -> None:
    user = await make_user("nolinks")
    issued = await svc.tokens.create(user.id, "passwordless_login")
    assert (await client.get("/auth/passwordless/request")).status_code == 404
    assert (await client.get(f"{LINK_PATH}?token={issued.raw}")).status_code == 404
    for path, data in (("/auth/passwordless/request", {"email": user.email}),
                       (LINK_PATH, {"token": issued.raw})):
        response = await client.post(path, json=data,
                                     headers={"Origin": "http://localhost", **JSON})
        assert response.status_code == 404
    await svc.mail.drain()
    assert svc.mail.outbox.last("passwordless_login") is None
    assert await who(client) is None
    login_page = await (await client.get("/auth/login")).get_data(as_text=True)
    assert "/auth/passwordless/request" not in login_page

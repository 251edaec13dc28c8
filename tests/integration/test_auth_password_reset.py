"""Forgotten passwords (request, emailed link, redeem once) and changing a known password."""

from __future__ import annotations

import asyncio
import re
from typing import Any

from quart_authtuna.core import AuthService
from tests._support.clock import FakeClock
from tests._support.web import ORIGIN, submit, token_from_link
from tests.conftest import PASSWORD

BASE = "http://testserver.local"
NEW_PASSWORD = "a brand new passphrase 42"
JSON = {"Accept": "application/json"}


async def forgot(client: Any, face: str, email: str, **kwargs: Any) -> Any:
    return await submit(client, "/auth/forgot-password", {"email": email}, face=face, **kwargs)


async def reset(client: Any, face: str, token: str, password: str = NEW_PASSWORD) -> Any:
    return await submit(client, "/auth/reset-password",
                        {"token": token, "new_password": password}, face=face,
                        page=f"/auth/reset-password?token={token}")


async def reset_token(svc: AuthService, email: str) -> str:
    await svc.mail.drain()
    mail = svc.mail.outbox.last("password_reset", email)
    assert mail is not None, f"no reset mail to {email}"
    return token_from_link(mail.text, "/auth/reset-password")


async def sign_in(client: Any, face: str, who: str, password: str = PASSWORD) -> Any:
    return await submit(client, "/auth/login",
                        {"username_or_email": who, "password": password}, face=face)


async def signed_in(client: Any) -> bool:
    status = (await client.get("/protected", headers=JSON)).status_code
    assert status in (200, 401)
    return status == 200


async def body(response: Any, face: str) -> Any:
    if face == "json":
        return await response.get_json()
    return await response.get_data(as_text=True)


# --- requesting a reset ----------------------------------------------------------------------

async def test_forgot_password_answers_identically_for_known_and_unknown_emails(
        client: Any, svc: AuthService, make_user: Any, face: str) -> None:
    user = await make_user("known")
    known = await forgot(client, face, user.email)
    unknown = await forgot(client, face, "unknown-person@example.com")
    assert known.status_code == unknown.status_code == (202 if face == "json" else 200)
    assert await body(known, face) == await body(unknown, face)
    await reset_token(svc, user.email)
    assert svc.mail.outbox.last("password_reset", "unknown-person@example.com") is None


async def test_reset_link_uses_api_base_url_not_the_request_host(
        client: Any, svc: AuthService, make_user: Any, face: str) -> None:
    user = await make_user("hosted")
    evil = {"Host": "evil.example", "X-Forwarded-Host": "evil.example"}
    if face == "json":
        evil["Origin"] = "http://evil.example"
    response = await forgot(client, face, user.email, headers=evil)
    assert response.status_code in (200, 202)
    await svc.mail.drain()
    mail = svc.mail.outbox.last("password_reset", user.email)
    assert mail is not None
    links = re.findall(r"https?://[^\s\"'<>]+", mail.text + mail.html)
    reset_links = [link for link in links if "/auth/reset-password" in link]
    assert reset_links and all(link.startswith(f"{BASE}/auth/reset-password?token=")
                               for link in reset_links)
    assert "evil.example" not in mail.text + mail.html
    token = token_from_link(mail.text, "/auth/reset-password")
    page = await client.get(f"/auth/reset-password?token={token}")
    assert page.status_code == 200
    html = await page.get_data(as_text=True)
    assert f'value="{token}"' in html and 'name="new_password"' in html


async def test_a_newer_reset_link_replaces_the_older_one(
        client: Any, svc: AuthService, make_user: Any, face: str) -> None:
    user = await make_user("twolinks")
    await forgot(client, face, user.email)
    first = await reset_token(svc, user.email)
    await forgot(client, face, user.email)
    second = await reset_token(svc, user.email)
    assert first != second
    assert (await reset(client, face, first)).status_code == 400
    assert (await reset(client, face, second)).status_code == 200


# --- redeeming the link ----------------------------------------------------------------------

async def test_reset_with_a_common_password_is_400_and_the_token_still_works(
        client: Any, svc: AuthService, make_user: Any, face: str) -> None:
    user = await make_user("picky")
    await forgot(client, face, user.email)
    token = await reset_token(svc, user.email)
    refused = await reset(client, face, token, "password1234")
    assert refused.status_code == 400
    if face == "json":
        errors = (await refused.get_json())["errors"]
        assert "too_common" in {e["code"] for e in errors}
    else:
        assert "too common" in await refused.get_data(as_text=True)
    assert (await reset(client, face, token)).status_code == 200
    assert (await sign_in(client, face, "picky", NEW_PASSWORD)).status_code in (200, 302)


async def test_reset_ends_every_session_and_does_not_sign_in(
        app: Any, client: Any, svc: AuthService, make_user: Any, face: str) -> None:
    user = await make_user("victim")
    laptop, phone = app.test_client(), app.test_client()
    await sign_in(laptop, face, "victim")
    await sign_in(phone, face, "victim")
    assert await signed_in(laptop) and await signed_in(phone)

    await forgot(client, face, user.email)
    response = await reset(client, face, await reset_token(svc, user.email))
    assert response.status_code == 200
    if face == "json":
        assert (await response.get_json())["data"] == {"password_reset": True}
    else:
        assert "Password changed" in await response.get_data(as_text=True)
    assert not [h for h in response.headers.getlist("Set-Cookie")
                if h.startswith("session_token=") and "max-age=0" not in h.lower()]

    assert not await signed_in(client), "a reset never signs in"
    assert not await signed_in(laptop) and not await signed_in(phone)
    assert (await laptop.get("/protected", headers={"Accept": "text/html"})).status_code == 302
    assert await svc.sessions.get_all_for_user(user.id) == []
    await svc.mail.drain()
    assert svc.mail.outbox.last("password_change", user.email) is not None

    assert (await sign_in(client, face, "victim", PASSWORD)).status_code == 401
    assert (await sign_in(client, face, "victim", NEW_PASSWORD)).status_code in (200, 302)


async def test_a_reset_token_works_only_once(client: Any, svc: AuthService, make_user: Any,
                                             face: str) -> None:
    user = await make_user("oncer")
    await forgot(client, face, user.email)
    token = await reset_token(svc, user.email)
    assert (await reset(client, face, token)).status_code == 200
    again = await reset(client, face, token, "yet another passphrase 7")
    assert again.status_code == 400
    if face == "json":
        assert (await again.get_json())["errors"][0]["code"] == "token_invalid"
    assert (await sign_in(client, face, "oncer", NEW_PASSWORD)).status_code in (200, 302)


async def test_an_expired_reset_token_is_refused(client: Any, svc: AuthService,
                                                 clock: FakeClock, make_user: Any,
                                                 face: str) -> None:
    user = await make_user("latecomer")
    await forgot(client, face, user.email)
    token = await reset_token(svc, user.email)
    clock.advance(svc.settings.tokens_expiry_seconds + 1)
    response = await reset(client, face, token)
    assert response.status_code == 400
    if face == "json":
        assert (await response.get_json())["errors"][0]["code"] == "token_expired"


async def test_a_verification_token_is_refused_by_reset_password(
        client: Any, svc: AuthService, make_user: Any, face: str) -> None:
    user = await make_user("purposeful", email_verified=False)
    await submit(client, "/auth/verify/resend", {"email": user.email}, face=face)
    await svc.mail.drain()
    mail = svc.mail.outbox.last("verification", user.email)
    assert mail is not None
    verify_token = token_from_link(mail.text, "/auth/verify")
    assert (await reset(client, face, verify_token)).status_code == 400
    assert (await sign_in(client, face, "purposeful", NEW_PASSWORD)).status_code == 401


async def test_reset_page_without_a_token_is_refused(client: Any, face: str) -> None:
    response = await submit(client, "/auth/reset-password", {"new_password": NEW_PASSWORD},
                            face=face)
    assert response.status_code == 400
    if face == "json":
        assert "token" in {e["param"] for e in (await response.get_json())["errors"]}


async def test_fifty_concurrent_redemptions_of_one_reset_token_succeed_once(
        app: Any, svc: AuthService, make_user: Any) -> None:
    user = await make_user("racer")
    issued = await svc.request_password_reset(user.email)
    assert issued is not None
    clients = [app.test_client() for _ in range(50)]
    responses = await asyncio.gather(*(
        c.post("/auth/reset-password", headers={"Origin": ORIGIN, **JSON},
               json={"token": issued.raw, "new_password": f"{NEW_PASSWORD} {i}"})
        for i, c in enumerate(clients)))
    statuses = sorted(r.status_code for r in responses)
    assert statuses.count(200) == 1, statuses
    assert set(statuses) == {200, 400}, statuses
    winner = next(i for i, r in enumerate(responses) if r.status_code == 200)
    login = await sign_in(app.test_client(), "json", "racer", f"{NEW_PASSWORD} {winner}")
    assert login.status_code == 200


# --- changing a known password ---------------------------------------------------------------

async def test_change_password_needs_a_session(client: Any, face: str) -> None:
    response = await client.post("/auth/change-password",
                                 json={"current_password": PASSWORD,
                                       "new_password": NEW_PASSWORD},
                                 headers={"Origin": ORIGIN, **JSON})
    assert response.status_code == 401
    page = await client.get("/auth/change-password", headers={"Accept": "text/html"})
    assert page.status_code == 302 and page.headers["Location"].startswith("/auth/login")


async def test_change_password_with_wrong_current_password_is_401_and_changes_nothing(
        client: Any, svc: AuthService, make_user: Any, face: str) -> None:
    user = await make_user("careful")
    await sign_in(client, face, "careful")
    before = (await svc.users.get_by_id(user.id)).password_hash  # type: ignore[union-attr]
    response = await submit(client, "/auth/change-password",
                            {"current_password": "not my password", "new_password": NEW_PASSWORD},
                            face=face)
    assert response.status_code == 401
    if face == "json":
        assert (await response.get_json())["errors"][0]["code"] == "invalid_credentials"
    after = (await svc.users.get_by_id(user.id)).password_hash  # type: ignore[union-attr]
    assert after == before
    assert await signed_in(client)


async def test_change_password_to_a_weak_one_is_400(client: Any, make_user: Any,
                                                    face: str) -> None:
    await make_user("weakchange")
    await sign_in(client, face, "weakchange")
    response = await submit(client, "/auth/change-password",
                            {"current_password": PASSWORD, "new_password": "password1234"},
                            face=face)
    assert response.status_code == 400
    assert (await sign_in(client, face, "weakchange", PASSWORD)).status_code in (200, 302)


async def test_change_password_keeps_this_session_and_ends_the_others(
        app: Any, client: Any, svc: AuthService, make_user: Any, face: str) -> None:
    user = await make_user("mover")
    other = app.test_client()
    await sign_in(other, face, "mover")
    await sign_in(client, face, "mover")
    response = await submit(client, "/auth/change-password",
                            {"current_password": PASSWORD, "new_password": NEW_PASSWORD},
                            face=face)
    assert response.status_code == 200
    if face == "json":
        assert (await response.get_json())["data"] == {"password_changed": True}
    assert await signed_in(client), "the session that changed the password stays"
    assert not await signed_in(other), "every other session ends"
    assert len(await svc.sessions.get_all_for_user(user.id)) == 1
    await svc.mail.drain()
    assert svc.mail.outbox.last("password_change", user.email) is not None
    fresh = app.test_client()
    assert (await sign_in(fresh, face, "mover", PASSWORD)).status_code == 401
    assert (await sign_in(fresh, face, "mover", NEW_PASSWORD)).status_code in (200, 302)

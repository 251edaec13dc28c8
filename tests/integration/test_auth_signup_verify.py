"""Sign-up, the emailed confirmation link and resending it, on both faces.

With REQUIRE_EMAIL_VERIFICATION (the default) sign-up holds a pending sign-up: the account is
created, verified, when its link is confirmed."""

from __future__ import annotations

import re
from typing import Any

import pytest
from sqlalchemy import select

from quart_authtuna.core import AuthService
from quart_authtuna.core.db.models import PendingSignup
from tests._support.web import submit, token_from_link
from tests.conftest import PASSWORD

BASE = "http://testserver.local"


async def sign_up(client: Any, face: str, username: str, email: str,
                  password: str = PASSWORD, **extra: Any) -> Any:
    return await submit(client, "/auth/signup",
                        {"username": username, "email": email, "password": password, **extra},
                        face=face)


async def answer(response: Any, face: str) -> tuple[int, Any]:
    """What the client sees: status and the JSON body, or the page's message."""
    if face == "json":
        return response.status_code, await response.get_json()
    html = await response.get_data(as_text=True)
    lead = re.search(r'<p class="at-lead">(.*?)</p>', html, re.S)
    return response.status_code, " ".join(lead.group(1).split()) if lead else html


async def failure(response: Any, face: str) -> tuple[int, Any]:
    """What the client sees of a refusal: status and the JSON body, or the page's alert."""
    if face == "json":
        return response.status_code, await response.get_json()
    alert = re.search(r'role="alert">(.*?)</div>', await response.get_data(as_text=True), re.S)
    assert alert, "no error banner on the page"
    return response.status_code, " ".join(re.sub(r"<[^>]+>", " ", alert.group(1)).split())


async def json_errors(response: Any) -> list[dict[str, Any]]:
    return list((await response.get_json())["errors"])


def field_errors(html: str, field: str) -> str:
    match = re.search(rf'id="{field}-errors">(.*?)</ul>', html, re.S)
    assert match, f"no errors shown under {field}"
    return " ".join(re.sub(r"<[^>]+>", " ", match.group(1)).split())


async def verification_token(svc: AuthService, email: str) -> str:
    await svc.mail.drain()
    mail = svc.mail.outbox.last("verification", email)
    assert mail is not None, f"no verification mail to {email}"
    assert f"{BASE}/auth/verify?token=" in mail.text
    assert f"{BASE}/auth/verify?token=" in mail.html
    return token_from_link(mail.text, "/auth/verify")


async def pending_signups(svc: AuthService, email: str) -> list[PendingSignup]:
    async with svc.transaction() as tx:
        return list((await tx.scalars(select(PendingSignup).where(
            PendingSignup.email == email))).all())


async def confirm(client: Any, face: str, token: str) -> Any:
    return await submit(client, "/auth/verify", {"token": token}, face=face,
                        page=f"/auth/verify?token={token}")


# --- sign-up ---------------------------------------------------------------------------------

async def test_signup_creates_no_account_until_the_link_is_confirmed(
        client: Any, svc: AuthService, face: str) -> None:
    response = await sign_up(client, face, "newbie", "newbie@example.com")
    status, shown = await answer(response, face)
    if face == "json":
        assert (status, shown) == (202, {"status": 202, "data": {"message": "check_email"}})
    else:
        assert status == 200 and "sent a link" in shown
    assert await svc.users.get_by_email("newbie@example.com") is None
    assert await svc.users.get_by_username("newbie") is None
    token = await verification_token(svc, "newbie@example.com")
    [held] = await pending_signups(svc, "newbie@example.com")
    assert held.username == "newbie" and held.id not in (token, "")
    assert held.password_hash.startswith("$2") and PASSWORD not in held.password_hash
    assert (await client.get("/protected", headers={"Accept": "application/json"})
            ).status_code == 401, "sign-up does not sign in"

    assert (await confirm(client, face, token)).status_code == 200
    user = await svc.users.get_by_email("newbie@example.com")
    assert user is not None and user.username == "newbie" and user.email_verified is True
    assert await pending_signups(svc, "newbie@example.com") == [], "the held hash is gone"
    assert (await client.get("/protected", headers={"Accept": "application/json"})
            ).status_code == 401, "confirming does not sign in"


async def test_signup_ignores_privileged_fields(client: Any, svc: AuthService,
                                                face: str) -> None:
    await sign_up(client, face, "sneaky", "sneaky@example.com", email_verified="true",
                  is_active="true", roles="Admin", id="default-admin")
    assert await svc.users.get_by_email("sneaky@example.com") is None
    await confirm(client, face, await verification_token(svc, "sneaky@example.com"))
    user = await svc.users.get_by_email("sneaky@example.com")
    assert user is not None and user.id != "default-admin"
    grants = await svc.rbac.grants_for(user.id)
    assert {role for role, _ in grants.roles} == {"User"}


async def test_signup_with_existing_email_answers_exactly_like_a_new_one(
        client: Any, svc: AuthService, make_user: Any, face: str) -> None:
    owner = await make_user("owner")
    fresh = await answer(await sign_up(client, face, "someone", "someone@example.com"), face)
    taken = await answer(await sign_up(client, face, "another", owner.email), face)
    assert fresh == taken
    assert await svc.users.get_by_username("another") is None, "nothing was created"
    await svc.mail.drain()
    assert svc.mail.outbox.last("verification", owner.email) is None


async def test_signup_with_existing_email_tells_the_owner(
        client: Any, svc: AuthService, make_user: Any, face: str) -> None:
    owner = await make_user("owner2")
    await sign_up(client, face, "intruder", owner.email)
    await svc.mail.drain()
    notice = svc.mail.outbox.last("account_exists", owner.email)
    assert notice is not None, "the account_exists notice was not sent (template missing?)"
    assert f"{BASE}/auth/forgot-password" in notice.text
    assert f"{BASE}/auth/forgot-password" in notice.html


@pytest.mark.parametrize(("password", "code"), [("password1234", "too_common"),
                                                ("Sh0rt!pw", "too_short")])
async def test_signup_rejects_a_weak_password(client: Any, svc: AuthService, face: str,
                                              password: str, code: str) -> None:
    response = await sign_up(client, face, "weakling", "weakling@example.com", password)
    assert response.status_code == 400
    if face == "json":
        errors = await json_errors(response)
        assert code in {e["code"] for e in errors}
        assert {e["param"] for e in errors} == {"password"}
    else:
        html = await response.get_data(as_text=True)
        assert field_errors(html, "password")
        assert 'value="weakling@example.com"' in html, "the form keeps what was typed"
    assert await svc.users.get_by_email("weakling@example.com") is None


async def test_signup_with_taken_username_says_so_on_the_username(
        client: Any, svc: AuthService, make_user: Any, face: str) -> None:
    await make_user("popular")
    response = await sign_up(client, face, "popular", "fresh-address@example.com")
    assert response.status_code == 400
    if face == "json":
        errors = await json_errors(response)
        assert [(e["code"], e["param"]) for e in errors] == [("username_taken", "username")]
    else:
        assert "taken" in field_errors(await response.get_data(as_text=True), "username")
    assert await svc.users.get_by_email("fresh-address@example.com") is None


async def test_signup_with_invalid_email_is_400_on_email(client: Any, face: str) -> None:
    response = await sign_up(client, face, "mailless", "not-an-address")
    assert response.status_code == 400
    if face == "json":
        assert "email" in {e["param"] for e in await json_errors(response)}


async def test_signup_form_needs_every_field(client: Any, face: str) -> None:
    response = await submit(client, "/auth/signup", {"username": "halfway"}, face=face)
    assert response.status_code == 400
    if face == "json":
        assert {"email", "password"} <= {e["param"] for e in await json_errors(response)}


# --- verification link -----------------------------------------------------------------------

async def test_verification_link_page_does_not_consume_the_token(
        client: Any, svc: AuthService) -> None:
    await sign_up(client, "html", "linkclick", "linkclick@example.com")
    token = await verification_token(svc, "linkclick@example.com")
    for _ in range(2):  # mail scanners and previews may fetch a link more than once
        page = await client.get(f"/auth/verify?token={token}")
        assert page.status_code == 200
        html = await page.get_data(as_text=True)
        assert f'value="{token}"' in html and 'method="post"' in html
    assert await svc.users.get_by_email("linkclick@example.com") is None
    assert (await confirm(client, "html", token)).status_code == 200


async def test_confirming_the_link_verifies_once_and_allows_login(
        client: Any, svc: AuthService, face: str) -> None:
    await sign_up(client, face, "confirmer", "confirmer@example.com")
    token = await verification_token(svc, "confirmer@example.com")
    response = await confirm(client, face, token)
    assert response.status_code == 200
    if face == "json":
        data = (await response.get_json())["data"]
        assert data["user"]["email_verified"] is True
    else:
        assert "Email confirmed" in await response.get_data(as_text=True)
    user = await svc.users.get_by_email("confirmer@example.com")
    assert user is not None and user.email_verified is True
    await svc.mail.drain()
    assert svc.mail.outbox.last("welcome", "confirmer@example.com") is not None

    again = await confirm(client, face, token)
    assert again.status_code == 400
    if face == "json":
        assert (await json_errors(again))[0]["code"] == "token_invalid"

    login = await submit(client, "/auth/login",
                         {"username_or_email": "confirmer", "password": PASSWORD}, face=face)
    assert login.status_code in (200, 302)
    assert (await client.get("/protected")).status_code == 200


@pytest.mark.parametrize("token", ["", "not-a-real-token", "x" * 300])
async def test_bogus_verification_tokens_are_refused(client: Any, face: str,
                                                     token: str) -> None:
    response = await confirm(client, face, token)
    assert response.status_code == 400


async def test_a_reset_token_does_not_verify_an_email(
        client: Any, svc: AuthService, make_user: Any, face: str) -> None:
    user = await make_user("crosspurpose", email_verified=False)
    issued = await svc.request_password_reset(user.email)
    assert issued is not None
    assert (await confirm(client, face, issued.raw)).status_code == 400
    fresh = await svc.users.get_by_id(user.id)
    assert fresh is not None and fresh.email_verified is False


async def test_login_before_confirming_answers_like_an_unknown_account(
        client: Any, face: str) -> None:
    await sign_up(client, face, "eager", "eager@example.com")
    answers = []
    for who in ("eager", "eager@example.com", "nobody-at-all"):
        response = await submit(client, "/auth/login",
                                {"username_or_email": who, "password": PASSWORD}, face=face)
        answers.append(await failure(response, face))
    assert answers[0][0] == 401 and answers[0] == answers[1] == answers[2]
    if face == "json":
        assert answers[0][1]["errors"][0]["code"] == "invalid_credentials"


# --- resend ----------------------------------------------------------------------------------

async def test_resend_answers_the_same_for_unknown_verified_and_waiting_addresses(
        client: Any, svc: AuthService, make_user: Any, face: str) -> None:
    waiting = await make_user("waiting", email_verified=False)  # e.g. made by an admin
    done = await make_user("done")
    await sign_up(client, face, "held", "held@example.com")
    first = await verification_token(svc, "held@example.com")
    answers = []
    for email in (waiting.email, "ghost@example.com", done.email, "held@example.com"):
        response = await submit(client, "/auth/verify/resend", {"email": email}, face=face)
        answers.append(await answer(response, face))
    assert answers[0] == answers[1] == answers[2] == answers[3]
    assert answers[0][0] == (202 if face == "json" else 200)
    await svc.mail.drain()
    assert svc.mail.outbox.last("verification", waiting.email) is not None
    assert await verification_token(svc, "held@example.com") != first
    assert svc.mail.outbox.last("verification", "ghost@example.com") is None
    assert svc.mail.outbox.last("verification", done.email) is None


async def test_resent_link_of_a_pending_signup_replaces_the_earlier_one(
        client: Any, svc: AuthService, face: str) -> None:
    await sign_up(client, face, "twice", "twice@example.com")
    first = await verification_token(svc, "twice@example.com")
    await submit(client, "/auth/verify/resend", {"email": "twice@example.com"}, face=face)
    second = await verification_token(svc, "twice@example.com")
    assert first != second
    assert (await confirm(client, face, first)).status_code == 400
    assert await svc.users.get_by_email("twice@example.com") is None
    assert (await confirm(client, face, second)).status_code == 200
    user = await svc.users.get_by_email("twice@example.com")
    assert user is not None and user.username == "twice" and user.email_verified is True


async def test_resent_link_of_an_unverified_account_replaces_the_earlier_one(
        client: Any, svc: AuthService, face: str) -> None:
    user = await svc.users.create("admin-made@example.com", "adminmade", PASSWORD)
    await svc.flows.email_verification.send(user)
    first = await verification_token(svc, user.email)
    await submit(client, "/auth/verify/resend", {"email": user.email}, face=face)
    second = await verification_token(svc, user.email)
    assert first != second
    assert (await confirm(client, face, first)).status_code == 400
    assert (await confirm(client, face, second)).status_code == 200
    fresh = await svc.users.get_by_id(user.id)
    assert fresh is not None and fresh.email_verified is True


async def test_an_expired_pending_signup_link_is_refused_and_not_renewed(
        client: Any, svc: AuthService, clock: Any, face: str) -> None:
    await sign_up(client, face, "slowpoke", "slowpoke@example.com")
    token = await verification_token(svc, "slowpoke@example.com")
    clock.advance(svc.settings.tokens_expiry_seconds + 1)
    response = await confirm(client, face, token)
    assert response.status_code == 400
    if face == "json":
        assert (await json_errors(response))[0]["code"] == "token_expired"
    await submit(client, "/auth/verify/resend", {"email": "slowpoke@example.com"}, face=face)
    assert await verification_token(svc, "slowpoke@example.com") == token, "no new link"
    assert await svc.users.get_by_email("slowpoke@example.com") is None

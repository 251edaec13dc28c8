"""Issue 8 items 4 and 6 over HTTP: sign-up is no email oracle, and racing sign-ups, racing
confirmations and identifiers taken while a sign-up waits all get one clear answer.

With REQUIRE_EMAIL_VERIFICATION (the default) a sign-up is held until its link is confirmed;
nothing is created or reserved before. Runs on SQLite and PostgreSQL.
"""

from __future__ import annotations

import asyncio
import re
from typing import Any

import pytest
from sqlalchemy import func, select

from quart_authtuna.core import AuthService
from quart_authtuna.core.db.models import User
from tests._support.web import ORIGIN, submit, token_from_link
from tests.conftest import PASSWORD

JSON = {"Origin": ORIGIN, "Accept": "application/json"}
PARALLEL = 50
ACCEPTED = (202, {"status": 202, "data": {"message": "check_email"}})
#: Enough mail for every racer's link (the hourly caps are tested in test_sec_attempts).
RACE_CAPS = {"MAIL_MAX_PER_ADDRESS_PER_HOUR": 100, "MAIL_MAX_PER_IP_PER_HOUR": 200}


async def sign_up(client: Any, face: str, username: str, email: str) -> tuple[int, Any]:
    """What the client sees: status and the JSON body, or the page's message."""
    response = await submit(client, "/auth/signup", {"username": username, "email": email,
                                                     "password": PASSWORD}, face=face)
    if face == "json":
        return response.status_code, await response.get_json()
    html = await response.get_data(as_text=True)
    shown = re.search(r'<p class="at-lead">(.*?)</p>|id="username-errors">(.*?)</ul>', html,
                      re.S)
    assert shown, html
    text = shown.group(1) or shown.group(2)
    return response.status_code, " ".join(re.sub(r"<[^>]+>", " ", text).split())


async def json_sign_up(client: Any, username: str, email: str) -> tuple[int, Any]:
    response = await client.post("/auth/signup", headers=JSON, json={
        "username": username, "email": email, "password": PASSWORD})
    return response.status_code, await response.get_json()


async def json_confirm(client: Any, token: str) -> tuple[int, Any]:
    response = await client.post("/auth/verify", headers=JSON, json={"token": token})
    return response.status_code, await response.get_json()


async def links(svc: AuthService, email: str) -> list[str]:
    """The verification tokens mailed to ``email``, oldest first."""
    await svc.mail.drain()
    return [token_from_link(m.text, "/auth/verify") for m in svc.mail.outbox.messages
            if m.kind == "verification" and m.to == email]


async def accounts_with(svc: AuthService, email: str) -> int:
    async with svc.transaction() as tx:
        return int(await tx.scalar(select(func.count()).select_from(User).where(
            User.email_canonical == email)) or 0)


def codes(body: dict[str, Any]) -> list[str]:
    return [e["code"] for e in body.get("errors", [])]


# ---- item 4: the answer and its after-effects do not depend on the address ----------------

async def test_signup_answers_and_after_effects_are_the_same_for_registered_and_new_emails(
        client: Any, svc: AuthService, make_user: Any, face: str) -> None:
    owner = await make_user("owner")
    before = await svc.users.count()
    registered = await sign_up(client, face, "probe-a", owner.email)
    then_a = await sign_up(client, face, "probe-a", "other-a@example.com")
    fresh = await sign_up(client, face, "probe-b", "fresh@example.com")
    then_b = await sign_up(client, face, "probe-b", "other-b@example.com")
    assert registered == fresh, "the first answer tells the addresses apart"
    assert then_a == then_b == fresh, "the username is left in different states"
    assert fresh[0] == (202 if face == "json" else 200)
    for name in ("probe-a", "probe-b"):
        assert await svc.users.get_by_username(name) is None
    for email in ("other-a@example.com", "fresh@example.com", "other-b@example.com"):
        assert await accounts_with(svc, email) == 0, f"an account exists for {email}"
    assert await svc.users.count() == before

    [token] = await links(svc, "fresh@example.com")
    assert (await json_confirm(client, token))[0] == 200
    user = await svc.users.get_by_email("fresh@example.com")
    assert user is not None and user.username == "probe-b" and user.email_verified


@pytest.mark.parametrize("registered", [True, False], ids=["registered", "new"])
async def test_a_taken_username_is_refused_whatever_the_email(
        client: Any, make_user: Any, face: str, registered: bool) -> None:
    await make_user("popular")
    owner = await make_user("someone")
    email = owner.email if registered else "unheard-of@example.com"
    status, shown = await sign_up(client, face, "popular", email)
    assert status == 400
    if face == "json":
        assert codes(shown) == ["username_taken"]
    else:
        assert shown == "That username is taken."


# ---- confirming: single use, and identifiers taken while the sign-up waited -----------------

async def test_a_link_confirmed_50_times_at_once_creates_one_account(
        app: Any, svc: AuthService) -> None:
    assert (await json_sign_up(app.test_client(), "once", "once@example.com"))[0] == 202
    [token] = await links(svc, "once@example.com")
    answers = await asyncio.gather(*(json_confirm(app.test_client(), token)
                                     for _ in range(PARALLEL)))
    statuses = sorted(status for status, _ in answers)
    assert statuses == [200] + [400] * (PARALLEL - 1), statuses
    assert {tuple(codes(body)) for status, body in answers if status == 400} == {
        ("token_invalid",)}
    assert await accounts_with(svc, "once@example.com") == 1


async def test_a_username_taken_while_the_signup_waited_is_a_clear_409(
        client: Any, svc: AuthService, make_user: Any, face: str) -> None:
    await submit(client, "/auth/signup", {"username": "wanted", "email": "late@example.com",
                                          "password": PASSWORD}, face=face)
    [token] = await links(svc, "late@example.com")
    await make_user("wanted")  # an admin, or another sign-up confirmed first
    before = await svc.users.count()
    for _ in range(2):  # the link is not used up by the refusal: nothing is lost silently
        response = await submit(client, "/auth/verify", {"token": token}, face=face,
                                page=f"/auth/verify?token={token}")
        assert response.status_code == 409
        if face == "json":
            assert codes(await response.get_json()) == ["username_taken"]
        else:
            html = await response.get_data(as_text=True)
            assert "sign up again with another username" in html
            assert 'href="/auth/signup"' in html
    assert await accounts_with(svc, "late@example.com") == 0
    assert await svc.users.count() == before


async def test_an_address_registered_while_the_signup_waited_is_a_clear_409(
        client: Any, svc: AuthService, make_user: Any, face: str) -> None:
    await submit(client, "/auth/signup", {"username": "second", "email": "both@example.com",
                                          "password": PASSWORD}, face=face)
    [token] = await links(svc, "both@example.com")
    first = await make_user("first", email="both@example.com")
    response = await submit(client, "/auth/verify", {"token": token}, face=face,
                            page=f"/auth/verify?token={token}")
    assert response.status_code == 409
    if face == "json":
        assert codes(await response.get_json()) == ["account_exists"]
    else:
        assert "already has an account" in await response.get_data(as_text=True)
    assert await svc.users.get_by_username("second") is None
    user = await svc.users.get_by_email("both@example.com")
    assert user is not None and user.id == first.id


# ---- item 6: racing sign-ups of one new address ---------------------------------------------

@pytest.mark.settings(**RACE_CAPS)
async def test_50_parallel_signups_of_one_address_get_one_answer_and_at_most_one_account(
        app: Any, svc: AuthService) -> None:
    email = "contested@example.com"
    answers = await asyncio.gather(*(json_sign_up(app.test_client(), f"racer{n}", email)
                                     for n in range(PARALLEL)))
    assert all(a == ACCEPTED for a in answers), answers
    assert await accounts_with(svc, email) == 0
    tokens = await links(svc, email)
    assert len(tokens) == PARALLEL

    confirmed = await asyncio.gather(*(json_confirm(app.test_client(), t) for t in tokens))
    statuses = sorted(status for status, _ in confirmed)
    assert statuses == [200] + [409] * (PARALLEL - 1), statuses
    assert {tuple(codes(b)) for s, b in confirmed if s == 409} == {("account_exists",)}
    [winner] = [body["data"]["user"] for status, body in confirmed if status == 200]
    assert await accounts_with(svc, email) == 1
    user = await svc.users.get_by_email(email)
    assert user is not None and user.username == winner["username"] and user.email_verified


@pytest.mark.settings(REQUIRE_EMAIL_VERIFICATION=False, **RACE_CAPS)
async def test_without_verification_50_parallel_signups_of_one_address_make_one_account(
        app: Any, svc: AuthService) -> None:
    """The account is created at once, so the races run in the database: losers answer like
    a sign-up with a registered address (the owner gets the notice)."""
    email = "instant@example.com"
    answers = await asyncio.gather(*(json_sign_up(app.test_client(), f"sprinter{n}", email)
                                     for n in range(PARALLEL)))
    assert all(a == ACCEPTED for a in answers), answers
    assert await accounts_with(svc, email) == 1
    await svc.mail.drain()
    notices = [m for m in svc.mail.outbox.messages if m.kind == "account_exists"]
    assert len(notices) == PARALLEL - 1


# ---- resend for a pending sign-up: within the caps, the newest link works -------------------

async def test_resend_for_a_pending_signup_stays_within_the_hourly_cap(
        app: Any, svc: AuthService) -> None:
    client = app.test_client()
    assert await json_sign_up(client, "patient", "patient@example.com") == ACCEPTED
    answers = []
    for _ in range(6):
        response = await client.post("/auth/verify/resend", headers=JSON,
                                     json={"email": "patient@example.com"})
        answers.append((response.status_code, await response.get_json()))
    assert all(a == answers[0] for a in answers) and answers[0][0] == 202
    tokens = await links(svc, "patient@example.com")
    assert len(tokens) == svc.settings.mail_max_per_address_per_hour == 3
    for old in tokens[:-1]:
        assert (await json_confirm(client, old))[0] == 400, "an older link still works"
    status, body = await json_confirm(client, tokens[-1])
    assert status == 200 and body["data"]["user"]["username"] == "patient"


async def test_signups_of_one_new_address_send_at_most_the_hourly_cap_of_links(
        app: Any, svc: AuthService) -> None:
    answers = [await json_sign_up(app.test_client(), f"eager{n}", "inbox@example.com")
               for n in range(6)]
    assert all(a == ACCEPTED for a in answers), answers
    assert len(await links(svc, "inbox@example.com")) == 3

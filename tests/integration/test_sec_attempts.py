"""Issue 8 items 1, 5, 9, 10, 11 over HTTP: attempt limits under concurrency, change-password
throttling, credential changes voiding emailed tokens and pending MFA logins, enabling MFA ending
other sessions, and mail/lockout levers. Runs on SQLite and PostgreSQL.

Run with ``-s`` to see the item 1 figures (attempts sent in parallel, attempts verified).
"""

from __future__ import annotations

import asyncio
import re
from typing import Any

import pyotp
import pytest
from sqlalchemy import select

from quart_authtuna.core import AuthService
from quart_authtuna.core.db.models import AuditEvent, User
from tests._support.clock import FakeClock
from tests._support.web import ORIGIN, submit, token_from_link
from tests.conftest import PASSWORD

JSON = {"Origin": ORIGIN, "Accept": "application/json"}
WRONG = "definitely the wrong password"
NEW_PASSWORD = "an entirely different passphrase 42"
PARALLEL = 120


# ---- helpers -----------------------------------------------------------------------------

def from_ip(n: int) -> dict[str, Any]:
    """A distinct client address per ``n`` (the peer address; no proxy is trusted)."""
    return {"scope_base": {"client": (f"10.{n // 65536 % 256}.{n // 256 % 256}.{n % 256}",
                                      40000)}}


async def audit_count(svc: AuthService, event: str, **details: str) -> int:
    async with svc.transaction() as tx:
        rows = (await tx.scalars(select(AuditEvent).where(AuditEvent.event_type == event))).all()
    return len([r for r in rows if all(r.details.get(k) == v for k, v in details.items())])


async def verified_passwords(svc: AuthService) -> int:
    """LOGIN_FAILED rows whose password was really checked (not refused by the lock)."""
    async with svc.transaction() as tx:
        rows = (await tx.scalars(select(AuditEvent).where(
            AuditEvent.event_type == "LOGIN_FAILED"))).all()
    return len([r for r in rows if r.details.get("reason") != "locked"])


async def password_hash(svc: AuthService, user_id: str) -> str:
    async with svc.transaction() as tx:
        return str(await tx.scalar(select(User.password_hash).where(User.id == user_id)))


async def json_login(client: Any, who: str, password: str = PASSWORD, **kwargs: Any) -> Any:
    return await client.post("/auth/login", json={"username_or_email": who,
                                                  "password": password},
                             headers=JSON, **kwargs)


async def enable_totp(svc: AuthService, clock: FakeClock, user_id: str) -> str:
    setup = await svc.mfa.setup_totp(user_id)
    await svc.mfa.verify_and_enable_totp(user_id, pyotp.TOTP(setup.secret).at(clock.now))
    clock.advance(30)
    return setup.secret


async def pending_login(client: Any, who: str) -> str:
    """Sign in with the password of an MFA user: the pending login's mfa_token."""
    body = await (await json_login(client, who)).get_json()
    assert body["data"]["mfa_required"] is True, body
    return str(body["data"]["mfa_token"])


def wrong_codes(secret: str, clock: FakeClock, count: int) -> list[str]:
    """``count`` distinct six-digit codes none of which is valid now (any window)."""
    totp = pyotp.TOTP(secret)
    valid = {totp.at(clock.now + step * 30) for step in range(-2, 3)}
    codes = [f"{n:06d}" for n in range(100000, 100000 + count + len(valid))]
    return [c for c in codes if c not in valid][:count]


async def who(client: Any) -> str | None:
    response = await client.get("/protected", headers={"Accept": "application/json"})
    return (await response.get_json())["username"] if response.status_code == 200 else None


async def mails(svc: AuthService, kind: str, to: str) -> list[Any]:
    await svc.mail.drain()
    return [m for m in svc.mail.outbox.messages if m.kind == kind and m.to == to]


# ---- item 1: attempt limits hold under parallel requests -----------------------------------

async def test_parallel_wrong_passwords_from_many_addresses_verify_at_most_the_limit(
        app: Any, svc: AuthService, make_user: Any, backend: str) -> None:
    await make_user("besieged")
    limit = svc.settings.max_login_attempts_per_user
    responses = await asyncio.gather(*(
        json_login(app.test_client(), "besieged", f"{WRONG} {n}", **from_ip(n))
        for n in range(PARALLEL)))
    statuses = {r.status_code for r in responses}
    bodies = {str(await r.get_json()) for r in responses}
    verified = await verified_passwords(svc)
    print(f"\n[item 1, {backend}] password login: sent {PARALLEL} in parallel, "
          f"verified {verified} (limit {limit})")
    assert statuses == {401}, statuses
    assert len(bodies) == 1, "the lock answers exactly like a wrong password"
    assert 1 <= verified <= limit
    assert await audit_count(svc, "LOGIN_FAILED") == PARALLEL


async def test_parallel_wrong_codes_for_one_pending_login_verify_at_most_five(
        app: Any, svc: AuthService, clock: FakeClock, make_user: Any, backend: str) -> None:
    user = await make_user("coded")
    secret = await enable_totp(svc, clock, user.id)
    token = await pending_login(app.test_client(), "coded")
    codes = wrong_codes(secret, clock, PARALLEL)
    responses = await asyncio.gather(*(
        app.test_client().post("/mfa/validate-login", json={"mfa_token": token, "code": code},
                               headers=JSON, **from_ip(n))
        for n, code in enumerate(codes)))
    statuses = sorted(r.status_code for r in responses)
    verified = await audit_count(svc, "MFA_VALIDATION_FAILED")
    print(f"\n[item 1, {backend}] one pending MFA login: sent {len(codes)} in parallel, "
          f"verified {verified} (limit 5)")
    assert set(statuses) <= {400, 401, 429}, statuses
    assert 1 <= verified <= 5
    assert await audit_count(svc, "MFA_VALIDATION_SUCCESS") == 0
    assert statuses.count(401) == verified


async def test_parallel_wrong_codes_over_six_pending_logins_verify_at_most_five(
        app: Any, svc: AuthService, clock: FakeClock, make_user: Any, backend: str) -> None:
    user = await make_user("sixfold")
    secret = await enable_totp(svc, clock, user.id)
    tokens = [await pending_login(app.test_client(), "sixfold") for _ in range(6)]
    per_token = 80
    codes = wrong_codes(secret, clock, per_token * len(tokens))
    responses = await asyncio.gather(*(
        app.test_client().post("/mfa/validate-login",
                               json={"mfa_token": tokens[n % len(tokens)], "code": code},
                               headers=JSON, **from_ip(n))
        for n, code in enumerate(codes)))
    statuses = [r.status_code for r in responses]
    verified = await audit_count(svc, "MFA_VALIDATION_FAILED")
    print(f"\n[item 1, {backend}] six pending MFA logins of one account: sent {len(codes)} "
          f"in parallel, verified {verified} (limit 5 per challenge and 5 per account)")
    assert set(statuses) <= {400, 401, 429}, set(statuses)
    assert 1 <= verified <= svc.settings.max_login_attempts_per_user
    assert await audit_count(svc, "MFA_VALIDATION_SUCCESS") == 0


# ---- item 5: change password is throttled ---------------------------------------------------

async def test_change_password_is_throttled_and_changes_nothing_while_locked(
        client: Any, svc: AuthService, make_user: Any, login: Any, face: str) -> None:
    user = await make_user("changer")
    await login("changer", face=face)
    before = await password_hash(svc, user.id)
    limit = svc.settings.max_login_attempts_per_user
    statuses = []
    for _ in range(12):
        response = await submit(client, "/auth/change-password",
                                {"current_password": WRONG, "new_password": NEW_PASSWORD},
                                face=face)
        statuses.append(response.status_code)
    assert statuses == [401] * limit + [429] * (12 - limit), statuses
    right = await submit(client, "/auth/change-password",
                         {"current_password": PASSWORD, "new_password": NEW_PASSWORD},
                         face=face)
    assert right.status_code == 429
    assert int(right.headers["Retry-After"]) >= 1
    assert await password_hash(svc, user.id) == before
    assert await audit_count(svc, "PASSWORD_CHANGE_FAILED") == limit
    assert await audit_count(svc, "PASSWORD_CHANGED") == 0
    assert await who(client) == "changer", "the session itself stays signed in"


# ---- item 9: credential changes void outstanding tokens and pending MFA logins --------------

async def request_links(client: Any, svc: AuthService, email: str) -> tuple[str, str]:
    """A magic link and a reset link for ``email``, through the request pages."""
    for path in ("/auth/passwordless/request", "/auth/forgot-password"):
        response = await submit(client, path, {"email": email}, face="json")
        assert response.status_code == 202
    magic = (await mails(svc, "passwordless_login", email))[-1]
    reset = (await mails(svc, "password_reset", email))[-1]
    return (token_from_link(magic.text, "/auth/passwordless/login"),
            token_from_link(reset.text, "/auth/reset-password"))


async def redeem_magic(client: Any, token: str) -> Any:
    return await client.post("/auth/passwordless/login", json={"token": token}, headers=JSON)


async def redeem_reset(client: Any, token: str, password: str = "yet another passphrase 77"
                       ) -> Any:
    return await client.post("/auth/reset-password",
                             json={"token": token, "new_password": password}, headers=JSON)


@pytest.mark.settings(PASSWORDLESS_LOGIN_ENABLED=True)
async def test_links_requested_before_a_password_change_no_longer_work(
        app: Any, client: Any, svc: AuthService, make_user: Any, login: Any) -> None:
    user = await make_user("changing")
    magic, reset = await request_links(app.test_client(), svc, user.email)
    await login("changing", face="json")
    changed = await submit(client, "/auth/change-password",
                           {"current_password": PASSWORD, "new_password": NEW_PASSWORD},
                           face="json")
    assert changed.status_code == 200, await changed.get_data(as_text=True)
    stranger = app.test_client()
    assert (await redeem_magic(stranger, magic)).status_code == 400
    assert await who(stranger) is None
    assert (await redeem_reset(stranger, reset)).status_code == 400
    assert (await json_login(app.test_client(), "changing", NEW_PASSWORD)).status_code == 200


@pytest.mark.settings(PASSWORDLESS_LOGIN_ENABLED=True)
async def test_a_completed_reset_voids_the_other_outstanding_links(
        app: Any, svc: AuthService, make_user: Any) -> None:
    user = await make_user("resetting")
    magic, first_reset = await request_links(app.test_client(), svc, user.email)
    second = await submit(app.test_client(), "/auth/forgot-password", {"email": user.email},
                          face="json")
    assert second.status_code == 202
    mail = (await mails(svc, "password_reset", user.email))[-1]
    second_reset = token_from_link(mail.text, "/auth/reset-password")
    assert second_reset != first_reset
    assert (await redeem_reset(app.test_client(), second_reset, NEW_PASSWORD)).status_code == 200
    stranger = app.test_client()
    assert (await redeem_magic(stranger, magic)).status_code == 400
    assert await who(stranger) is None
    assert (await redeem_reset(stranger, first_reset)).status_code == 400
    assert (await json_login(app.test_client(), "resetting", NEW_PASSWORD)).status_code == 200


async def test_a_pending_mfa_login_from_before_a_password_change_is_refused(
        app: Any, client: Any, svc: AuthService, clock: FakeClock, make_user: Any,
        login: Any) -> None:
    user = await make_user("twofactor")
    await login("twofactor", face="json")  # signed in before MFA: this session stays
    secret = await enable_totp(svc, clock, user.id)
    # enabling MFA ended the session above; sign in again through both factors
    token = await pending_login(client, "twofactor")
    done = await client.post("/mfa/validate-login", headers=JSON, json={
        "mfa_token": token, "code": pyotp.TOTP(secret).at(clock.now)})
    assert done.status_code == 200
    clock.advance(30)

    attacker = app.test_client()
    stale = await pending_login(attacker, "twofactor")
    changed = await submit(client, "/auth/change-password",
                           {"current_password": PASSWORD, "new_password": NEW_PASSWORD},
                           face="json")
    assert changed.status_code == 200, await changed.get_data(as_text=True)
    refused = await attacker.post("/mfa/validate-login", headers=JSON, json={
        "mfa_token": stale, "code": pyotp.TOTP(secret).at(clock.now)})
    assert refused.status_code == 400, await refused.get_data(as_text=True)
    assert await who(attacker) is None
    assert await audit_count(svc, "MFA_VALIDATION_SUCCESS") == 1, "the code was not even checked"


# ---- item 10: enabling MFA ends the other sessions ------------------------------------------

async def test_enabling_totp_ends_the_other_sessions_and_says_so(
        app: Any, client: Any, svc: AuthService, clock: FakeClock, make_user: Any,
        login: Any) -> None:
    user = await make_user("enroller")
    await login("enroller")
    other = app.test_client()
    assert (await json_login(other, "enroller")).status_code == 200
    assert await who(other) == "enroller"

    page = await (await client.get("/mfa/setup")).get_data(as_text=True)
    secret = re.search(r'class="at-secret">([A-Z2-7]+)<', page).group(1)
    csrf = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page).group(1)
    response = await client.post("/mfa/setup", form={
        "code": pyotp.TOTP(secret).at(clock.now), "csrf_token": csrf})
    html = await response.get_data(as_text=True)
    assert response.status_code == 200, html
    assert "Your other sessions were signed out." in html

    assert await who(client) == "enroller", "the session that enrolled stays signed in"
    assert await who(other) is None, "the other session is over"
    assert len(await svc.sessions.get_all_for_user(user.id)) == 1
    [mail] = await mails(svc, "mfa_added", user.email)
    assert "every other session of your account was signed out" in mail.text


# ---- item 11: mail and lockout levers -------------------------------------------------------

async def test_signups_with_a_registered_address_send_at_most_the_hourly_cap(
        app: Any, svc: AuthService, make_user: Any) -> None:
    owner = await make_user("registered")
    answers = []
    for n in range(6):
        response = await app.test_client().post("/auth/signup", headers=JSON, json={
            "username": f"newcomer{n}", "email": owner.email, "password": PASSWORD})
        answers.append((response.status_code, await response.get_json()))
    assert all(a == answers[0] for a in answers), answers
    sent = await mails(svc, "account_exists", owner.email)
    assert len(sent) == svc.settings.mail_max_per_address_per_hour == 3


async def test_resend_verification_sends_at_most_the_hourly_cap(
        app: Any, svc: AuthService, make_user: Any) -> None:
    user = await make_user("unverified", email_verified=False)
    answers = []
    for _ in range(6):
        response = await app.test_client().post("/auth/verify/resend", headers=JSON,
                                                json={"email": user.email})
        answers.append((response.status_code, await response.get_json()))
    assert all(a == answers[0] for a in answers), answers
    assert answers[0][0] == 202
    assert len(await mails(svc, "verification", user.email)) == 3


@pytest.mark.settings(MAX_TOKEN_REQUESTS_PER_IP_PER_HOUR=4)
async def test_a_stranger_asking_for_reset_mails_is_limited_per_address_not_per_victim(
        app: Any, svc: AuthService, make_user: Any) -> None:
    """The stranger's requests are limited per requesting IP (429 to them); the victim's
    address gets at most the hourly cap, silently. What holds for the owner: after strangers
    filled the address's cap, the owner's own request (another IP) is answered 202 but sends
    no mail until the hour is over (no per-user daily quota is burnt)."""
    victim = await make_user("victim")
    stranger = app.test_client()
    statuses = []
    for _ in range(6):
        response = await stranger.post("/auth/forgot-password", headers=JSON,
                                        json={"email": victim.email}, **from_ip(7))
        statuses.append(response.status_code)
    assert statuses == [202] * 4 + [429] * 2, statuses
    assert len(await mails(svc, "password_reset", victim.email)) == 3
    # a request for another address from the stranger's IP is refused too
    response = await stranger.post("/auth/forgot-password", headers=JSON,
                                   json={"email": "other@example.com"}, **from_ip(7))
    assert response.status_code == 429
    # the owner, from elsewhere, is not refused
    owner = await app.test_client().post("/auth/forgot-password", headers=JSON,
                                         json={"email": victim.email}, **from_ip(8))
    assert owner.status_code == 202


async def test_the_owner_on_a_trusted_device_still_gets_a_reset_mail_after_strangers(
        app: Any, svc: AuthService, make_user: Any) -> None:
    """Strangers fill the address's hourly cap; the owner, on a browser that signed in to
    the account before (its device cookie), is counted on its own key and gets the mail."""
    victim = await make_user("owner")
    owner = app.test_client()
    assert (await json_login(owner, "owner", **from_ip(20))).status_code == 200
    assert (await owner.post("/auth/logout", headers=JSON, json={})).status_code == 200
    for n in range(3):  # three strangers, three addresses: the address cap is full
        response = await app.test_client().post("/auth/forgot-password", headers=JSON,
                                                json={"email": victim.email}, **from_ip(30 + n))
        assert response.status_code == 202
    assert len(await mails(svc, "password_reset", victim.email)) == 3
    stranger = await app.test_client().post("/auth/forgot-password", headers=JSON,
                                            json={"email": victim.email}, **from_ip(40))
    assert stranger.status_code == 202
    assert len(await mails(svc, "password_reset", victim.email)) == 3  # silently capped
    mine = await owner.post("/auth/forgot-password", headers=JSON,
                            json={"email": victim.email}, **from_ip(20))
    assert mine.status_code == 202
    assert len(await mails(svc, "password_reset", victim.email)) == 4  # the owner's went out


@pytest.mark.settings(MAX_LOGIN_ATTEMPTS_PER_USER=3)
async def test_a_lock_by_username_makes_the_email_answer_like_an_unrelated_email(
        app: Any, svc: AuthService, make_user: Any, face: str) -> None:
    await make_user("linked", email="linked.person@example.com")
    attacker = app.test_client()
    for _ in range(3):
        assert (await submit(attacker, "/auth/login",
                             {"username_or_email": "linked", "password": WRONG},
                             face=face)).status_code == 401

    async def answer(identifier: str) -> tuple[int, Any]:
        response = await submit(app.test_client(), "/auth/login",
                                {"username_or_email": identifier, "password": WRONG},
                                face=face)
        if face == "json":
            return response.status_code, await response.get_json()
        html = await response.get_data(as_text=True)
        return response.status_code, re.sub(r'value="[^"]*"', 'value=""', html)

    same_account = await answer("linked.person@example.com")
    unrelated = await answer("unrelated.person@example.com")
    assert same_account == unrelated
    assert same_account[0] == 401
    assert await audit_count(svc, "LOGIN_FAILED", reason="locked") == 1



@pytest.mark.settings(MAX_LOGIN_ATTEMPTS_PER_IP=4)
async def test_passkey_assertions_count_as_sign_in_attempts_per_address(app: Any) -> None:
    """A passkey sign-in reserves an attempt for the requesting address before verifying."""
    client = app.test_client()
    statuses = []
    for _ in range(6):
        response = await client.post("/passkeys/login", headers=JSON, **from_ip(50),
                                     json={"credential": {"id": "x", "rawId": "x",
                                                          "response": {}, "type": "public-key"}})
        statuses.append(response.status_code)
    assert statuses[:4] == [401] * 4 and statuses[4:] == [429, 429], statuses
    other = await app.test_client().post("/passkeys/login", headers=JSON, **from_ip(51),
                                         json={"credential": {}})
    assert other.status_code == 401  # another address is not affected


# ---- item 1 again: every other secret check holds under parallel requests -------------------

async def signed_in_json(app: Any, who: str) -> Any:
    """A client signed in with the password (JSON), keeping its cookies."""
    client = app.test_client()
    assert (await json_login(client, who, **from_ip(99))).status_code == 200
    return client


async def test_parallel_wrong_passwords_to_reauthenticate_verify_at_most_the_limit(
        app: Any, svc: AuthService, make_user: Any, backend: str) -> None:
    await make_user("again")
    client = await signed_in_json(app, "again")
    responses = await asyncio.gather(*(
        client.post("/auth/reauthenticate", json={"password": f"{WRONG} {n}"}, headers=JSON)
        for n in range(PARALLEL)))
    verified = await audit_count(svc, "REAUTHENTICATION_FAILED")
    limit = svc.settings.max_login_attempts_per_user
    print(f"\n[item 1, {backend}] re-authentication: sent {PARALLEL} in parallel, "
          f"verified {verified} (limit {limit})")
    assert {r.status_code for r in responses} <= {401, 429}
    assert 1 <= verified <= limit


async def test_parallel_wrong_current_passwords_verify_at_most_the_limit(
        app: Any, svc: AuthService, make_user: Any, backend: str) -> None:
    user = await make_user("rotator")
    before = await password_hash(svc, user.id)
    client = await signed_in_json(app, "rotator")
    responses = await asyncio.gather(*(
        client.post("/auth/change-password", headers=JSON, json={
            "current_password": f"{WRONG} {n}", "new_password": NEW_PASSWORD})
        for n in range(PARALLEL)))
    verified = await audit_count(svc, "PASSWORD_CHANGE_FAILED")
    limit = svc.settings.max_login_attempts_per_user
    print(f"\n[item 1, {backend}] change password: sent {PARALLEL} in parallel, "
          f"verified {verified} (limit {limit})")
    assert {r.status_code for r in responses} <= {401, 429}
    assert 1 <= verified <= limit
    assert await password_hash(svc, user.id) == before


async def test_parallel_wrong_codes_to_turn_mfa_off_verify_at_most_the_limit(
        app: Any, svc: AuthService, clock: FakeClock, make_user: Any, backend: str) -> None:
    user = await make_user("keeper")
    secret = await enable_totp(svc, clock, user.id)
    client = app.test_client()
    pending = await pending_login(client, "keeper")
    done = await client.post("/mfa/validate-login", headers=JSON, json={
        "mfa_token": pending, "code": pyotp.TOTP(secret).at(clock.now)})
    assert done.status_code == 200, await done.get_data(as_text=True)
    failed_before = await audit_count(svc, "MFA_VALIDATION_FAILED")
    codes = wrong_codes(secret, clock, PARALLEL)
    responses = await asyncio.gather(*(
        client.post("/mfa/disable", json={"code": code}, headers=JSON) for code in codes))
    verified = await audit_count(svc, "MFA_VALIDATION_FAILED") - failed_before
    limit = svc.settings.max_login_attempts_per_user
    print(f"\n[item 1, {backend}] turning MFA off: sent {len(codes)} in parallel, "
          f"verified {verified} (limit {limit})")
    assert {r.status_code for r in responses} <= {401, 429}
    assert 1 <= verified <= limit
    async with svc.transaction() as tx:
        assert (await tx.get(User, user.id)).mfa_enabled  # type: ignore[union-attr]


@pytest.mark.settings(MAX_LOGIN_ATTEMPTS_PER_IP=5)
async def test_parallel_passkey_assertions_from_one_address_verify_at_most_the_limit(
        app: Any, backend: str) -> None:
    bogus = {"credential": {"id": "x", "rawId": "x", "response": {}, "type": "public-key"}}
    responses = await asyncio.gather(*(
        app.test_client().post("/passkeys/login", json=bogus, headers=JSON, **from_ip(60))
        for _ in range(PARALLEL)))
    statuses = [r.status_code for r in responses]
    print(f"\n[item 1, {backend}] passkey sign-in: sent {PARALLEL} in parallel from one "
          f"address, verified {statuses.count(401)} (limit 5)")
    assert set(statuses) <= {401, 429}
    assert 1 <= statuses.count(401) <= 5

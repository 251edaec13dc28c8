"""Login throttling through /auth/login: per account, per IP, shared through the database.

The account lock is silent: a locked account answers exactly like a wrong password (401
invalid_credentials), even to the right password, so a lock links no username to an email.
Requester keys (the client address, a trusted device) answer 429. A browser that signed in
before carries a signed device cookie that exempts it from the account lock.
"""

from __future__ import annotations

import re
from typing import Any

import pytest
from sqlalchemy import select

from quart_authtuna.core import AuthService
from quart_authtuna.core.db.models import AuditEvent, ThrottleCounter
from tests._support.clock import FakeClock
from tests._support.web import submit, token_from_link
from tests.conftest import PASSWORD
from tests.integration.conftest import app_on_same_database

WRONG = "definitely the wrong password"
NEW_PASSWORD = "a fresh start passphrase 9"
DEVICE_COOKIE = "authtuna_device"
pytestmark = pytest.mark.settings(MAX_LOGIN_ATTEMPTS_PER_USER=3)


async def attempt(client: Any, face: str, who: str, password: str = WRONG, **kwargs: Any
                  ) -> Any:
    return await submit(client, "/auth/login", {"username_or_email": who, "password": password},
                        face=face, **kwargs)


async def fail_times(client: Any, face: str, who: str, times: int, **kwargs: Any) -> None:
    for _ in range(times):
        response = await attempt(client, face, who, **kwargs)
        assert response.status_code == 401, "failures before the limit are plain 401s"


async def assert_throttled(response: Any, face: str) -> int:
    """429 with a Retry-After; returns the advertised wait."""
    assert response.status_code == 429, await response.get_data(as_text=True)
    retry_after = int(response.headers["Retry-After"])
    assert retry_after >= 1
    if face == "json":
        assert (await response.get_json())["errors"][0]["code"] == "rate_limited"
    else:
        assert "Too many attempts" in await response.get_data(as_text=True)
    assert not [h for h in response.headers.getlist("Set-Cookie")
                if h.startswith("session_token=")]
    return retry_after


async def refusal(response: Any, face: str) -> tuple[int, Any]:
    """The answer a client sees, minus what differs per request (CSRF, the echoed name)."""
    if face == "json":
        return response.status_code, await response.get_json()
    html = await response.get_data(as_text=True)
    return response.status_code, re.sub(r'value="[^"]*"', 'value=""', html)


async def assert_refused_like_a_wrong_password(response: Any, face: str) -> None:
    """401 invalid_credentials, no Retry-After, no session and no device cookie."""
    body = await response.get_data(as_text=True)
    assert response.status_code == 401, body
    assert "Retry-After" not in response.headers
    if face == "json":
        assert (await response.get_json())["errors"][0]["code"] == "invalid_credentials"
    else:
        assert "Invalid username/email or password." in body
    cookies = response.headers.getlist("Set-Cookie")
    assert not [h for h in cookies if h.startswith(("session_token=", DEVICE_COOKIE))], cookies


def ok(response: Any) -> bool:
    return response.status_code in (200, 302)


async def login_failures(svc: AuthService) -> list[str]:
    """The reason of every LOGIN_FAILED audit row, oldest first."""
    async with svc.transaction() as tx:
        rows = (await tx.scalars(select(AuditEvent).where(
            AuditEvent.event_type == "LOGIN_FAILED").order_by(AuditEvent.id))).all()
    return [r.details.get("reason") for r in rows]


async def lock_left(svc: AuthService, user_id: str) -> float:
    """Seconds until the account key of ``user_id`` opens (0 when unlocked)."""
    async with svc.transaction() as tx:
        until = await tx.scalar(select(ThrottleCounter.locked_until).where(
            ThrottleCounter.key == f"acct:id:{user_id}"))
    return max(0.0, float(until or 0.0) - svc.clock())


def device_cookie(client: Any) -> str | None:
    return next((c.value for c in client.cookie_jar if c.name == DEVICE_COOKIE), None)


# --- per account -----------------------------------------------------------------------------

async def test_account_is_locked_after_the_limit_even_for_the_right_password(
        client: Any, svc: AuthService, make_user: Any, face: str) -> None:
    user = await make_user("target")
    await fail_times(client, face, "target", 3)
    wait = await lock_left(svc, user.id)
    assert 1 <= wait <= 30
    await assert_refused_like_a_wrong_password(await attempt(client, face, "target", PASSWORD),
                                               face)
    assert (await client.get("/protected", headers={"Accept": "application/json"})
            ).status_code == 401
    assert await login_failures(svc) == ["bad_password"] * 3 + ["locked"], \
        "the right password is not even checked while the account is locked"


async def test_lock_is_for_the_account_not_for_everyone(app: Any, client: Any, make_user: Any,
                                                        face: str) -> None:
    await make_user("locked")
    await make_user("bystander")
    await fail_times(client, face, "locked", 3)
    await assert_refused_like_a_wrong_password(await attempt(client, face, "locked", PASSWORD),
                                               face)
    assert ok(await attempt(app.test_client(), face, "bystander", PASSWORD))


async def test_username_case_variants_and_email_share_one_counter(
        app: Any, client: Any, svc: AuthService, make_user: Any, face: str) -> None:
    await make_user("CaseUser", email="case.user@example.com")
    for variant in ("CaseUser", "caseuser", "CASE.USER@EXAMPLE.COM"):
        assert (await attempt(client, face, variant)).status_code == 401
    await assert_refused_like_a_wrong_password(
        await attempt(client, face, "cAsEuSeR", PASSWORD), face)
    # after the limit reached by username, the email refuses the right password too...
    by_email = await attempt(app.test_client(), face, "case.user@example.com", PASSWORD)
    await assert_refused_like_a_wrong_password(by_email, face)
    # ...exactly as an unrelated, unknown email answers: nothing links the two.
    stranger = await attempt(app.test_client(), face, "someone.else@example.com", PASSWORD)
    assert await refusal(by_email, face) == await refusal(stranger, face)
    assert await login_failures(svc) == ["bad_password"] * 3 + ["locked", "locked",
                                                                "unknown_user"]


async def test_unknown_accounts_are_locked_like_real_ones(
        app: Any, svc: AuthService, make_user: Any, face: str) -> None:
    await make_user("realperson")
    answers = {}
    for who in ("realperson", "no-such-person"):
        client = app.test_client()
        await fail_times(client, face, who, 3)
        answers[who] = await refusal(await attempt(client, face, who.upper()), face)
    assert answers["realperson"] == answers["no-such-person"]
    assert answers["realperson"][0] == 401
    reasons = await login_failures(svc)
    assert reasons == (["bad_password"] * 3 + ["locked"] + ["unknown_user"] * 3 + ["locked"])


async def test_lock_expires_and_grows_when_failures_continue(
        client: Any, clock: FakeClock, svc: AuthService, make_user: Any, face: str) -> None:
    user = await make_user("patient")
    await fail_times(client, face, "patient", 3)
    first_wait = await lock_left(svc, user.id)
    await assert_refused_like_a_wrong_password(await attempt(client, face, "patient", PASSWORD),
                                               face)
    clock.advance(first_wait + 1)
    assert (await attempt(client, face, "patient")).status_code == 401
    second_wait = await lock_left(svc, user.id)
    assert second_wait > first_wait, "each further failure doubles the delay"
    await assert_refused_like_a_wrong_password(await attempt(client, face, "patient", PASSWORD),
                                               face)
    clock.advance(second_wait + 1)
    assert ok(await attempt(client, face, "patient", PASSWORD))


async def test_a_success_clears_the_account_counter(client: Any, make_user: Any,
                                                    face: str) -> None:
    await make_user("forgiven")
    await fail_times(client, face, "forgiven", 2)
    assert ok(await attempt(client, face, "forgiven", PASSWORD))
    await fail_times(client, face, "forgiven", 2)
    assert ok(await attempt(client, face, "forgiven", PASSWORD))


async def test_failures_outside_the_window_do_not_add_up(client: Any, clock: FakeClock,
                                                         svc: AuthService, make_user: Any,
                                                         face: str) -> None:
    await make_user("slowpoke")
    await fail_times(client, face, "slowpoke", 2)
    clock.advance(svc.settings.login_rate_limit_window_seconds + 1)
    await fail_times(client, face, "slowpoke", 2)
    assert ok(await attempt(client, face, "slowpoke", PASSWORD))


async def test_a_locked_account_can_reset_its_password_and_then_sign_in(
        client: Any, svc: AuthService, make_user: Any, face: str) -> None:
    user = await make_user("resetter")
    await fail_times(client, face, "resetter", 3)
    await assert_refused_like_a_wrong_password(
        await attempt(client, face, "resetter", PASSWORD), face)

    response = await submit(client, "/auth/forgot-password", {"email": user.email}, face=face)
    assert response.status_code in (200, 202)
    await svc.mail.drain()
    mail = svc.mail.outbox.last("password_reset", user.email)
    assert mail is not None
    token = token_from_link(mail.text, "/auth/reset-password")
    response = await submit(client, "/auth/reset-password",
                            {"token": token, "new_password": NEW_PASSWORD}, face=face,
                            page=f"/auth/reset-password?token={token}")
    assert response.status_code == 200
    assert await lock_left(svc, user.id) == 0
    assert ok(await attempt(client, face, "resetter", NEW_PASSWORD)), "the reset clears the lock"


async def test_reauthentication_failures_are_throttled_per_session(
        client: Any, make_user: Any, face: str) -> None:
    await make_user("guesser")
    assert ok(await attempt(client, face, "guesser", PASSWORD))
    for _ in range(3):
        response = await submit(client, "/auth/reauthenticate", {"password": WRONG}, face=face)
        assert response.status_code == 401
    response = await submit(client, "/auth/reauthenticate", {"password": PASSWORD}, face=face)
    await assert_throttled(response, face)


# --- trusted devices -------------------------------------------------------------------------

async def test_a_device_that_signed_in_before_is_not_locked_out_by_strangers(
        app: Any, make_user: Any, svc: AuthService, face: str) -> None:
    await make_user("owner")
    own = app.test_client()
    assert ok(await attempt(own, face, "owner", PASSWORD))
    assert device_cookie(own), "a successful sign-in leaves a device cookie"
    await submit(own, "/auth/logout", {}, face=face, page="/auth/change-password")
    assert (await own.get("/protected", headers={"Accept": "application/json"})
            ).status_code == 401
    assert device_cookie(own), "signing out keeps the device trusted"

    stranger = app.test_client()
    await fail_times(stranger, face, "owner", 3)
    await assert_refused_like_a_wrong_password(
        await attempt(stranger, face, "owner", PASSWORD), face)
    assert ok(await attempt(own, face, "owner", PASSWORD)), "the owner's device still gets in"
    assert (await own.get("/protected", headers={"Accept": "application/json"})
            ).status_code == 200
    # the owner's success does not open the account to the stranger
    await assert_refused_like_a_wrong_password(
        await attempt(stranger, face, "owner", PASSWORD), face)


async def test_a_trusted_device_has_its_own_limit(app: Any, make_user: Any, face: str) -> None:
    await make_user("forgetful")
    await make_user("neighbour")
    own = app.test_client()
    assert ok(await attempt(own, face, "forgetful", PASSWORD))
    await submit(own, "/auth/logout", {}, face=face, page="/auth/change-password")
    await fail_times(own, face, "forgetful", 3)
    await assert_throttled(await attempt(own, face, "forgetful", PASSWORD), face)
    assert ok(await attempt(app.test_client(), face, "neighbour", PASSWORD))


# --- across processes ------------------------------------------------------------------------

@pytest.fixture
async def second_app(svc: AuthService, app_settings: dict[str, Any], clock: FakeClock) -> Any:
    """Another app (as another worker would be) on the very same database."""
    async with app_on_same_database(svc, app_settings, clock) as test_app:
        yield test_app


async def test_a_lock_set_through_one_app_holds_in_another_on_the_same_database(
        client: Any, second_app: Any, svc: AuthService, make_user: Any, face: str) -> None:
    await make_user("roamer")
    await fail_times(client, face, "roamer", 3)
    elsewhere = second_app.test_client()
    await assert_refused_like_a_wrong_password(
        await attempt(elsewhere, face, "ROAMER", PASSWORD), face)
    assert (await login_failures(svc))[-1] == "locked"


async def test_failures_spread_over_two_apps_add_up(client: Any, second_app: Any,
                                                    svc: AuthService, make_user: Any,
                                                    face: str) -> None:
    await make_user("splitter")
    elsewhere = second_app.test_client()
    await fail_times(client, face, "splitter", 2)
    await fail_times(elsewhere, face, "splitter", 1)
    await assert_refused_like_a_wrong_password(
        await attempt(client, face, "splitter", PASSWORD), face)
    await assert_refused_like_a_wrong_password(
        await attempt(elsewhere, face, "splitter", PASSWORD), face)
    assert (await login_failures(svc))[-2:] == ["locked", "locked"]


# --- per IP ----------------------------------------------------------------------------------

def from_ip(address: str) -> dict[str, Any]:
    return {"scope_base": {"client": (address, 40000)}}


@pytest.mark.settings(MAX_LOGIN_ATTEMPTS_PER_IP=4)
async def test_many_usernames_from_one_ip_are_throttled(client: Any, make_user: Any,
                                                        face: str) -> None:
    await make_user("realone")
    for n in range(4):
        response = await attempt(client, face, f"sprayed{n}", **from_ip("203.0.113.7"))
        assert response.status_code == 401
    response = await attempt(client, face, "realone", PASSWORD, **from_ip("203.0.113.7"))
    await assert_throttled(response, face)
    spoofed = await attempt(client, face, "realone", PASSWORD,
                            headers={"X-Forwarded-For": "198.51.100.1"},
                            **from_ip("203.0.113.7"))
    await assert_throttled(spoofed, face)


@pytest.mark.settings(MAX_LOGIN_ATTEMPTS_PER_IP=4)
async def test_the_ip_limit_does_not_reach_other_addresses(app: Any, client: Any,
                                                           make_user: Any, face: str) -> None:
    await make_user("neighbour")
    for n in range(4):
        await attempt(client, face, f"sprayed{n}", **from_ip("203.0.113.8"))
    other = app.test_client()
    assert ok(await attempt(other, face, "neighbour", PASSWORD, **from_ip("198.51.100.9")))

"""Login throttling through /auth/login: per account, per IP, shared through the database."""

from __future__ import annotations

from typing import Any

import pytest

from quart_authtuna.core import AuthService
from tests._support.clock import FakeClock
from tests._support.web import submit, token_from_link
from tests.conftest import PASSWORD
from tests.integration.conftest import app_on_same_database

WRONG = "definitely the wrong password"
NEW_PASSWORD = "a fresh start passphrase 9"
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


def ok(response: Any) -> bool:
    return response.status_code in (200, 302)


# --- per account -----------------------------------------------------------------------------

async def test_account_is_locked_after_the_limit_even_for_the_right_password(
        client: Any, make_user: Any, face: str) -> None:
    await make_user("target")
    await fail_times(client, face, "target", 3)
    wait = await assert_throttled(await attempt(client, face, "target", PASSWORD), face)
    assert 1 <= wait <= 30
    assert (await client.get("/protected", headers={"Accept": "application/json"})
            ).status_code == 401


async def test_lock_is_for_the_account_not_for_everyone(app: Any, client: Any, make_user: Any,
                                                        face: str) -> None:
    await make_user("locked")
    await make_user("bystander")
    await fail_times(client, face, "locked", 3)
    await assert_throttled(await attempt(client, face, "locked", PASSWORD), face)
    assert ok(await attempt(app.test_client(), face, "bystander", PASSWORD))


async def test_username_case_variants_and_email_share_one_counter(
        client: Any, make_user: Any, face: str) -> None:
    await make_user("CaseUser", email="case.user@example.com")
    for variant in ("CaseUser", "caseuser", "CASE.USER@EXAMPLE.COM"):
        assert (await attempt(client, face, variant)).status_code == 401
    await assert_throttled(await attempt(client, face, "cAsEuSeR", PASSWORD), face)


async def test_unknown_accounts_are_throttled_like_real_ones(client: Any, face: str) -> None:
    await fail_times(client, face, "no-such-person", 3)
    await assert_throttled(await attempt(client, face, "NO-SUCH-PERSON"), face)


async def test_lock_expires_and_grows_when_failures_continue(
        client: Any, clock: FakeClock, make_user: Any, face: str) -> None:
    await make_user("patient")
    await fail_times(client, face, "patient", 3)
    first_wait = await assert_throttled(await attempt(client, face, "patient", PASSWORD), face)
    clock.advance(first_wait + 1)
    assert (await attempt(client, face, "patient")).status_code == 401
    second_wait = await assert_throttled(await attempt(client, face, "patient", PASSWORD), face)
    assert second_wait > first_wait, "each further failure doubles the delay"
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
    await assert_throttled(await attempt(client, face, "resetter", PASSWORD), face)

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
    assert ok(await attempt(client, face, "resetter", NEW_PASSWORD)), "the reset clears the lock"


async def test_reauthentication_failures_count_towards_the_account_lock(
        client: Any, make_user: Any, face: str) -> None:
    await make_user("guesser")
    assert ok(await attempt(client, face, "guesser", PASSWORD))
    for _ in range(3):
        response = await submit(client, "/auth/reauthenticate", {"password": WRONG}, face=face)
        assert response.status_code == 401
    response = await submit(client, "/auth/reauthenticate", {"password": PASSWORD}, face=face)
    await assert_throttled(response, face)


# --- across processes ------------------------------------------------------------------------

@pytest.fixture
async def second_app(svc: AuthService, app_settings: dict[str, Any], clock: FakeClock) -> Any:
    """Another app (as another worker would be) on the very same database."""
    async with app_on_same_database(svc, app_settings, clock) as test_app:
        yield test_app


async def test_a_lock_set_through_one_app_holds_in_another_on_the_same_database(
        client: Any, second_app: Any, make_user: Any, face: str) -> None:
    await make_user("roamer")
    await fail_times(client, face, "roamer", 3)
    elsewhere = second_app.test_client()
    await assert_throttled(await attempt(elsewhere, face, "ROAMER", PASSWORD), face)


async def test_failures_spread_over_two_apps_add_up(client: Any, second_app: Any,
                                                    make_user: Any, face: str) -> None:
    await make_user("splitter")
    elsewhere = second_app.test_client()
    await fail_times(client, face, "splitter", 2)
    await fail_times(elsewhere, face, "splitter", 1)
    await assert_throttled(await attempt(client, face, "splitter", PASSWORD), face)
    await assert_throttled(await attempt(elsewhere, face, "splitter", PASSWORD), face)


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

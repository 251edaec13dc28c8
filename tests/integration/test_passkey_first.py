"""Passkey-first sign-up over HTTP: no account until the emailed link's ceremony, then an
account with a passkey, recovery codes and no password; what such an account can do later."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import func, select

from quart_authtuna.core import AuthService
from quart_authtuna.core.db.models import PasskeyCredential, PendingSignup
from tests._support.passkey_signup import (
    FINISH,
    JSON,
    authenticator,
    ceremony,
    emailed_token,
    sign_up_with_passkey,
    start,
)
from tests._support.web import submit, token_from_link
from tests.conftest import PASSWORD


async def count(svc: AuthService, model: Any) -> int:
    async with svc.transaction() as tx:
        return int(await tx.scalar(select(func.count()).select_from(model)) or 0)


async def error_code(response: Any) -> str:
    return str((await response.get_json())["errors"][0]["code"])


async def test_the_emailed_link_runs_the_ceremony_and_creates_the_account(
        client: Any, svc: AuthService, face: str) -> None:
    started = await start(client, "ada", "ada@example.com", face)
    assert started.status_code == (202 if face == "json" else 200)
    assert "Check your email" in await started.get_data(as_text=True) or face == "json"
    assert await svc.users.get_by_email("ada@example.com") is None  # nothing created yet
    async with svc.transaction() as tx:
        held = (await tx.scalars(select(PendingSignup))).one()
    assert held.password_hash is None
    token = await emailed_token(svc, "ada@example.com")
    page = await client.get(f"{FINISH}?token={token}")
    html = await page.get_data(as_text=True)
    assert page.status_code == 200 and 'data-authtuna-passkey="signup"' in html
    assert f'data-token="{token}"' in html and "ada@example.com" in html
    device = authenticator(svc)
    done = await ceremony(client, token, device)
    assert done.status_code == 201, await done.get_data(as_text=True)
    data = (await done.get_json())["data"]
    assert data["user"]["username"] == "ada" and data["user"]["email_verified"] is True
    assert len(data["recovery_codes"]) == 10 and data["next"] == "/ui/settings"
    user = await svc.users.get_by_username("ada")
    assert user is not None and user.password_hash is None
    assert [k.nickname for k in await svc.passkeys.list(user.id)] == ["Laptop"]
    assert await svc.mfa.remaining_recovery_codes(user.id) == 10
    assert (await client.get("/protected")).status_code == 200  # signed in
    assert await count(svc, PendingSignup) == 0
    again = await client.post("/passkeys/signup/options", json={"token": token},
                              headers=JSON)  # the link is spent
    assert again.status_code == 400 and await error_code(again) == "token_invalid"


async def test_the_passkey_signs_in_afterwards(app: Any, svc: AuthService) -> None:
    _, device = await sign_up_with_passkey(app.test_client(), svc, "bob", "bob@example.com")
    client = app.test_client()
    options = await client.post("/passkeys/login-options", json={}, headers=JSON)
    signed = await client.post("/passkeys/login", headers=JSON, json={
        "credential": device.get((await options.get_json())["data"])})
    assert signed.status_code == 200
    assert (await signed.get_json())["data"]["user"]["username"] == "bob"


@pytest.mark.settings(REQUIRE_EMAIL_VERIFICATION=False)
async def test_without_verification_this_browser_runs_the_ceremony_at_once(
        client: Any, svc: AuthService) -> None:
    page = await start(client, "cyd", "cyd@example.com", "html")
    html = await page.get_data(as_text=True)
    assert page.status_code == 200 and 'data-authtuna-passkey="signup"' in html
    started = await start(client, "cyd", "cyd@example.com", "json")
    token = (await started.get_json())["data"]["signup_token"]
    done = await ceremony(client, token, authenticator(svc))
    assert done.status_code == 201
    await svc.mail.drain()
    assert svc.mail.outbox.last("verification", "cyd@example.com") is None


async def test_a_registered_address_gets_the_same_answer_and_a_notice(
        client: Any, svc: AuthService, make_user: Any) -> None:
    await make_user("dee", email="dee@example.com")
    started = await start(client, "dee2", "dee@example.com")
    assert started.status_code == 202
    assert (await started.get_json())["data"] == {"message": "check_email"}
    await svc.mail.drain()
    assert svc.mail.outbox.last("account_exists", "dee@example.com") is not None
    assert await count(svc, PendingSignup) == 0


async def test_a_taken_username_is_refused_on_the_form(client: Any, make_user: Any) -> None:
    await make_user("eve")
    refused = await start(client, "eve", "new@example.com")
    assert refused.status_code == 409 or refused.status_code == 400
    assert await error_code(refused) == "username_taken"


async def test_the_password_confirm_page_refuses_a_passkey_link(
        client: Any, svc: AuthService) -> None:
    await start(client, "fay", "fay@example.com")
    token = await emailed_token(svc, "fay@example.com")
    refused = await submit(client, "/auth/verify", {"token": token}, face="json")
    assert refused.status_code == 400 and await error_code(refused) == "token_invalid"
    assert await count(svc, PendingSignup) == 1  # the link still works for the ceremony
    assert (await ceremony(client, token, authenticator(svc))).status_code == 201


async def test_a_ceremony_cannot_finish_another_signup(client: Any, svc: AuthService) -> None:
    await start(client, "gil", "gil@example.com")
    await start(client, "hal", "hal@example.com")
    mine = await emailed_token(svc, "gil@example.com")
    theirs = await emailed_token(svc, "hal@example.com")
    options = await client.post("/passkeys/signup/options", json={"token": mine}, headers=JSON)
    credential = authenticator(svc).create((await options.get_json())["data"])
    refused = await client.post("/passkeys/signup/complete", headers=JSON,
                                json={"token": theirs, "credential": credential})
    assert refused.status_code == 400 and await error_code(refused) == "token_invalid"
    assert await count(svc, PasskeyCredential) == 0 and await count(svc, PendingSignup) == 2


async def test_a_bad_link_shows_a_way_back(client: Any) -> None:
    page = await client.get(f"{FINISH}?token=nope")
    html = await page.get_data(as_text=True)
    assert page.status_code == 400 and "/passkeys/signup" in html
    assert 'data-authtuna-passkey="signup"' not in html


async def test_password_sign_in_refuses_it_like_a_wrong_password(
        app: Any, svc: AuthService, make_user: Any) -> None:
    await sign_up_with_passkey(app.test_client(), svc, "ivy", "ivy@example.com")
    await make_user("jon")
    client = app.test_client()
    answers = []
    for who in ("ivy", "jon", "nobody"):
        response = await submit(client, "/auth/login", {"username_or_email": who,
                                                        "password": "not the password"},
                                face="json")
        answers.append((response.status_code, await response.get_json()))
    assert answers[0] == answers[1] == answers[2]
    assert answers[0][0] == 401


async def test_reset_password_gives_it_a_first_password(app: Any, svc: AuthService) -> None:
    await sign_up_with_passkey(app.test_client(), svc, "kit", "kit@example.com")
    client = app.test_client()
    await submit(client, "/auth/forgot-password", {"email": "kit@example.com"}, face="json")
    await svc.mail.drain()
    mail = svc.mail.outbox.last("password_reset", "kit@example.com")
    assert mail is not None
    token = token_from_link(mail.text, "/auth/reset-password")
    reset = await submit(client, "/auth/reset-password",
                         {"token": token, "new_password": PASSWORD}, face="json")
    assert reset.status_code == 200
    login = await submit(client, "/auth/login", {"username_or_email": "kit",
                                                 "password": PASSWORD}, face="json")
    assert login.status_code == 200


async def test_settings_show_the_ways_in_and_set_a_password(
        client: Any, svc: AuthService, face: str) -> None:
    await sign_up_with_passkey(client, svc, "lia", "lia@example.com")
    html = await (await client.get("/ui/settings")).get_data(as_text=True)
    assert "Ways to sign in" in html and "Set a password" in html
    assert "Recovery codes left" in html and "/auth/change-password" not in html
    done = await submit(client, "/auth/set-password", {"new_password": PASSWORD}, face=face)
    assert done.status_code == 200
    html = await (await client.get("/ui/settings")).get_data(as_text=True)
    assert "/auth/change-password" in html and "Set a password" not in html
    again = await submit(client, "/auth/set-password", {"new_password": PASSWORD + "!"},
                         face="json")
    assert again.status_code == 409
    user = await svc.users.get_by_username("lia")
    assert user is not None and await svc.passwords.verify(PASSWORD, user.password_hash)


async def test_a_recovery_code_signs_a_passwordless_account_in_once(
        app: Any, svc: AuthService) -> None:
    data, _ = await sign_up_with_passkey(app.test_client(), svc, "max", "max@example.com")
    code = data["recovery_codes"][0]
    client = app.test_client()
    form = {"username_or_email": "max@example.com", "code": code}
    signed = await submit(client, "/passkeys/recovery-code", form, face="html")
    assert signed.status_code == 302 and signed.headers["Location"] == "/ui/settings"
    assert (await client.get("/protected")).status_code == 200
    reused = await submit(app.test_client(), "/passkeys/recovery-code", form, face="json")
    assert reused.status_code == 401 and await error_code(reused) == "invalid_credentials"
    user = await svc.users.get_by_username("max")
    assert user is not None and await svc.mfa.remaining_recovery_codes(user.id) == 9


async def test_a_recovery_code_never_replaces_a_password(
        app: Any, svc: AuthService, make_user: Any) -> None:
    user = await make_user("ned")
    async with svc.transaction() as tx:
        codes = await svc.mfa.store.replace_codes(tx, user.id)
    refused = await submit(app.test_client(), "/passkeys/recovery-code",
                           {"username_or_email": "ned", "code": codes[0]}, face="json")
    assert refused.status_code == 401 and await error_code(refused) == "invalid_credentials"
    assert await svc.mfa.remaining_recovery_codes(user.id) == 10


async def test_a_stale_session_confirms_with_the_passkey(
        client: Any, svc: AuthService, clock: Any) -> None:
    _, device = await sign_up_with_passkey(client, svc, "ora", "ora@example.com")
    clock.advance(svc.settings.reauthentication_seconds + 60)
    stale = await submit(client, "/auth/set-password", {"new_password": PASSWORD}, face="json")
    assert stale.status_code == 401 and await error_code(stale) == "reauthentication_required"
    page = await (await client.get("/auth/reauthenticate?next=/auth/set-password")
                  ).get_data(as_text=True)
    assert 'data-authtuna-passkey="reauth"' in page and 'name="password"' not in page
    options = await client.post("/passkeys/reauth-options", json={}, headers=JSON)
    confirmed = await client.post("/passkeys/reauth", headers=JSON, json={
        "credential": device.get((await options.get_json())["data"]),
        "next": "/auth/set-password"})
    assert confirmed.status_code == 200
    assert (await confirmed.get_json())["data"]["next"] == "/auth/set-password"
    done = await submit(client, "/auth/set-password", {"new_password": PASSWORD}, face="json")
    assert done.status_code == 200


async def test_the_last_passkey_of_a_passwordless_account_stays(
        client: Any, svc: AuthService) -> None:
    await sign_up_with_passkey(client, svc, "pia", "pia@example.com")
    [only] = (await (await client.get("/passkeys/", headers=JSON)).get_json())["data"][
        "passkeys"]
    refused = await client.post(f"/passkeys/{only['id']}/delete", json={}, headers=JSON)
    assert refused.status_code == 409 and "only way in" in (await refused.get_json())[
        "errors"][0]["message"]
    options = await client.post("/passkeys/register-options", json={}, headers=JSON)
    second = authenticator(svc).create((await options.get_json())["data"])
    added = await client.post("/passkeys/register", headers=JSON,
                              json={"credential": second, "nickname": "Backup"})
    assert added.status_code == 201
    removed = await client.post(f"/passkeys/{only['id']}/delete", json={}, headers=JSON)
    assert removed.status_code == 200
    assert await count(svc, PasskeyCredential) == 1

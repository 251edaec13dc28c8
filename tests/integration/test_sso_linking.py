"""The linking policy, case by case, against the dev OpenID provider over HTTP (both
databases): linked identities sign in (MFA applies, suspended refused), new people get an
account, an existing email is never linked silently (the takeover attempts), the opt-in
verified+verified link, the username form, and ``next`` through the round trip."""

from __future__ import annotations

import re
from typing import Any

import pyotp
import pytest
from sqlalchemy import select

from quart_authtuna.core import signals
from quart_authtuna.core.db.models import AuditEvent, SocialAccount
from tests._support.clock import FakeClock
from tests._support.sso import _dev_provider, _sso_app, round_trip  # noqa: F401
from tests._support.web import csrf_token, submit
from tests.conftest import PASSWORD

ADA = {"email": "ada@example.com", "name": "Ada Lovelace", "username": "ada"}


def svc_of(app: Any) -> Any:
    return app.app.extensions["authtuna"].service


async def whoami(client: Any) -> dict[str, Any] | None:
    response = await client.get("/protected")
    return await response.get_json() if response.status_code == 200 else None


async def links(app: Any) -> list[SocialAccount]:
    async with svc_of(app).transaction() as tx:
        return list((await tx.scalars(select(SocialAccount))).all())


async def events(app: Any, kind: str) -> list[AuditEvent]:
    async with svc_of(app).transaction() as tx:
        return list((await tx.scalars(select(AuditEvent).where(
            AuditEvent.event_type == kind))).all())


async def sign_out(client: Any) -> None:
    response = await submit(client, "/auth/logout", {}, page="/auth/change-password")
    assert response.status_code == 302


@pytest.mark.parametrize("provider", ["dev", "google", "github"])
async def test_new_person_gets_a_verified_account_and_signs_in_again(
        sso_app: Any, provider: str) -> None:
    svc, client = svc_of(sso_app), sso_app.test_client()
    received: list[tuple[str, dict[str, Any]]] = []
    for signal in (signals.social_account_connected, signals.social_signed_in):
        signal.connect(lambda _s, name=signal.name, **kw: received.append((name, kw)),
                       sender=svc, weak=False)
    response = await round_trip(client, provider, **ADA)
    assert response.status_code == 302 and response.headers["Location"] == "/"
    me = await whoami(client)
    assert me is not None and me["username"] == "ada" and me["email"] == ADA["email"]
    user = await svc.users.get_by_email(ADA["email"])
    assert user.email_verified and user.password_hash is None
    [link] = await links(sso_app)
    assert (link.user_id, link.provider) == (user.id, provider)
    await svc.mail.drain()
    welcome = svc.mail.outbox.last("welcome", ADA["email"])
    assert welcome is not None and "/auth/login" in welcome.text
    notice = svc.mail.outbox.last("new_social_account_connected", ADA["email"])
    assert notice is not None and notice.subject.startswith(
        {"dev": "Dev SSO", "google": "Google", "github": "GitHub"}[provider])
    assert {n for n, _ in received} == {"social-account-connected", "social-signed-in"}
    assert len(await events(sso_app, "SOCIAL_ACCOUNT_CONNECTED")) == 1
    # sign out and in again: the same account, by (provider, subject)
    await sign_out(client)
    assert await whoami(client) is None
    again = await round_trip(client, provider, **{**ADA, "name": "Renamed", "username": "x"})
    assert again.status_code == 302
    assert (await whoami(client))["id"] == user.id
    assert len(await links(sso_app)) == 1
    assert len(await events(sso_app, "SOCIAL_LOGIN")) == 2


async def test_github_uses_the_primary_address_not_another_verified_one(sso_app: Any) -> None:
    client = sso_app.test_client()
    assert (await round_trip(client, "github", **ADA)).status_code == 302
    assert (await whoami(client))["email"] == ADA["email"]


async def test_provider_tokens_are_encrypted_at_rest(sso_app: Any, dev_provider: Any) -> None:
    client = sso_app.test_client()
    await round_trip(client, "dev", **ADA)
    [link] = await links(sso_app)
    issued = set(dev_provider.tokens)
    assert link.access_token_encrypted and link.access_token_encrypted not in issued
    assert svc_of(sso_app).encryptor.decrypt(link.access_token_encrypted) in issued


async def test_linked_user_with_totp_meets_the_challenge(sso_app: Any, clock: FakeClock) -> None:
    svc, client = svc_of(sso_app), sso_app.test_client()
    await round_trip(client, "dev", **ADA)
    user = await svc.users.get_by_email(ADA["email"])
    setup = await svc.mfa.setup_totp(user.id)
    await svc.mfa.verify_and_enable_totp(user.id, pyotp.TOTP(setup.secret).at(clock.now))
    clock.advance(30)
    fresh = sso_app.test_client()
    response = await round_trip(fresh, "dev", next_path="/protected", **ADA)
    assert response.status_code == 302 and "/mfa/challenge" in response.headers["Location"]
    assert await whoami(fresh) is None  # no session before the second factor
    challenge = response.headers["Location"]
    token = await csrf_token(fresh, challenge)
    done = await fresh.post(challenge, form={
        "code": pyotp.TOTP(setup.secret).at(clock.now), "csrf_token": token,
        "next": "/protected"})
    assert done.status_code == 302 and done.headers["Location"] == "/protected"
    assert (await whoami(fresh))["id"] == user.id


async def test_suspended_linked_user_is_refused(sso_app: Any) -> None:
    svc, client = svc_of(sso_app), sso_app.test_client()
    await round_trip(client, "dev", **ADA)
    user = await svc.users.get_by_email(ADA["email"])
    await svc.users.suspend_user(user.id, "system", "test")
    other = sso_app.test_client()
    response = await round_trip(other, "dev", **ADA)
    assert response.status_code == 403
    assert await whoami(other) is None


@pytest.mark.parametrize("verified", [True, False], ids=["verified", "unverified"])
@pytest.mark.parametrize("provider", ["dev", "github"])
async def test_takeover_attempt_never_reaches_the_victims_account(
        sso_app: Any, provider: str, verified: bool) -> None:
    """An attacker's provider account asserting the victim's email, verified or not."""
    svc = svc_of(sso_app)
    victim = await svc.users.create("victim@example.com", "victim", PASSWORD,
                                    email_verified=True)
    attacker = sso_app.test_client()
    response = await round_trip(attacker, provider, email="victim@example.com",
                                name="Mallory", username="mallory", sub="666",
                                email_verified=verified)
    body = await response.get_data(as_text=True)
    assert response.status_code == 400
    assert ("Sign in to it first" if verified else "not verified") in body
    assert await whoami(attacker) is None
    assert await links(sso_app) == []
    if verified:  # the victim's history shows the refused attempt
        [event] = await events(sso_app, "SOCIAL_LINK_REFUSED")
        assert event.user_id == victim.id


@pytest.mark.settings(SSO_LINK_VERIFIED_EMAIL=True)
async def test_opt_in_links_when_both_emails_are_verified(sso_app: Any) -> None:
    svc = svc_of(sso_app)
    user = await svc.users.create(ADA["email"], "ada_local", PASSWORD, email_verified=True)
    client = sso_app.test_client()
    assert (await round_trip(client, "dev", **ADA)).status_code == 302
    assert (await whoami(client))["id"] == user.id
    [link] = await links(sso_app)
    assert link.user_id == user.id
    await svc.mail.drain()
    assert svc.mail.outbox.last("new_social_account_connected", ADA["email"]) is not None


@pytest.mark.settings(SSO_LINK_VERIFIED_EMAIL=True)
async def test_opt_in_still_refuses_an_unverified_local_email(sso_app: Any) -> None:
    svc = svc_of(sso_app)
    await svc.users.create(ADA["email"], "ada_local", PASSWORD, email_verified=False)
    client = sso_app.test_client()
    response = await round_trip(client, "dev", **ADA)
    assert response.status_code == 400
    assert await whoami(client) is None and await links(sso_app) == []


@pytest.mark.parametrize("taken_or_bad", ["taken", "bad"])
async def test_username_form_when_the_providers_name_cannot_be_used(
        sso_app: Any, taken_or_bad: str) -> None:
    svc, client = svc_of(sso_app), sso_app.test_client()
    if taken_or_bad == "taken":
        await svc.users.create("someone@example.com", "ada", PASSWORD, email_verified=True)
        identity = ADA
    else:
        identity = {**ADA, "username": "!!", "name": "!!"}
        identity["email"] = "!!@example.com"
    response = await round_trip(client, "dev", next_path="/protected", **identity)
    assert response.status_code == 302 and "/auth/dev/signup" in response.headers["Location"]
    page = response.headers["Location"]
    assert "token" not in page.lower()  # the handle is in an HttpOnly cookie only
    html = await (await client.get(page)).get_data(as_text=True)
    assert "Choose a username" in html
    token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', html).group(1)
    retry = await client.post(page, form={"username": "ada", "csrf_token": token,
                                          "next": "/protected"})
    if taken_or_bad == "taken":
        assert retry.status_code in (400, 409)  # still taken: the form again, nothing made
        token = await csrf_token(client, page)
    else:
        assert retry.status_code == 302
    if retry.status_code != 302:
        retry = await client.post(page, form={"username": "ada_l", "csrf_token": token,
                                              "next": "/protected"})
    assert retry.status_code == 302 and retry.headers["Location"] == "/protected"
    me = await whoami(client)
    assert me is not None and me["email"] == identity["email"]
    replay = await client.post(page, form={"username": "ada_2", "csrf_token": token})
    assert replay.status_code == 400  # the pending sign-up was used once


@pytest.mark.parametrize("target,lands", [("/protected?x=1", "/protected?x=1"),
                                          ("//evil.example/x", "/"),
                                          ("https://evil.example/", "/"),
                                          ("/%2F%2Fevil.example", "/")])
async def test_next_survives_the_round_trip_through_safe_next(
        sso_app: Any, target: str, lands: str) -> None:
    client = sso_app.test_client()
    from urllib.parse import quote

    response = await round_trip(client, "dev", next_path=quote(target, safe=""), **ADA)
    assert response.status_code == 302 and response.headers["Location"] == lands


async def test_login_page_shows_one_button_per_provider(sso_app: Any) -> None:
    html = await (await sso_app.test_client().get("/auth/login?next=/protected")).get_data(
        as_text=True)
    for name, label in (("google", "Google"), ("github", "GitHub"), ("dev", "Dev SSO")):
        assert f'href="/auth/{name}/login?next=/protected"' in html
        assert f"Continue with {label}" in html

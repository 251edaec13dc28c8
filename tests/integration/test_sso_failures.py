"""Every social sign-in failure is a page (or the JSON envelope), never a 500, and signs
nobody in: against the dev OpenID provider over real HTTP, on both databases."""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qsl, urlsplit

import httpx2
import pytest
from sqlalchemy import select, update

from quart_authtuna.core.crypto.tokens import digest
from quart_authtuna.core.db.models import AuthChallenge, SocialAccount, User
from quart_authtuna.testing.dev_oidc import DevProvider, consent
from tests._support.sso import _dev_provider, _sso_app, local, round_trip, start  # noqa: F401

ADA = {"email": "ada@example.com", "name": "Ada Lovelace", "username": "ada"}


def svc_of(app: Any) -> Any:
    return app.app.extensions["authtuna"].service


async def signed_out(client: Any) -> bool:
    return (await client.get("/protected")).status_code == 302


async def refused(response: Any, text: str, status: int = 400) -> str:
    body = await response.get_data(as_text=True)
    assert response.status_code == status, body
    assert "Sign-in did not work" in body and text in body, body
    assert 'href="/auth/login' in body  # a way back
    return body


async def no_accounts(app: Any) -> None:
    async with svc_of(app).transaction() as tx:
        assert (await tx.scalars(select(SocialAccount))).all() == []
        assert (await tx.scalar(select(User).where(User.email == ADA["email"]))) is None


async def test_access_denied_is_a_page(sso_app: Any) -> None:
    client = sso_app.test_client()
    response = await round_trip(client, "dev", deny=True, **ADA)
    await refused(response, "cancelled or refused")
    assert await signed_out(client)
    await no_accounts(sso_app)


@pytest.mark.parametrize("query", ["", "?code=abc", "?state=&code=abc", "?state=forged&code=x"])
async def test_state_missing_or_forged(sso_app: Any, query: str) -> None:
    client = sso_app.test_client()
    await refused(await client.get(f"/auth/dev/callback{query}"), "no longer valid")
    assert await signed_out(client)


async def test_state_is_single_use(sso_app: Any) -> None:
    client = sso_app.test_client()
    callback = local(await consent(await start(client, "dev"), **ADA))
    first = await client.get(callback)
    assert first.status_code == 302
    other = sso_app.test_client()  # the same URL replayed, from anywhere
    await refused(await other.get(callback), "no longer valid")
    await refused(await client.get(callback), "no longer valid")


async def test_state_from_another_browser_is_refused_and_burnt(sso_app: Any) -> None:
    victim, attacker = sso_app.test_client(), sso_app.test_client()
    callback = local(await consent(await start(attacker, "dev"), **ADA))
    await refused(await victim.get(callback), "no longer valid")
    assert await signed_out(victim)
    await no_accounts(sso_app)


async def test_state_expires(sso_app: Any, clock: Any) -> None:
    client = sso_app.test_client()
    callback = local(await consent(await start(client, "dev"), **ADA))
    clock.advance(601)
    await refused(await client.get(callback), "no longer valid")


async def test_state_for_one_provider_is_refused_at_another(sso_app: Any) -> None:
    client = sso_app.test_client()
    callback = local(await consent(await start(client, "dev"), **ADA))
    await refused(await client.get(callback.replace("/auth/dev/", "/auth/google/")),
                  "no longer valid")


async def _tamper(app: Any, authorize_url: str, **changes: Any) -> None:
    state = dict(parse_qsl(urlsplit(authorize_url).query))["state"]
    async with svc_of(app).transaction() as tx:
        row = await tx.get(AuthChallenge, digest(state))
        data = {k: v for k, v in row.data.items() if k not in changes}
        data.update({k: v for k, v in changes.items() if v is not None})
        await tx.execute(update(AuthChallenge).where(AuthChallenge.id == row.id)
                         .values(data=data))


async def test_missing_pkce_verifier_is_refused_before_the_provider(sso_app: Any) -> None:
    client = sso_app.test_client()
    url = await start(client, "dev")
    await _tamper(sso_app, url, verifier=None)
    await refused(await client.get(local(await consent(url, **ADA))), "no longer valid")
    await no_accounts(sso_app)


async def test_wrong_pkce_verifier_is_refused_by_the_provider(sso_app: Any) -> None:
    client = sso_app.test_client()
    url = await start(client, "dev")
    await _tamper(sso_app, url, verifier="x" * 64)
    await refused(await client.get(local(await consent(url, **ADA))), "refused the sign-in")
    await no_accounts(sso_app)


async def test_the_dev_provider_enforces_pkce_and_single_use_codes(
        sso_app: Any, dev_provider: DevProvider) -> None:
    client = sso_app.test_client()
    callback = await consent(await start(client, "dev"), **ADA)
    params = dict(parse_qsl(urlsplit(callback).query))
    body = {"grant_type": "authorization_code", "code": params["code"],
            "redirect_uri": callback.split("?")[0], "client_id": dev_provider.client_id,
            "client_secret": dev_provider.client_secret}
    async with httpx2.AsyncClient() as http:
        answer = await http.post(f"{dev_provider.issuer}/token", data=body)
        assert answer.status_code == 400 and answer.json()["error"] == "invalid_grant"
        again = await http.post(f"{dev_provider.issuer}/token",
                                data={**body, "code_verifier": "a" * 64})
        assert again.status_code == 400  # the code went with the first try


@pytest.mark.parametrize("fault", ["wrong_iss", "wrong_aud", "expired", "unsigned",
                                   "wrong_nonce", "foreign_key", "no_id_token"])
async def test_id_token_that_fails_a_check_is_refused(sso_app: Any, fault: str) -> None:
    client = sso_app.test_client()
    await refused(await round_trip(client, "dev", fault=fault, **ADA), "could not be verified")
    assert await signed_out(client)
    await no_accounts(sso_app)


@pytest.mark.parametrize("provider", ["dev", "github"])
async def test_malformed_json_from_the_provider(sso_app: Any, provider: str) -> None:
    client = sso_app.test_client()
    await refused(await round_trip(client, provider, fault="malformed_json", **ADA),
                  "could not read")


@pytest.mark.parametrize("provider", ["dev", "github"])
async def test_provider_server_error(sso_app: Any, provider: str) -> None:
    client = sso_app.test_client()
    await refused(await round_trip(client, provider, fault="server_error", **ADA),
                  "could not be reached")


@pytest.mark.settings(SSO_HTTP_TIMEOUT=0.3)
async def test_slow_provider_times_out(sso_app: Any) -> None:
    client = sso_app.test_client()
    await refused(await round_trip(client, "dev", fault="slow", **ADA), "did not answer in time")
    assert await signed_out(client)


@pytest.mark.settings(SSO_HTTP_TIMEOUT=0.5, OIDC_PROVIDERS=[{
    "name": "gone", "issuer": "http://127.0.0.1:9", "client_id": "x", "client_secret": "y"}])
async def test_unreachable_provider(app: Any) -> None:
    client = app.test_client()
    await refused(await client.get("/auth/gone/login"), "could not be reached")


@pytest.mark.parametrize("provider", ["dev", "google", "github"])
async def test_unverified_email_is_refused(sso_app: Any, provider: str) -> None:
    client = sso_app.test_client()
    response = await round_trip(client, provider, email_verified=False, **ADA)
    await refused(response, "not verified")
    await no_accounts(sso_app)


@pytest.mark.parametrize("provider", ["dev", "github"])
async def test_missing_email_is_refused(sso_app: Any, provider: str) -> None:
    client = sso_app.test_client()
    response = await round_trip(client, provider, email="", name="No Mail", username="nomail")
    await refused(response, "did not share an email")


async def test_unknown_provider_is_a_404_page(sso_app: Any) -> None:
    client = sso_app.test_client()
    for path in ("/auth/nope/login", "/auth/nope/callback?state=x&code=y"):
        response = await client.get(path)
        assert response.status_code == 404
        assert "Sign-in did not work" in await response.get_data(as_text=True)


async def test_failures_answer_the_json_envelope(sso_app: Any) -> None:
    client = sso_app.test_client()
    callback = local(await consent(await start(client, "dev"), fault="wrong_aud", **ADA))
    response = await client.get(callback, headers={"Accept": "application/json"})
    assert response.status_code == 400
    assert (await response.get_json())["errors"][0]["code"] == "token_invalid"


async def test_concurrent_callbacks_with_one_state_sign_in_once(sso_app: Any) -> None:
    """20 concurrent uses of one callback: exactly one gets past the state (R3)."""
    import asyncio

    client = sso_app.test_client()
    callback = local(await consent(await start(client, "dev"), **ADA))
    answers = await asyncio.gather(*(client.get(callback) for _ in range(20)))
    assert sorted(r.status_code for r in answers) == [302] + [400] * 19
    async with svc_of(sso_app).transaction() as tx:
        assert len((await tx.scalars(select(SocialAccount))).all()) == 1

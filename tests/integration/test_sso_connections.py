"""Connected accounts in settings: connect after a fresh sign-in, sign in with the link,
disconnect (never the last way in); over HTTP against the dev provider, both databases."""

from __future__ import annotations

import re
from typing import Any

from sqlalchemy import select

from quart_authtuna.core.db.models import AuditEvent, SocialAccount
from quart_authtuna.testing.dev_oidc import consent
from tests._support.clock import FakeClock
from tests._support.sso import _dev_provider, _sso_app, local, round_trip  # noqa: F401
from tests._support.web import ORIGIN, csrf_token, signed_in_client, submit
from tests.conftest import PASSWORD

GH = {"email": "rosa-gh@example.org", "name": "Rosa P", "username": "rosa-gh", "sub": "4242"}


def svc_of(app: Any) -> Any:
    return app.app.extensions["authtuna"].service


async def links(app: Any) -> list[SocialAccount]:
    async with svc_of(app).transaction() as tx:
        return list((await tx.scalars(select(SocialAccount))).all())


async def connect(client: Any, provider: str) -> Any:
    token = await csrf_token(client, "/ui/settings")
    return await client.post(f"/ui/settings/connections/{provider}/connect",
                             form={"csrf_token": token})


def authorize_url(html: str) -> str:
    match = re.search(r'http-equiv="refresh" content="0; url=([^"]+)"', html)
    assert match, html
    return match.group(1).replace("&amp;", "&")


async def test_connect_then_sign_in_with_it(sso_app: Any) -> None:
    svc = svc_of(sso_app)
    rosa = await svc.users.create("rosa@example.com", "rosa", PASSWORD, email_verified=True)
    client = await signed_in_client(sso_app, "rosa")
    page = await (await client.get("/ui/settings")).get_data(as_text=True)
    assert "Connected accounts" in page and "Connect<span" in page
    started = await connect(client, "github")
    html = await started.get_data(as_text=True)
    assert started.status_code == 200 and "Continue to GitHub" in html
    callback = await consent(authorize_url(html), **GH)
    done = await client.get(local(callback))
    assert done.status_code == 302
    assert done.headers["Location"] == "/ui/settings?done=connected#connections"
    [link] = await links(sso_app)
    assert (link.user_id, link.provider, link.provider_user_id) == (rosa.id, "github", "4242")
    await svc.mail.drain()
    assert svc.mail.outbox.last("new_social_account_connected", "rosa@example.com")
    page = await (await client.get("/ui/settings?done=connected")).get_data(as_text=True)
    assert "The account was connected" in page and "Disconnect<span" in page
    ways_in = page[page.index('id="ways-in"'):page.index("</section>", page.index('id="ways-in"'))]
    assert "<span>GitHub</span>" in ways_in and "Connected" in ways_in
    listed = await client.get("/ui/settings/connections", headers={"Accept": "application/json"})
    github = [c for c in (await listed.get_json())["data"] if c["provider"] == "github"]
    assert github[0]["connected"] is True
    # a new browser signs in with GitHub into Rosa's account (a different email there)
    other = sso_app.test_client()
    assert (await round_trip(other, "github", **GH)).status_code == 302
    assert (await (await other.get("/protected")).get_json())["id"] == rosa.id


async def test_connect_needs_a_fresh_sign_in(sso_app: Any, clock: FakeClock) -> None:
    await svc_of(sso_app).users.create("rosa@example.com", "rosa", PASSWORD,
                                       email_verified=True)
    client = await signed_in_client(sso_app, "rosa")
    clock.advance(3600)
    response = await connect(client, "dev")
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/auth/reauthenticate?next=")
    assert await links(sso_app) == []


async def test_connect_refuses_an_identity_linked_to_someone_else(sso_app: Any) -> None:
    svc = svc_of(sso_app)
    first = sso_app.test_client()
    assert (await round_trip(first, "github", **GH)).status_code == 302  # GH's own account
    await svc.users.create("rosa@example.com", "rosa", PASSWORD, email_verified=True)
    client = await signed_in_client(sso_app, "rosa")
    html = await (await connect(client, "github")).get_data(as_text=True)
    response = await client.get(local(await consent(authorize_url(html), **GH)))
    assert response.status_code == 400
    assert "connected to another account" in await response.get_data(as_text=True)
    assert len(await links(sso_app)) == 1


async def test_connect_without_csrf_or_signed_out(sso_app: Any) -> None:
    await svc_of(sso_app).users.create("rosa@example.com", "rosa", PASSWORD,
                                       email_verified=True)
    client = await signed_in_client(sso_app, "rosa")
    bare = await client.post("/ui/settings/connections/dev/connect", form={})
    assert bare.status_code == 400
    html = await (await connect(client, "dev")).get_data(as_text=True)
    url = authorize_url(html)
    await submit(client, "/auth/logout", {}, page="/auth/change-password")
    response = await client.get(local(await consent(url, **GH)))  # signed out meanwhile
    assert response.status_code == 400 and await links(sso_app) == []
    anonymous = sso_app.test_client()
    refused = await anonymous.post("/ui/settings/connections/dev/connect", form={})
    assert refused.status_code == 302 and "/auth/login" in refused.headers["Location"]


async def test_disconnect_keeps_the_last_way_in(sso_app: Any) -> None:
    client = sso_app.test_client()
    assert (await round_trip(client, "dev", **GH)).status_code == 302  # no password
    token = await csrf_token(client, "/ui/settings")
    response = await client.post("/ui/settings/connections/dev/disconnect",
                                 form={"csrf_token": token})
    assert response.status_code == 400
    assert "only way to sign in" in await response.get_data(as_text=True)
    assert len(await links(sso_app)) == 1


async def test_disconnect_with_a_password_left(sso_app: Any) -> None:
    svc = svc_of(sso_app)
    await svc.users.create("rosa@example.com", "rosa", PASSWORD, email_verified=True)
    client = await signed_in_client(sso_app, "rosa")
    html = await (await connect(client, "dev")).get_data(as_text=True)
    await client.get(local(await consent(authorize_url(html), **GH)))
    assert len(await links(sso_app)) == 1
    response = await client.post("/ui/settings/connections/dev/disconnect", json={},
                                 headers={"Origin": ORIGIN, "Accept": "application/json"})
    assert response.status_code == 200, await response.get_data(as_text=True)
    assert (await response.get_json())["data"] == {"disconnected": "dev"}
    assert await links(sso_app) == []
    async with svc.transaction() as tx:
        kinds = set((await tx.scalars(select(AuditEvent.event_type))).all())
    assert {"SOCIAL_ACCOUNT_CONNECTED", "SOCIAL_ACCOUNT_DISCONNECTED"} <= kinds
    again = await client.post("/ui/settings/connections/dev/disconnect", json={},
                              headers={"Origin": ORIGIN, "Accept": "application/json"})
    assert again.status_code == 400
    assert (await again.get_json())["errors"][0]["code"] == "not_connected"


async def test_a_user_without_password_confirms_with_the_provider(
        sso_app: Any, clock: FakeClock) -> None:
    client = sso_app.test_client()
    assert (await round_trip(client, "dev", **GH)).status_code == 302  # no password
    clock.advance(3600)
    stale = await connect(client, "github")
    confirm = stale.headers["Location"]
    assert confirm.startswith("/auth/reauthenticate?next=")
    page = await (await client.get(confirm)).get_data(as_text=True)
    assert "Confirm with Dev SSO" in page
    assert 'href="/auth/dev/login?next=/ui/settings%23connections"' in page
    again = await round_trip(client, "dev", next_path="/ui/settings%23connections", **GH)
    assert again.headers["Location"] == "/ui/settings#connections"  # signed in afresh
    started = await connect(client, "github")
    assert started.status_code == 200 and "Continue to GitHub" in await started.get_data(
        as_text=True)

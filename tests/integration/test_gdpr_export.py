"""GDPR export over HTTP on both faces: the owner from settings (fresh sign-in) and an admin
from the user page; everything stored, never a secret, five an hour, each one audited."""

from __future__ import annotations

import json
from typing import Any

import pyotp
from sqlalchemy import select

from quart_authtuna.core import AuthService
from quart_authtuna.core.db.models import AuditEvent
from quart_authtuna.core.types import RequestMeta
from tests._support.clock import FakeClock
from tests._support.web import ORIGIN, submit
from tests.conftest import PASSWORD

JSON = {"Accept": "application/json", "Origin": ORIGIN}
#: Nothing secret may appear in an export, under any of these names.
SECRET_NAMES = ("password_hash", "hashed_key", "secret", "key_hash", "public_key",
                "access_token", "refresh_token", "hashed_code", "random_string")


async def _exported(svc: AuthService, user_id: str) -> list[AuditEvent]:
    async with svc.transaction() as tx:
        return list((await tx.scalars(select(AuditEvent).where(
            AuditEvent.event_type == "DATA_EXPORTED", AuditEvent.user_id == user_id))).all())


def _no_secrets(document: dict[str, Any], *plaintexts: str) -> None:
    text = json.dumps(document)
    for name in SECRET_NAMES:
        assert f'"{name}"' not in text, name
    for value in plaintexts:
        assert value not in text


async def test_owner_downloads_everything_and_no_secret(
        client: Any, svc: AuthService, clock: FakeClock, face: str, make_user: Any,
        login: Any) -> None:
    user = await make_user("ada", roles=(("User", "global"),), first_name="Ada")
    issued = await svc.flows.api_keys.create(user.id, "ci", "secret", [], 3600, RequestMeta())
    setup = await svc.mfa.setup_totp(user.id)
    await svc.mfa.verify_and_enable_totp(user.id, pyotp.TOTP(setup.secret).at(clock()))
    clock.advance(30)
    first = await submit(client, "/auth/login", {"username_or_email": "ada",
                                                 "password": PASSWORD}, face="json")
    handle = (await first.get_json())["data"]["mfa_token"]
    signed = await client.post("/mfa/validate-login", json={
        "mfa_token": handle, "code": pyotp.TOTP(setup.secret).at(clock())}, headers=JSON)
    assert signed.status_code == 200, await signed.get_data(as_text=True)
    response = await submit(client, "/ui/settings/export", {}, page="/ui/settings", face=face)
    assert response.status_code == 200, await response.get_data(as_text=True)
    if face == "json":
        document = (await response.get_json())["data"]
    else:
        assert response.headers["Content-Disposition"] == \
            'attachment; filename="authtuna-export-ada.json"'
        assert response.headers["Cache-Control"] == "no-store"
        document = json.loads(await response.get_data(as_text=True))
    assert document["format"] == "quart-authtuna-export/1"
    assert document["profile"]["email"] == "ada@example.com"
    assert document["profile"]["first_name"] == "Ada"
    assert {"role": "User", "scope": "global"}.items() <= document["roles"][0].items()
    assert len(document["sessions"]) == 1 and document["sessions"][0]["active"]
    assert [k["name"] for k in document["api_keys"]] == ["ci"]
    assert document["mfa"]["enabled"] and document["mfa"]["methods"][0]["type"] == "totp"
    assert document["mfa"]["recovery_codes_left"] > 0
    kinds = {e["event_type"] for e in document["audit_events"]}
    assert {"USER_CREATED", "LOGIN_SUCCESS", "API_KEY_CREATED"} <= kinds
    _no_secrets(document, issued.plaintext, setup.secret)
    [event] = await _exported(svc, user.id)
    assert event.actor_id == user.id and event.details == {"by": "owner"}


async def test_export_needs_a_fresh_sign_in_and_is_limited(
        client: Any, svc: AuthService, clock: FakeClock, make_user: Any, login: Any) -> None:
    user = await make_user("bob")
    await login("bob")
    clock.advance(3600)
    stale = await client.post("/ui/settings/export", json={}, headers=JSON)
    assert stale.status_code == 401
    assert (await stale.get_json())["errors"][0]["code"] == "reauthentication_required"
    page = await client.get("/ui/settings/export")
    assert "/auth/reauthenticate" in page.headers["Location"]
    await submit(client, "/auth/reauthenticate", {"password": PASSWORD},
                 face="json")
    codes = [(await client.post("/ui/settings/export", json={}, headers=JSON)).status_code
             for _ in range(6)]
    assert codes == [200] * 5 + [429]
    assert len(await _exported(svc, user.id)) == 5
    html = await (await client.get("/ui/settings")).get_data(as_text=True)
    assert "Download my data" in html


async def test_admin_exports_a_user_and_ranks_are_respected(
        app: Any, client: Any, svc: AuthService, face: str, make_user: Any,
        login: Any) -> None:
    admin = await make_user("boss", roles=(("Admin", "global"),))
    target = await make_user("target")
    peer = await make_user("peer", roles=(("Admin", "global"),))
    await login("boss")
    page = f"/admin/users/{target.id}"
    assert "Download JSON" in await (await client.get(page)).get_data(as_text=True)
    response = await submit(client, f"/admin/users/{target.id}/export", {}, page=page,
                            face=face)
    assert response.status_code == 200
    body = await response.get_data(as_text=True)
    document = json.loads(body)["data"] if face == "json" else json.loads(body)
    assert document["profile"]["username"] == "target"
    [event] = await _exported(svc, target.id)
    assert event.actor_id == admin.id and event.details == {"by": "admin"}
    # An admin of the same rank, and a plain user, are refused; nothing is exported.
    refused = await client.post(f"/admin/users/{peer.id}/export", json={}, headers=JSON)
    assert refused.status_code == 403
    assert await _exported(svc, peer.id) == []
    plain = app.test_client()
    await submit(plain, "/auth/login", {"username_or_email": "target",
                                        "password": PASSWORD})
    assert (await plain.post(f"/admin/users/{admin.id}/export", json={},
                             headers=JSON)).status_code == 403

"""GDPR erase over HTTP: the admin's erase and the owner's deletion take one path; sessions
and keys die at once, audit rows keep no personal data, and in PII mode the data key is
shredded so the sealed email and archive cannot be read any more."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import select

from quart_authtuna.core import AuthService
from quart_authtuna.core.crypto.pii import SHREDDED
from quart_authtuna.core.db.models import (
    AuditEvent,
    DeletedUser,
    EncryptionKey,
    Invitation,
    Organization,
)
from quart_authtuna.core.types import RequestMeta
from tests._support.web import ORIGIN, submit
from tests.conftest import PASSWORD

JSON = {"Accept": "application/json", "Origin": ORIGIN}
PII = {"PII_ENCRYPTION_ENABLED": True, "PII_HMAC_KEY": "h" * 48}


async def _signed_in(app: Any, username: str) -> Any:
    other = app.test_client()
    response = await submit(other, "/auth/login", {"username_or_email": username,
                                                    "password": PASSWORD})
    assert response.status_code == 302
    return other


async def _rows(svc: AuthService, model: Any, *where: Any) -> list[Any]:
    async with svc.transaction() as tx:
        return list((await tx.scalars(select(model).where(*where))).all())


async def _erase_leaves_no_personal_data(svc: AuthService, user_id: str) -> None:
    assert await svc.users.get_by_id(user_id) is None
    about = await _rows(svc, AuditEvent, AuditEvent.details.is_not(None))
    ips = {e.ip_address for e in about} | {e.ip_address_hash for e in about}
    kinds = {e.event_type for e in about if e.user_id is None}
    assert "USER_DELETED" in kinds
    for event in about:
        if event.user_id is None and event.event_type not in ("USER_DELETED",
                                                              "DEFAULTS_PROVISIONED"):
            assert event.details == {} and event.ip_address is None
            assert event.ip_address_encrypted is None and event.ip_address_hash is None
    assert "198.51.100.7" not in ips


async def test_admin_erase_kills_sessions_and_keys_and_scrubs(
        app: Any, client: Any, svc: AuthService, make_user: Any, login: Any,
        face: str) -> None:
    admin = await make_user("boss", roles=(("Admin", "global"),))
    target = await make_user("target")
    theirs = await _signed_in(app, "target")
    await svc.audit.log_event("PASSWORD_CHANGED", target.id, "198.51.100.7", {"by": "target"})
    issued = await svc.flows.api_keys.create(target.id, "k", "master", [], 3600, RequestMeta())
    bearer = {"Authorization": f"Bearer {issued.plaintext}", **JSON}
    assert (await app.test_client().get("/protected", headers=bearer)).status_code == 200
    await login("boss")
    page = f"/admin/users/{target.id}"
    assert "Erase account" in await (await client.get(page)).get_data(as_text=True)
    confirm = await (await client.get(f"{page}/erase")).get_data(as_text=True)
    assert "This cannot be undone" in confirm and "target@example.com" in confirm
    done = await submit(client, f"{page}/erase", {}, face=face)
    if face == "json":
        assert (await done.get_json())["data"] == {"user_id": target.id, "erased": True,
                                                   "sessions_ended": 1, "api_keys_revoked": 1}
    else:
        assert done.status_code == 302 and done.headers["Location"].endswith("done=erased")
        html = await (await client.get(done.headers["Location"])).get_data(as_text=True)
        assert "data key shredded" in html
    assert (await theirs.get("/protected", headers=JSON)).status_code == 401
    assert (await app.test_client().get("/protected", headers=bearer)).status_code == 401
    await _erase_leaves_no_personal_data(svc, target.id)
    [deleted] = await _rows(svc, AuditEvent, AuditEvent.event_type == "USER_DELETED")
    assert deleted.actor_id == admin.id
    await svc.mail.drain()
    assert svc.mail.outbox.last("account_deleted", "target@example.com") is not None


async def test_nobody_erases_themselves_or_a_peer_here(
        client: Any, svc: AuthService, make_user: Any, login: Any) -> None:
    admin = await make_user("boss", roles=(("Admin", "global"),))
    peer = await make_user("peer", roles=(("Admin", "global"),))
    await login("boss")
    for user_id in (admin.id, peer.id):
        refused = await client.post(f"/admin/users/{user_id}/erase", json={}, headers=JSON)
        assert refused.status_code == 403
        assert await svc.users.get_by_id(user_id) is not None
    form = await submit(client, f"/admin/users/{peer.id}/erase", {})
    assert form.status_code == 403
    assert "Nothing was changed" in await form.get_data(as_text=True)
    assert (await client.get("/admin/users/nobody/erase")).status_code == 404


async def test_owner_deletion_takes_the_same_path(
        app: Any, client: Any, svc: AuthService, make_user: Any, login: Any) -> None:
    user = await make_user("leaver")
    await login("leaver")
    await svc.audit.log_event("PASSWORD_CHANGED", user.id, "198.51.100.7", {"by": "leaver"})
    async with svc.transaction() as tx:
        tx.add(Organization(id="org1", name="Acme", created_at=1.0))
        await tx.flush()
        tx.add(Invitation(id="inv1", token_hash="t" * 64, organization_id="org1",
                          email="Leaver@example.com", email_canonical="leaver@example.com",
                          role_name="OrgMember", created_at=1.0, expires_at=9e9))
    done = await submit(client, "/ui/settings/delete", {"confirmation": "leaver"}, face="json")
    assert done.status_code == 200
    await _erase_leaves_no_personal_data(svc, user.id)
    [deleted] = await _rows(svc, AuditEvent, AuditEvent.event_type == "USER_DELETED")
    assert deleted.ip_address is None and deleted.ip_address_hash is None
    assert await _rows(svc, Invitation) == []
    [archive] = await _rows(svc, DeletedUser, DeletedUser.user_id == user.id)
    assert archive.email is None and archive.data_encrypted is None
    assert archive.data == {"deleted_by": user.id, "created_at": user.created_at,
                            "sealed": False}


@pytest.mark.settings(**PII)
async def test_erase_in_pii_mode_shreds_the_key(
        app: Any, client: Any, svc: AuthService, make_user: Any, login: Any) -> None:
    await make_user("boss", roles=(("Admin", "global"),))
    target = await make_user("sealed")
    [key] = await _rows(svc, EncryptionKey, EncryptionKey.id == target.email_key_id)
    assert svc.pii.open_key(key.key_ciphertext) is not None
    await login("boss")
    done = await client.post(f"/admin/users/{target.id}/erase", json={}, headers=JSON)
    assert done.status_code == 200
    [key] = await _rows(svc, EncryptionKey, EncryptionKey.id == target.email_key_id)
    assert key.key_ciphertext == SHREDDED and key.deleted_at is not None
    assert svc.pii.open_key(key.key_ciphertext) is None
    [archive] = await _rows(svc, DeletedUser, DeletedUser.user_id == target.id)
    assert archive.email is None and archive.data_encrypted is not None
    assert "sealed" not in str(archive.data.get("username"))
    assert archive.data == {"deleted_by": archive.data["deleted_by"],
                            "created_at": target.created_at, "sealed": True}
    await _erase_leaves_no_personal_data(svc, target.id)

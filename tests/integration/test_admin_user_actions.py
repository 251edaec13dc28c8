"""What an admin does to a user, over HTTP on both faces: effect, audit row with the actor,
and every escalation refused with 403 and nothing changed."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from quart_authtuna.core import AuthService
from quart_authtuna.core.db.models import AuditEvent
from tests._support.web import ORIGIN, submit
from tests.conftest import PASSWORD

JSON = {"Accept": "application/json", "Origin": ORIGIN}


async def _events(svc: AuthService, event_type: str, user_id: str) -> list[AuditEvent]:
    async with svc.transaction() as tx:
        return list((await tx.scalars(select(AuditEvent).where(
            AuditEvent.event_type == event_type, AuditEvent.user_id == user_id))).all())


async def _signed_in_client(app: Any, username: str) -> Any:
    other = app.test_client()
    response = await submit(other, "/auth/login", {"username_or_email": username,
                                                    "password": PASSWORD})
    assert response.status_code == 302
    assert (await other.get("/protected")).status_code == 200
    return other


async def test_suspend_signs_the_user_out_at_once_and_unsuspend(
        app: Any, client: Any, make_user: Any, login: Any, svc: AuthService, face: str) -> None:
    admin = await make_user("boss", roles=(("Admin", "global"),))
    target = await make_user("target")
    theirs = await _signed_in_client(app, "target")
    await login("boss")
    page = f"/admin/users/{target.id}"
    response = await submit(client, f"/admin/users/{target.id}/suspend", {"reason": "spam"},
                            page=page, face=face)
    assert response.status_code == (200 if face == "json" else 302)
    assert (await theirs.get("/protected", headers={"Accept": "application/json"})
            ).status_code == 401
    [event] = await _events(svc, "USER_SUSPENDED", target.id)
    assert event.actor_id == admin.id and event.details["reason"] == "spam"
    if face == "html":
        html = await (await client.get(response.headers["Location"])).get_data(as_text=True)
        assert "every one of its sessions has ended" in html
    response = await submit(client, f"/admin/users/{target.id}/unsuspend", {}, page=page,
                            face=face)
    assert response.status_code in (200, 302)
    assert (await svc.users.get_by_id(target.id)).is_active  # type: ignore[union-attr]


async def test_assign_at_a_scope_changes_access_on_the_next_request_then_revoke(
        app: Any, client: Any, make_user: Any, login: Any, svc: AuthService, face: str) -> None:
    admin = await make_user("boss", roles=(("Admin", "global"),))
    await svc.permissions.get_or_create("projects:read")
    await svc.roles.create("ProjectReader", "reads projects", level=10)
    await svc.roles.add_permission_to_role("ProjectReader", "projects:read")
    target = await make_user("target")
    theirs = await _signed_in_client(app, "target")
    assert (await theirs.get("/projects/p1")).status_code == 403
    await login("boss")
    body = {"user_id": target.id, "role_name": "ProjectReader", "scope": "project:p1"}
    page = f"/admin/users/{target.id}"
    assert (await submit(client, "/admin/users/roles/assign", body, page=page, face=face)
            ).status_code in (200, 302)
    assert (await theirs.get("/projects/p1")).status_code == 200
    assert (await theirs.get("/projects/p2")).status_code == 403
    [event] = await _events(svc, "ROLE_ASSIGNED", target.id)
    assert event.actor_id == admin.id and event.details["scope"] == "project:p1"
    assert (await submit(client, "/admin/users/roles/revoke", body, page=page, face=face)
            ).status_code in (200, 302)
    assert (await theirs.get("/projects/p1")).status_code == 403
    assert (await _events(svc, "ROLE_REMOVED", target.id))[0].actor_id == admin.id


async def test_end_sessions_revoke_key_reset_mfa_and_links(
        app: Any, client: Any, make_user: Any, login: Any, svc: AuthService) -> None:
    admin = await make_user("boss", roles=(("Admin", "global"),))
    target = await make_user("target")
    unverified = await make_user("unverified", email_verified=False)
    first = await _signed_in_client(app, "target")
    second = await _signed_in_client(app, "target")
    await login("boss")
    [one, _] = await svc.sessions.get_all_for_user(target.id)
    base = f"/admin/users/{target.id}"
    response = await client.post(f"{base}/sessions/{one.session_id}/end", json={},
                                 headers=JSON)
    assert response.status_code == 200, await response.get_data(as_text=True)
    still = [c for c in (first, second) if (await c.get("/protected")).status_code == 200]
    assert len(still) == 1
    assert (await client.post(f"{base}/sessions/end-all", json={}, headers=JSON)
            ).status_code == 200
    assert (await still[0].get("/protected", headers=JSON)).status_code == 401
    issued = await svc.api_keys.create_key(target.id, "ci", key_type="secret")
    response = await client.post(f"{base}/api-keys/{issued.id}/revoke", json={}, headers=JSON)
    assert response.status_code == 200, await response.get_data(as_text=True)
    assert await svc.api_keys.validate_key(issued.plaintext) is None
    assert (await _events(svc, "API_KEY_DELETED", target.id))[0].actor_id == admin.id
    assert (await client.post(f"{base}/verification/resend", json={}, headers=JSON)
            ).status_code == 409  # already verified
    assert (await client.post(f"/admin/users/{unverified.id}/verification/resend", json={},
                              headers=JSON)).status_code == 200
    assert (await _events(svc, "EMAIL_VERIFICATION_SENT", unverified.id))[0].actor_id == admin.id
    assert (await client.post(f"{base}/password-reset", json={}, headers=JSON)).status_code == 200
    assert (await client.post(f"{base}/mfa/reset", json={}, headers=JSON)).status_code == 409


async def test_admins_cannot_escalate(client: Any, make_user: Any, login: Any,
                                      svc: AuthService, face: str) -> None:
    admin = await make_user("boss", roles=(("Admin", "global"),))
    peer = await make_user("peer", roles=(("Admin", "global"),))
    chief = await make_user("chief", roles=(("SuperAdmin", "global"),))
    member = await make_user("member")
    await login("boss")
    page = f"/admin/users/{member.id}"
    refused = [
        ("/admin/users/roles/assign", {"user_id": member.id, "role_name": "Admin",
                                       "scope": "global"}),  # at their own level
        ("/admin/users/roles/assign", {"user_id": member.id, "role_name": "SuperAdmin",
                                       "scope": "global"}),  # above it
        ("/admin/users/roles/assign", {"user_id": admin.id, "role_name": "Moderator",
                                       "scope": "global"}),  # their own roles
        ("/admin/users/roles/revoke", {"user_id": admin.id, "role_name": "Admin",
                                       "scope": "global"}),
        ("/admin/users/roles/revoke", {"user_id": peer.id, "role_name": "Admin",
                                       "scope": "global"}),  # a peer
        (f"/admin/users/{chief.id}/suspend", {"reason": "coup"}),  # someone above
        (f"/admin/users/{peer.id}/suspend", {"reason": "coup"}),
        (f"/admin/users/{admin.id}/suspend", {"reason": "self"}),
        (f"/admin/users/{chief.id}/sessions/end-all", {}),
    ]
    for path, body in refused:
        response = await submit(client, path, body, page=page, face=face)
        assert response.status_code == 403, (path, body, response.status_code)
    assert sorted(await svc.roles.get_user_roles(member.id)) == [("User", "global")]
    assert await svc.roles.get_user_roles(admin.id) == [("Admin", "global"), ("User", "global")]
    assert await svc.roles.get_user_roles(peer.id) == [("Admin", "global"), ("User", "global")]
    for user in (chief, peer, admin):
        assert (await svc.users.get_by_id(user.id)).is_active  # type: ignore[union-attr]
    assert (await svc.sessions.get_all_for_user(admin.id))


async def test_a_moderator_cannot_touch_roles_and_stale_logins_must_reauthenticate(
        client: Any, make_user: Any, login: Any, clock: Any) -> None:
    await make_user("mod", roles=(("Moderator", "global"),))
    member = await make_user("member")
    await login("mod")
    body = {"user_id": member.id, "role_name": "User", "scope": "org:x"}
    assert (await client.post("/admin/users/roles/assign", json=body, headers=JSON)
            ).status_code == 403
    clock.advance(3600)
    response = await client.post(f"/admin/users/{member.id}/suspend", json={}, headers=JSON)
    assert response.status_code == 401
    assert (await response.get_json())["errors"][0]["code"] == "reauthentication_required"

"""Organization and team pages and their JSON twins, through the real app on both databases:
each journey as browser form posts (CSRF) and as JSON."""

from __future__ import annotations

from typing import Any

from quart_authtuna.core import AuthService
from tests._support.orgs import allow_org_creation, invite_link
from tests._support.web import ORIGIN, signed_in_client, submit

JSON = {"Accept": "application/json", "Origin": ORIGIN}


async def _json(response: Any) -> Any:
    return (await response.get_json())["data"]


async def _org(client: Any, face: str, name: str = "Acme") -> str:
    response = await submit(client, "/ui/organizations/create", {"name": name},
                            page="/ui/organizations", face=face)
    if face == "json":
        assert response.status_code == 201
        return str((await _json(response))["id"])
    assert response.status_code == 302
    return response.headers["Location"].split("/ui/organizations/")[1].split("?")[0]


async def test_create_invite_join_and_remove(app, svc: AuthService, make_user, face) -> None:
    owner = await make_user("owner")
    guest = await make_user("guest")
    await allow_org_creation(svc, owner.id)
    boss = await signed_in_client(app, "owner")
    org_id = await _org(boss, face)
    page = f"/ui/organizations/{org_id}"
    response = await submit(boss, f"{page}/invite", {"email": guest.email,
                                                      "role_name": "OrgMember"},
                            page=page, face=face)
    assert response.status_code == (201 if face == "json" else 302)
    token = await invite_link(svc, guest.email)
    visitor = await signed_in_client(app, "guest")
    join = f"/ui/organizations/join?token={token}"
    shown = await visitor.get(join)
    assert "Accept the invitation" in await shown.get_data(as_text=True)
    response = await submit(visitor, "/ui/organizations/join", {"token": token}, page=join,
                            face=face)
    assert response.status_code == (200 if face == "json" else 302)
    listed = await visitor.get("/ui/organizations", headers=JSON)
    assert [(o["id"], o["role"]) for o in await _json(listed)] == [(org_id, "OrgMember")]
    details = await _json(await boss.get(page, headers=JSON))
    assert sorted(m["username"] for m in details["members"]) == ["guest", "owner"]
    if face == "json":
        response = await boss.delete(f"{page}/members/{guest.id}", json={}, headers=JSON)
    else:
        response = await submit(boss, f"{page}/members/{guest.id}/remove", {}, page=page)
    assert response.status_code == (200 if face == "json" else 302)
    assert (await visitor.get(page, headers=JSON)).status_code == 404


async def test_create_needs_org_create(app, make_user, face) -> None:
    await make_user("plain")
    client = await signed_in_client(app, "plain")
    page = await client.get("/ui/organizations")
    assert "Create an organization" not in await page.get_data(as_text=True)
    response = await submit(client, "/ui/organizations/create", {"name": "X"},
                            page="/ui/settings", face=face)
    assert response.status_code == 403


async def test_role_injection_is_refused_over_http(app, svc: AuthService, make_user) -> None:
    owner = await make_user("owner")
    await allow_org_creation(svc, owner.id)
    boss = await signed_in_client(app, "owner")
    org_id = await _org(boss, "json")
    for role in ("OrgOwner", "SuperAdmin", "System"):
        response = await boss.post(f"/ui/organizations/{org_id}/invite",
                                   json={"email": "x@example.com", "role_name": role},
                                   headers=JSON)
        assert response.status_code == 400, role
    assert await svc.flows.invitations.pending(owner.id, org_id) == []


async def test_a_new_person_signs_up_from_the_link(app, svc: AuthService, make_user,
                                                   face) -> None:
    owner = await make_user("owner")
    await allow_org_creation(svc, owner.id)
    boss = await signed_in_client(app, "owner")
    org_id = await _org(boss, "json")
    await boss.post(f"/ui/organizations/{org_id}/invite",
                    json={"email": "fresh@example.com", "role_name": "OrgMember"}, headers=JSON)
    token = await invite_link(svc, "fresh@example.com")
    newcomer = app.test_client()
    join = f"/ui/organizations/join?token={token}"
    assert "Create account and join" in await (await newcomer.get(join)).get_data(as_text=True)
    response = await submit(newcomer, "/ui/organizations/join",
                            {"token": token, "username": "fresh",
                             "password": "a long good passphrase"}, page=join, face=face)
    assert response.status_code == (200 if face == "json" else 302), \
        await response.get_data(as_text=True)
    details = await newcomer.get(f"/ui/organizations/{org_id}", headers=JSON)
    assert details.status_code == 200
    user = await svc.users.get_by_email("fresh@example.com")
    assert user is not None and user.email_verified
    again = await app.test_client().get(join, headers=JSON)
    assert again.status_code == 400


async def test_another_account_is_refused(app, svc: AuthService, make_user) -> None:
    owner = await make_user("owner")
    await make_user("guest")
    await make_user("thief")
    await allow_org_creation(svc, owner.id)
    boss = await signed_in_client(app, "owner")
    org_id = await _org(boss, "json")
    await boss.post(f"/ui/organizations/{org_id}/invite",
                    json={"email": "guest@example.com", "role_name": "OrgMember"}, headers=JSON)
    token = await invite_link(svc, "guest@example.com")
    thief = await signed_in_client(app, "thief")
    response = await thief.post("/ui/organizations/join", json={"token": token}, headers=JSON)
    assert response.status_code == 403
    guest = await signed_in_client(app, "guest")
    assert (await guest.post("/ui/organizations/join", json={"token": token},
                             headers=JSON)).status_code == 200


async def test_teams_pages_and_the_last_lead(app, svc: AuthService, make_user, face) -> None:
    owner = await make_user("owner")
    member = await make_user("member")
    await allow_org_creation(svc, owner.id)
    boss = await signed_in_client(app, "owner")
    org_id = await _org(boss, "json")
    await svc.roles.assign_to_user(member.id, "OrgMember", "system", f"org:{org_id}")
    response = await submit(boss, f"/ui/organizations/{org_id}/teams", {"name": "Core"},
                            page=f"/ui/organizations/{org_id}", face=face)
    assert response.status_code == (201 if face == "json" else 302)
    [(team, _)] = await svc.flows.teams.get_user_teams(owner.id)
    page = f"/ui/teams/{team.id}"
    response = await submit(boss, f"{page}/members", {"user_id": member.id,
                                                      "role_name": "TeamLead"},
                            page=page, face=face)
    assert response.status_code == (200 if face == "json" else 302)
    lead = await signed_in_client(app, "member")
    shown = await lead.get(page, headers=JSON)
    assert {m["username"]: m["roles"] for m in (await _json(shown))["members"]} == {
        "owner": ["TeamLead"], "member": ["TeamLead"]}
    teams = await _json(await lead.get("/ui/teams", headers=JSON))
    assert [t["role"] for t in teams] == ["TeamLead"]
    response = await submit(boss, f"{page}/leave", {}, page=page, face=face)
    assert response.status_code == (200 if face == "json" else 302)
    response = await lead.post(f"{page}/leave", json={}, headers=JSON)
    assert response.status_code == 200  # alone: may leave


async def test_pages_render(app, svc: AuthService, make_user) -> None:
    owner = await make_user("owner")
    await allow_org_creation(svc, owner.id)
    boss = await signed_in_client(app, "owner")
    org_id = await _org(boss, "json")
    await boss.post(f"/ui/organizations/{org_id}/invite",
                    json={"email": "p@example.com", "role_name": "OrgAdmin"}, headers=JSON)
    for path in ("/ui/organizations", f"/ui/organizations/{org_id}"):
        response = await boss.get(path)
        html = await response.get_data(as_text=True)
        assert response.status_code == 200, path
        assert "p@example.com" in html or path == "/ui/organizations"

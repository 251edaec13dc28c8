"""The admin roles area over HTTP on both faces: each change works and is audited with the
actor and IP, a holder's access changes on their next request, every escalation is refused
with 403 and nothing changes, reads cost a fixed number of statements, and markup is escaped."""

from __future__ import annotations

import asyncio
from typing import Any

from sqlalchemy import select

from quart_authtuna.core import AuthService
from quart_authtuna.core.db.models import AuditEvent
from quart_authtuna.core.errors import ConflictError
from quart_authtuna.core.flows.results import RoleCreated
from quart_authtuna.core.types import RequestMeta
from tests._support.openapi import AnswerChecker
from tests._support.queries import count_queries
from tests._support.web import ORIGIN, submit
from tests.conftest import PASSWORD

JSON = {"Accept": "application/json", "Origin": ORIGIN}
MARKUP = "<img src=x onerror=alert(1)>"
#: The remote address Quart's test client reports (what RequestMeta carries as the IP).
CLIENT_IP = "<local>"


async def _events(svc: AuthService, event_type: str) -> list[AuditEvent]:
    async with svc.transaction() as tx:
        return list((await tx.scalars(select(AuditEvent).where(
            AuditEvent.event_type == event_type).order_by(AuditEvent.id))).all())


async def _audited(svc: AuthService, event_type: str, actor_id: str) -> AuditEvent:
    """The latest ``event_type`` row, written by ``actor_id`` from the test client's IP."""
    event = (await _events(svc, event_type))[-1]
    assert event.actor_id == actor_id
    assert event.ip_address == CLIENT_IP and event.ip_address_hash
    return event


async def _signed_in_client(app: Any, username: str) -> Any:
    other = app.test_client()
    response = await submit(other, "/auth/login", {"username_or_email": username,
                                                    "password": PASSWORD})
    assert response.status_code == 302
    return other


async def _data(client: Any, path: str) -> Any:
    response = await client.get(path, headers=JSON)
    assert response.status_code == 200, (path, response.status_code)
    return (await response.get_json())["data"]


async def _reader_role(svc: AuthService, granter: str = "Admin") -> None:
    """ProjectReader (level 10), and ``granter`` holders may grant projects:read."""
    await svc.permissions.get_or_create("projects:read")
    await svc.roles.create("ProjectReader", "Reads projects", level=10)
    await svc.roles.grant_relationship(granter, "projects:read", kind="permission")


async def test_list_detail_and_their_json(client: Any, make_user: Any, login: Any,
                                          svc: AuthService) -> None:
    await make_user("boss", roles=(("Admin", "global"),))
    await make_user("mem1", roles=(("OrgMember", "org:a"),))
    await make_user("mem2", roles=(("OrgMember", "org:a"), ("OrgMember", "org:b")))
    await login("boss")
    rows = {r["name"]: r for r in await _data(client, "/admin/roles")}
    assert rows["Admin"] == {"name": "Admin", "description": "Administers users and roles",
                             "level": 90, "system": True, "permissions_count": 5,
                             "holders_count": 2}  # boss and the seeded admin
    assert rows["OrgMember"]["holders_count"] == 2 and rows["OrgMember"]["level"] is None
    html = await (await client.get("/admin/roles")).get_data(as_text=True)
    assert 'href="/admin/roles/OrgMember"' in html and ">Roles</a>" in html
    assert 'href="/admin/roles/new"' in html
    for path in ("/admin/roles/OrgMember/details-data", "/admin/roles/OrgMember"):
        data = await _data(client, path)
        assert data["name"] == "OrgMember" and data["permissions"] == ["org:create"]
        assert data["holders_total"] == 2 and data["holders_truncated"] is False
        assert {(h["username"], h["scope"]) for h in data["holders"]} == {
            ("mem1", "org:a"), ("mem2", "org:a"), ("mem2", "org:b")}
        assert data["holders_by_scope"] == [
            {"scope": "org:a", "count": 2, "users_url": "/admin/users?role=OrgMember&scope=org:a"},
            {"scope": "org:b", "count": 1, "users_url": "/admin/users?role=OrgMember&scope=org:b"}]
        assert data["assignable_by"] == ["Admin", "OrgAdmin", "OrgOwner", "SuperAdmin",
                                         "System"]
        assert data["role_assign_permissions"] == [] and data["can_manage"] is True
    admin_role = await _data(client, "/admin/roles/Admin/details-data")
    assert "Moderator" in admin_role["role_assign_permissions"]
    assert "org:create" in admin_role["role_grant_permissions"]
    assert admin_role["can_manage"] is False and admin_role["can_delete"] is False
    html = await (await client.get("/admin/roles/OrgMember")).get_data(as_text=True)
    assert "/admin/users?role=OrgMember&amp;scope=org:a" in html
    assert (await client.get("/admin/roles/Nobody", headers=JSON)).status_code == 404



async def test_reads_cost_a_fixed_number_of_statements(client: Any, make_user: Any, login: Any,
                                                       svc: AuthService) -> None:
    await make_user("boss", roles=(("Admin", "global"),))
    await login("boss")
    await client.get("/admin/roles", headers=JSON)  # warm the session and grants caches
    counts = []
    for n in range(2):
        for i in range(6):
            await svc.roles.create(f"Extra{n}x{i}", level=5)
            await make_user(f"holder{n}x{i}", roles=(("OrgMember", f"org:{n}{i}"),))
        with count_queries(svc.engine) as listing:
            assert (await client.get("/admin/roles", headers=JSON)).status_code == 200
        with count_queries(svc.engine) as detail:
            assert (await client.get("/admin/roles/OrgMember")).status_code == 200
        counts.append((len(listing.data), len(detail.data)))
    assert counts[0] == counts[1], counts
    assert counts[0][0] <= 2, counts  # the list itself is one statement


async def test_create_validates_refuses_duplicates_and_is_audited(
        client: Any, make_user: Any, login: Any, svc: AuthService, face: str) -> None:
    admin = await make_user("boss", roles=(("Admin", "global"),))
    await login("boss")
    page = "/admin/roles/new"
    assert 'action="/admin/roles"' in await (await client.get(page)).get_data(as_text=True)
    body = {"name": "Editor", "description": "Edits things", "level": "10"}
    response = await submit(client, "/admin/roles", body, page=page, face=face)
    if face == "json":
        assert response.status_code == 201
        assert (await response.get_json())["data"] == {
            "name": "Editor", "description": "Edits things", "level": 10, "system": False}
    else:
        assert response.status_code == 302
        assert response.headers["Location"].startswith("/admin/roles/Editor?done=role_created")
        html = await (await client.get(response.headers["Location"])).get_data(as_text=True)
        assert "The role was created" in html
    event = await _audited(svc, "ROLE_CREATED", admin.id)
    assert event.details == {"role": "Editor", "level": 10}
    for name, status in (("Editor", 409), ("bad name", 400), ("new", 400),
                         ("1st", 400), ("x" * 81, 400)):
        response = await submit(client, "/admin/roles", {"name": name}, page=page, face=face)
        assert response.status_code == status, (name, response.status_code)
    response = await submit(client, "/admin/roles", {"name": "Odd", "level": "-1"},
                            page=page, face=face)
    assert response.status_code == 400
    assert len(await _events(svc, "ROLE_CREATED")) == 1
    assert await svc.roles.get_by_name("Odd") is None


async def test_concurrent_creates_of_one_name_give_one_role(svc: AuthService) -> None:
    meta = RequestMeta(ip_address="192.0.2.1")
    outcomes = await asyncio.gather(
        *(svc.flows.admin_roles.create("system", name, "", None, meta)
          for name in ("Twin",) * 4), return_exceptions=True)
    assert sum(isinstance(o, RoleCreated) for o in outcomes) == 1, outcomes
    assert all(isinstance(o, RoleCreated | ConflictError) for o in outcomes), outcomes
    assert len(await _events(svc, "ROLE_CREATED")) == 1


async def test_attach_and_detach_change_a_holders_access_on_their_next_request(
        app: Any, client: Any, make_user: Any, login: Any, svc: AuthService, face: str) -> None:
    admin = await make_user("boss", roles=(("Admin", "global"),))
    await _reader_role(svc)
    await make_user("reader", roles=(("ProjectReader", "global"),))
    theirs = await _signed_in_client(app, "reader")
    assert (await theirs.get("/projects/p1")).status_code == 403
    await login("boss")
    page = "/admin/roles/ProjectReader"
    response = await submit(client, "/admin/roles/ProjectReader/permissions",
                            {"permission_name": "projects:read"}, page=page, face=face)
    assert response.status_code == (200 if face == "json" else 302)
    assert (await theirs.get("/projects/p1")).status_code == 200
    event = await _audited(svc, "ROLE_PERMISSION_ADDED", admin.id)
    assert event.details == {"role": "ProjectReader", "permission": "projects:read"}
    detach = "/admin/roles/ProjectReader/permissions/projects:read"
    html = await (await client.get(page)).get_data(as_text=True)
    assert f'action="{detach}/remove"' in html  # the page's button posts where we do
    assert 'href="/admin/roles/ProjectReader/delete"' in html
    if face == "json":
        response = await client.delete(detach, json={}, headers=JSON)
    else:
        response = await submit(client, f"{detach}/remove", {}, page=page)
    assert response.status_code == (200 if face == "json" else 302)
    assert (await theirs.get("/projects/p1")).status_code == 403
    await _audited(svc, "ROLE_PERMISSION_REMOVED", admin.id)
    again = await submit(client, f"{detach}/remove", {}, page=page, face=face)
    assert again.status_code == 404  # no longer attached: nothing to detach


async def test_delete_confirms_then_removes_every_assignment(
        app: Any, client: Any, make_user: Any, login: Any, svc: AuthService, face: str) -> None:
    admin = await make_user("boss", roles=(("Admin", "global"),))
    await _reader_role(svc)
    await svc.roles.add_permission_to_role("ProjectReader", "projects:read")
    reader = await make_user("reader", roles=(("ProjectReader", "global"),))
    theirs = await _signed_in_client(app, "reader")
    assert (await theirs.get("/projects/p1")).status_code == 200
    await login("boss")
    html = await (await client.get("/admin/roles/ProjectReader/delete")).get_data(as_text=True)
    assert "1 user</strong> holds it; every assignment is removed, their cached" in html
    preview = await _data(client, "/admin/roles/ProjectReader/delete")
    assert preview["holders_total"] == 1 and preview["can_delete"] is True
    if face == "json":
        response = await client.delete("/admin/roles/ProjectReader", json={}, headers=JSON)
        assert response.status_code == 200
        assert (await response.get_json())["data"] == {"name": "ProjectReader",
                                                       "deleted": True, "holders": 1}
    else:
        response = await submit(client, "/admin/roles/ProjectReader/delete", {},
                                page="/admin/roles/ProjectReader/delete")
        assert response.headers["Location"] == "/admin/roles?done=role_deleted"
    assert await svc.roles.get_by_name("ProjectReader") is None
    assert await svc.roles.get_user_roles(reader.id) == [("User", "global")]
    assert (await theirs.get("/projects/p1")).status_code == 403
    event = await _audited(svc, "ROLE_DELETED", admin.id)
    assert event.details == {"role": "ProjectReader", "holders": 1}


async def test_grant_tables_are_edited_within_the_actors_own_rights(
        client: Any, make_user: Any, login: Any, svc: AuthService, face: str) -> None:
    chief = await make_user("chief", roles=(("SuperAdmin", "global"),))
    await svc.roles.create("Helper", "Helps", level=20)
    await login("chief")
    page = "/admin/roles/Helper"
    assign = {"assigner_role_name": "Helper", "assignable_role_name": "OrgMember"}
    grant = {"granter_role_name": "Helper", "grantable_permission_name": "org:create"}
    for path, body in (("/admin/roles/grants/assign-role", assign),
                       ("/admin/roles/grants/grant-permission", grant)):
        response = await submit(client, path, body, page=page, face=face)
        assert response.status_code == (200 if face == "json" else 302), path
    data = await _data(client, "/admin/roles/Helper/details-data")
    assert data["role_assign_permissions"] == ["OrgMember"]
    assert data["role_grant_permissions"] == ["org:create"]
    assert (await _audited(svc, "ROLE_GRANT_ADDED", chief.id)).details == {
        "granter": "Helper", "permission": "org:create"}
    html = await (await client.get(page)).get_data(as_text=True)
    assert html.count(">Remove</button>") == 2
    for path in ("/admin/roles/grants/assign-role", "/admin/roles/grants/grant-permission"):
        assert f'action="{path}/remove"' in html and f'action="{path}"' in html
    for path, body in (("/admin/roles/grants/assign-role", assign),
                       ("/admin/roles/grants/grant-permission", grant)):
        if face == "json":
            response = await client.delete(path, json=body, headers=JSON)
        else:
            response = await submit(client, f"{path}/remove", body, page=page)
        assert response.status_code == (200 if face == "json" else 302), path
    data = await _data(client, "/admin/roles/Helper/details-data")
    assert data["role_assign_permissions"] == [] and data["role_grant_permissions"] == []
    assert len(await _events(svc, "ROLE_GRANT_REMOVED")) == 2
    await _audited(svc, "ROLE_GRANT_REMOVED", chief.id)


async def test_escalations_are_refused_and_nothing_changes(
        client: Any, make_user: Any, login: Any, svc: AuthService, face: str) -> None:
    await make_user("boss", roles=(("Admin", "global"),))
    await svc.roles.create("Helper", "Helps", level=20)
    await svc.roles.create("Senior", "Above admins", level=95)
    await login("boss")
    page = "/admin/roles/Helper"
    refused = [
        ("/admin/roles", {"name": "Peer", "level": "90"}),  # at the creator's own level
        ("/admin/roles", {"name": "Boss2", "level": "1000"}),  # above it
        ("/admin/roles/Helper/permissions", {"permission_name": "roles:assign:SuperAdmin"}),
        ("/admin/roles/Helper/permissions", {"permission_name": "admin:manage:permissions"}),
        ("/admin/roles/Admin/permissions", {"permission_name": "org:create"}),  # own, protected
        ("/admin/roles/Senior/permissions", {"permission_name": "org:create"}),  # above
        ("/admin/roles/grants/assign-role", {"assigner_role_name": "Helper",
                                             "assignable_role_name": "SuperAdmin"}),
        ("/admin/roles/grants/assign-role", {"assigner_role_name": "Helper",
                                             "assignable_role_name": "Admin"}),
        ("/admin/roles/grants/assign-role", {"assigner_role_name": "Helper",
                                             "assignable_role_name": "Senior"}),
        ("/admin/roles/grants/grant-permission", {  # Admin lacks admin:manage:permissions
            "granter_role_name": "Helper", "grantable_permission_name": "org:create"}),
        ("/admin/roles/Admin/delete", {}),  # protected
        ("/admin/roles/System/delete", {}),
        ("/admin/roles/Senior/delete", {}),  # above the deleter
    ]
    for path, body in refused:
        response = await submit(client, path, body, page=page, face=face)
        assert response.status_code == 403, (path, body, response.status_code)
    for name in ("Admin", "System", "Senior", "Helper"):
        assert await svc.roles.get_by_name(name) is not None
    assert await svc.roles.get_by_name("Peer") is None
    helper = await _data(client, "/admin/roles/Helper/details-data")
    assert helper["permissions"] == [] and helper["role_assign_permissions"] == []
    assert helper["role_grant_permissions"] == []
    admin_role = await _data(client, "/admin/roles/Admin/details-data")
    assert "org:create" not in admin_role["permissions"]
    assert not [e for e in await _events(svc, "ROLE_CREATED") if e.actor_id != "system"]
    senior = await _data(client, "/admin/roles/Senior/details-data")
    assert senior["can_manage"] is False and senior["can_delete"] is False
    html = await (await client.get("/admin/roles/Senior")).get_data(as_text=True)
    assert "Attach</button>" not in html and "Delete role" not in html
    html = await (await client.get("/admin/roles/Admin/delete")).get_data(as_text=True)
    assert "You cannot delete this role" in html and "Delete Admin</button>" not in html
    if face == "html":
        response = await submit(client, "/admin/roles/Helper/permissions",
                                {"permission_name": "admin:manage:permissions"}, page=page)
        html = await response.get_data(as_text=True)
        assert "Nothing was changed" in html and "Back to the role" in html


async def test_a_superadmin_cannot_hand_on_rights_it_lacks(
        client: Any, make_user: Any, login: Any, svc: AuthService) -> None:
    await make_user("chief", roles=(("SuperAdmin", "global"),))
    await svc.roles.create("Helper", "Helps", level=20)
    await login("chief")
    for path, body in (
            ("/admin/roles/grants/grant-permission", {
                "granter_role_name": "Helper",
                "grantable_permission_name": "admin:manage:permissions"}),
            ("/admin/roles/Helper/permissions", {"permission_name": "roles:assign:Admin"}),
            ("/admin/roles/grants/assign-role", {"assigner_role_name": "Helper",
                                                 "assignable_role_name": "System"})):
        response = await client.post(path, json=body, headers=JSON)
        assert response.status_code == 403, (path, response.status_code)
    helper = await _data(client, "/admin/roles/Helper/details-data")
    assert helper["permissions"] == [] and helper["role_grant_permissions"] == []


async def test_a_moderator_has_no_roles_area_and_stale_logins_reauthenticate(
        client: Any, make_user: Any, login: Any, clock: Any, svc: AuthService) -> None:
    await make_user("mod", roles=(("Moderator", "global"),))
    await login("mod")
    html = await (await client.get("/admin/users")).get_data(as_text=True)
    assert "/admin/roles" not in html
    for method, path, body in (("GET", "/admin/roles", None),
                               ("GET", "/admin/roles/User", None),
                               ("GET", "/admin/roles/User/details-data", None),
                               ("POST", "/admin/roles", {"name": "Mine", "level": 1}),
                               ("POST", "/admin/roles/User/permissions",
                                {"permission_name": "org:create"}),
                               ("DELETE", "/admin/roles/OrgMember", {})):
        response = await client.open(path, method=method, json=body, headers=JSON)
        assert response.status_code == 403, (method, path, response.status_code)
    assert await svc.roles.get_by_name("Mine") is None
    assert await svc.roles.get_by_name("OrgMember") is not None
    await make_user("boss", roles=(("Admin", "global"),))
    await login("boss")
    clock.advance(3600)
    response = await client.post("/admin/roles", json={"name": "Late"}, headers=JSON)
    assert response.status_code == 401
    assert (await response.get_json())["errors"][0]["code"] == "reauthentication_required"
    assert await svc.roles.get_by_name("Late") is None


async def test_markup_in_a_role_description_is_escaped(
        client: Any, make_user: Any, login: Any, svc: AuthService) -> None:
    await make_user("boss", roles=(("Admin", "global"),))
    await svc.roles.create("Marked", MARKUP, level=5)
    await login("boss")
    for path in ("/admin/roles", "/admin/roles/Marked", "/admin/roles/Marked/delete"):
        html = await (await client.get(path)).get_data(as_text=True)
        assert "<img" not in html, path
    html = await (await client.get("/admin/roles/Marked")).get_data(as_text=True)
    assert "&lt;img src=x onerror=alert(1)&gt;" in html


async def test_answers_match_the_openapi_document(
        client: Any, make_user: Any, login: Any, svc: AuthService) -> None:
    await make_user("chief", roles=(("SuperAdmin", "global"),))
    await make_user("holder", roles=(("OrgMember", "org:a"),))
    await login("chief")
    document = await (await client.get("/auth/openapi.json")).get_json()
    call = AnswerChecker(client, document, JSON)
    one = "/admin/roles/{role_name}"
    await call("GET", "/admin/roles")
    await call("GET", "/admin/roles/OrgMember", one)
    await call("GET", "/admin/roles/OrgMember/details-data", f"{one}/details-data")
    await call("GET", "/admin/roles/OrgMember/delete", f"{one}/delete")
    await call("POST", "/admin/roles", json={"name": "Helper", "level": 20})
    await call("POST", "/admin/roles", json={"name": "Helper"})  # 409: the error envelope
    await call("POST", "/admin/roles/Helper/permissions", f"{one}/permissions",
               json={"permission_name": "org:create"})
    await call("DELETE", "/admin/roles/Helper/permissions/org:create",
               f"{one}/permissions/{{permission_name}}", json={})
    for path, body in (
            ("/admin/roles/grants/assign-role", {"assigner_role_name": "Helper",
                                                 "assignable_role_name": "OrgMember"}),
            ("/admin/roles/grants/grant-permission", {
                "granter_role_name": "Helper", "grantable_permission_name": "org:create"})):
        await call("POST", path, json=body)
        await call("DELETE", path, json=body)
    await call("DELETE", "/admin/roles/Helper", one, json={})
    assert len(call.checked) == 13


async def test_a_bodyless_delete_is_an_api_call_checked_by_origin(
        client: Any, make_user: Any, login: Any, svc: AuthService) -> None:
    """Upstream's clients send ``DELETE`` with no body: no form token is asked for, the origin
    is checked as for JSON, and a form post without its token is still refused."""
    await make_user("boss", roles=(("Admin", "global"),))
    await _reader_role(svc)
    await login("boss")
    path = "/admin/roles/ProjectReader"
    cross = await client.delete(path, headers={**JSON, "Origin": "https://evil.example"})
    assert cross.status_code == 403
    assert (await cross.get_json())["errors"][0]["code"] == "cross_origin"
    tokenless = await client.post(f"{path}/delete", form={"confirm": "1"}, headers=JSON)
    assert tokenless.status_code == 400
    assert (await tokenless.get_json())["errors"][0]["code"] == "csrf_failed"
    assert await svc.roles.get_by_name("ProjectReader") is not None  # nothing changed
    response = await client.delete(path, headers=JSON)
    assert response.status_code == 200, await response.get_data(as_text=True)
    assert (await response.get_json())["data"] == {"name": "ProjectReader", "deleted": True,
                                                   "holders": 0}
    assert await svc.roles.get_by_name("ProjectReader") is None

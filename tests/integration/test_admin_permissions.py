"""Admin permissions over HTTP: the list with the roles carrying each, creating one on both
faces (audited with actor and IP), who may do which, bad names, escaping, and fixed cost."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from sqlalchemy import func, select

from quart_authtuna.core import AuthService
from quart_authtuna.core.db.models import AuditEvent, Permission
from quart_authtuna.core.types import RequestMeta
from tests._support.queries import page_costs
from tests._support.web import ORIGIN, submit

JSON = {"Accept": "application/json", "Origin": ORIGIN}
MARKUP = "<img src=x onerror=alert(1)>"
NEW = "/admin/permissions/new"
BAD_NAMES = [MARKUP, "<b>x</b>", "posts publish", " posts:publish", "posts:publish ",
             "tab\there", "line\nbreak", "naïve:read", "x" * 81, "a/b", "'; DROP TABLE x;--"]


async def _superadmin(make_user: Any, login: Any, name: str = "root") -> Any:
    user = await make_user(name, roles=(("SuperAdmin", "global"),))
    await login(name)
    return user


async def _created_events(svc: AuthService) -> list[AuditEvent]:
    async with svc.transaction() as tx:
        return list((await tx.scalars(select(AuditEvent).where(
            AuditEvent.event_type == "PERMISSION_CREATED"))).all())


async def _permission_count(svc: AuthService) -> int:
    async with svc.transaction() as tx:
        return int(await tx.scalar(select(func.count()).select_from(Permission)) or 0)


async def test_list_shows_each_permission_with_the_roles_carrying_it(
        client: Any, make_user: Any, login: Any) -> None:
    await make_user("boss", roles=(("Admin", "global"),))
    await login("boss")
    body = await (await client.get("/admin/permissions", headers=JSON)).get_json()
    found = {p["name"]: p for p in body["data"]}
    assert found["admin:access:panel"]["roles"] == ["SuperAdmin", "Admin", "Moderator"]
    assert found["admin:manage:permissions"]["roles"] == ["SuperAdmin"]
    assert found["team:create"]["roles"] == ["OrgAdmin", "OrgOwner"]
    assert found["admin:access:panel"]["system"] is True
    assert [p["name"] for p in body["data"]] == sorted(found)
    html = await (await client.get("/admin/permissions")).get_data(as_text=True)
    assert "admin:manage:permissions" in html and "Permissions" in html
    assert 'href="/admin/permissions" aria-current="page"' in html
    assert "New permission" not in html  # Admin lacks admin:manage:permissions
    assert "Creating permissions needs" in html


async def test_superadmin_creates_a_permission_audited_with_actor_and_ip(
        client: Any, make_user: Any, login: Any, svc: AuthService, face: str) -> None:
    root = await _superadmin(make_user, login)
    body = {"name": "posts:publish", "description": "Publish posts"}
    response = await submit(client, "/admin/permissions", body, page=NEW, face=face)
    if face == "json":
        assert response.status_code == 201
        data = (await response.get_json())["data"]
        assert data["name"] == "posts:publish" and data["created"] is True
        assert data["description"] == "Publish posts"
    else:
        assert response.status_code == 302
        assert response.headers["Location"].endswith("/admin/permissions?done=created")
        html = await (await client.get(response.headers["Location"])).get_data(as_text=True)
        assert "The permission was created." in html and "posts:publish" in html
    created = await svc.permissions.get_by_name("posts:publish")
    assert created is not None and created.description == "Publish posts"
    [event] = await _created_events(svc)
    async with svc.transaction() as tx:
        login_ip = await tx.scalar(select(AuditEvent.ip_address).where(
            AuditEvent.event_type == "LOGIN_SUCCESS", AuditEvent.user_id == root.id))
    assert event.actor_id == root.id and event.details["permission"] == "posts:publish"
    assert event.ip_address and event.ip_address == login_ip


async def test_an_existing_name_changes_nothing(client: Any, make_user: Any, login: Any,
                                                svc: AuthService, face: str) -> None:
    await _superadmin(make_user, login)
    await svc.permissions.create("posts:publish", "The first")
    before = len(await _created_events(svc))
    response = await submit(client, "/admin/permissions",
                            {"name": "posts:publish", "description": "The second"}, page=NEW,
                            face=face)
    if face == "json":  # upstream's get-or-create
        assert response.status_code == 200
        data = (await response.get_json())["data"]
        assert data["created"] is False and data["description"] == "The first"
    else:  # the form says why, and keeps what was typed
        assert response.status_code == 409
        html = await response.get_data(as_text=True)
        assert "already exists; nothing was changed" in html and "The second" in html
    assert (await svc.permissions.get_by_name("posts:publish")).description == "The first"  # type: ignore[union-attr]
    assert len(await _created_events(svc)) == before


async def test_creating_needs_admin_manage_permissions(
        app: Any, client: Any, make_user: Any, login: Any, svc: AuthService) -> None:
    await make_user("boss", roles=(("Admin", "global"),))
    await login("boss")
    count = await _permission_count(svc)
    assert (await client.get(NEW)).status_code == 403
    response = await client.post("/admin/permissions", json={"name": "posts:publish"},
                                 headers=JSON)
    assert response.status_code == 403
    assert await _permission_count(svc) == count and not await _created_events(svc)
    # the form without a page to take a token from: refused all the same
    assert (await client.post("/admin/permissions", form={"name": "posts:x"})
            ).status_code in (400, 403)
    assert await svc.permissions.get_by_name("posts:x") is None


async def test_listing_needs_admin_manage_roles_and_a_session(
        app: Any, client: Any, make_user: Any, login: Any) -> None:
    anonymous = app.test_client()
    for path in ("/admin/permissions", NEW):
        assert (await anonymous.get(path, headers=JSON)).status_code == 401
    assert (await anonymous.post("/admin/permissions", json={"name": "a:b"}, headers=JSON)
            ).status_code == 401
    await make_user("mod", roles=(("Moderator", "global"),))  # the panel, not roles
    await login("mod")
    assert (await client.get("/admin/permissions", headers=JSON)).status_code == 403
    assert (await client.get("/admin/permissions")).status_code == 403
    html = await (await client.get("/admin/dashboard")).get_data(as_text=True)
    assert "/admin/permissions" not in html  # not in the moderator's navigation


@pytest.mark.parametrize("name", BAD_NAMES)
async def test_bad_names_are_refused_and_nothing_is_written(
        client: Any, make_user: Any, login: Any, svc: AuthService, face: str,
        name: str) -> None:
    await _superadmin(make_user, login)
    count = await _permission_count(svc)
    response = await submit(client, "/admin/permissions", {"name": name, "description": "x"},
                            page=NEW, face=face)
    assert response.status_code == 400
    if face == "json":
        errors = (await response.get_json())["errors"]
        assert [e["param"] for e in errors] == ["name"]
    else:
        html = await response.get_data(as_text=True)
        assert "<b>x</b>" not in html and "<img" not in html
        assert "A permission name is 1-80" in html or "at most 80" in html
    assert await _permission_count(svc) == count and not await _created_events(svc)


async def test_a_long_description_or_no_name_is_refused(
        client: Any, make_user: Any, login: Any, svc: AuthService, face: str) -> None:
    await _superadmin(make_user, login)
    count = await _permission_count(svc)
    for body in ({"name": "posts:long", "description": "d" * 256}, {"name": ""}, {}):
        response = await submit(client, "/admin/permissions", body, page=NEW, face=face)
        assert response.status_code == 400, body
    assert await _permission_count(svc) == count and not await _created_events(svc)


async def test_markup_in_a_description_is_escaped(client: Any, make_user: Any, login: Any,
                                                  svc: AuthService) -> None:
    await _superadmin(make_user, login)
    response = await submit(client, "/admin/permissions",
                            {"name": "posts:evil", "description": MARKUP}, page=NEW)
    assert response.status_code == 302
    html = await (await client.get("/admin/permissions")).get_data(as_text=True)
    assert "<img" not in html and "&lt;img src=x onerror=alert(1)&gt;" in html
    response = await submit(client, "/admin/permissions",
                            {"name": "posts:evil", "description": MARKUP}, page=NEW)
    assert response.status_code == 409
    assert "<img" not in await response.get_data(as_text=True)


async def test_list_costs_the_same_statements_whatever_the_rows(
        client: Any, make_user: Any, login: Any, svc: AuthService) -> None:
    await make_user("boss", roles=(("Admin", "global"),))
    await login("boss")
    few = await page_costs(client, svc.engine, "/admin/permissions")
    for n in range(15):
        await svc.permissions.create(f"bulk:p{n}", f"Bulk {n}")
        await svc.roles.create(f"Bulk{n}", "bulk", level=5)
        await svc.roles.add_permission_to_role(f"Bulk{n}", f"bulk:p{n}")
        await svc.roles.add_permission_to_role("OrgMember", f"bulk:p{n}")
    many = await page_costs(client, svc.engine, "/admin/permissions")
    assert few == many, (few, many)
    assert few == (2, 2), few  # permissions, then their roles


async def test_concurrent_creates_of_one_name_make_one_row_and_one_audit_event(
        make_user: Any, svc: AuthService) -> None:
    root = await make_user("root", roles=(("SuperAdmin", "global"),))
    flow = svc.flows.admin_permissions
    results = await asyncio.gather(*(
        flow.create(root.id, "posts:publish", f"try {n}", RequestMeta(ip_address="192.0.2.7"))
        for n in range(12)))
    assert sum(r.created for r in results) == 1
    assert len({r.permission.id for r in results}) == 1
    [event] = await _created_events(svc)
    assert event.actor_id == root.id and event.ip_address == "192.0.2.7"

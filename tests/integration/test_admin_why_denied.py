"""/admin/why-denied over HTTP: who may ask, the answer equals what the real guard does to
the user's own requests, both faces, bad input, and markup that never runs."""

from __future__ import annotations

from typing import Any

from quart_authtuna.core import AuthService
from tests._support.web import ORIGIN, submit
from tests.conftest import PASSWORD

JSON = {"Accept": "application/json", "Origin": ORIGIN}
MARKUP = "<img src=x onerror=alert(1)>"
PAGE = "/admin/why-denied"


async def _reader_role(svc: AuthService, name: str = "ProjectReader") -> None:
    await svc.permissions.get_or_create("projects:read")
    await svc.roles.create(name, "Reads projects", level=10)
    await svc.roles.add_permission_to_role(name, "projects:read")


async def _ask(client: Any, user: str, permission: str = "projects:read",
               scope: str = "global") -> dict[str, Any]:
    response = await client.get(PAGE, headers=JSON, query_string={
        "user": user, "permission": permission, "scope": scope})
    assert response.status_code == 200, await response.get_data(as_text=True)
    return dict((await response.get_json())["data"])


async def test_only_admins_with_manage_users_may_ask(
        app: Any, client: Any, make_user: Any, login: Any, svc: AuthService) -> None:
    await svc.roles.create("PanelOnly", level=5)
    await svc.roles.add_permission_to_role("PanelOnly", "admin:access:panel")
    await make_user("peeker", roles=(("PanelOnly", "global"),))
    await login("peeker")
    query = {"user": "peeker", "permission": "admin:manage:users"}
    for headers in (JSON, {}):
        response = await client.get(PAGE, query_string=query, headers=headers)
        assert response.status_code == 403
    plain = app.test_client()
    await make_user("plain")
    await submit(plain, "/auth/login", {"username_or_email": "plain", "password": PASSWORD})
    assert (await plain.get(PAGE, query_string=query, headers=JSON)).status_code == 403
    assert (await app.test_client().get(PAGE, headers=JSON)).status_code == 401


async def test_the_answer_is_what_the_guard_does_to_the_users_own_requests(
        app: Any, client: Any, make_user: Any, login: Any, svc: AuthService) -> None:
    await _reader_role(svc)
    await make_user("boss", roles=(("Admin", "global"),))
    await login("boss")
    await make_user("tara", roles=(("ProjectReader", "project:p1"),
                                   ("ProjectReader", "org:acme")))
    tara = app.test_client()
    await submit(tara, "/auth/login", {"username_or_email": "tara", "password": PASSWORD})
    for project in ("p1", "p2", "p1x"):
        status = (await tara.get(f"/projects/{project}", headers=JSON)).status_code
        data = await _ask(client, "tara", scope=f"project:{project}")
        assert data["allowed"] is (status == 200), (project, status, data)
    data = await _ask(client, "tara", scope="project:p2")
    assert data["reason"] == "held_elsewhere" and data["roles_with_permission"] == [
        "ProjectReader"]
    assert data["consulted_scopes"] == ["project:p2", "global"]
    assert {(r["role_name"], r["scope"]) for r in data["held_elsewhere"]} == {
        ("ProjectReader", "project:p1"), ("ProjectReader", "org:acme")}

    user = await svc.users.get_by_username("tara")
    assert user is not None
    await svc.roles.assign_to_user(user.id, "ProjectReader", "system", "project:p2")
    assert (await tara.get("/projects/p2", headers=JSON)).status_code == 200
    data = await _ask(client, user.email, scope="project:p2")
    assert data["allowed"] and data["matched_scope"] == "project:p2"
    assert data["granted_by"][0] == {"role_name": "ProjectReader", "scope": "project:p2",
                                     "applies_here": True, "carries_permission": True}

    await svc.users.suspend_user(user.id, "system", "test")
    assert (await tara.get("/projects/p2", headers=JSON)).status_code == 401
    data = await _ask(client, user.id, scope="project:p2")
    assert (data["allowed"], data["reason"]) == (False, "suspended")


async def test_the_page_answers_in_words_and_links_both_ways(
        client: Any, make_user: Any, login: Any, svc: AuthService) -> None:
    await _reader_role(svc)
    await make_user("boss", roles=(("Admin", "global"),))
    await login("boss")
    tara = await make_user("tara")
    empty = await client.get(PAGE)
    html = await empty.get_data(as_text=True)
    assert empty.status_code == 200 and "Ask about one person" in html
    assert 'href="/admin/why-denied"' in html and ">Why denied?</a>" in html  # the nav link
    detail = await (await client.get(f"/admin/users/{tara.id}")).get_data(as_text=True)
    assert f"/admin/why-denied?user={tara.id}&amp;scope=global" in detail
    prefilled = await (await client.get(PAGE, query_string={"user": tara.id})).get_data(
        as_text=True)
    assert f'value="{tara.id}"' in prefilled and "Denied" not in prefilled

    page = await client.get(PAGE, query_string={"user": "tara", "permission": "projects:read",
                                                "scope": "org:acme/project:p1"})
    html = await page.get_data(as_text=True)
    assert page.status_code == 200 and ">Denied</h2>" in html
    assert "None of tara&#39;s roles carries projects:read." in html
    assert "give tara one of these roles at org:acme/project:p1" in html
    assert f"/admin/users/{tara.id}?scope=org:acme/project:p1" in html
    for scope in ("org:acme/project:p1", "org:acme", "global"):
        assert f"<code class=\"at-break\">{scope}</code>" in html

    typo = await (await client.get(PAGE, query_string={
        "user": "tara", "permission": "projects:raed"})).get_data(as_text=True)
    assert "Did you mean projects:read?" in typo and "permission=projects:read" in typo


async def test_bad_input_is_400_on_both_faces(client: Any, make_user: Any,
                                              login: Any) -> None:
    await make_user("boss", roles=(("Admin", "global"),))
    await login("boss")
    query = {"user": "", "permission": "x:y", "scope": "org:a//b"}
    response = await client.get(PAGE, query_string=query)
    html = await response.get_data(as_text=True)
    assert response.status_code == 400 and 'aria-invalid="true"' in html
    assert "Give a user id, username or email address." in html
    response = await client.get(PAGE, query_string=query, headers=JSON)
    assert response.status_code == 400
    params = {e["param"] for e in (await response.get_json())["errors"]}
    assert params == {"user", "scope"}


async def test_markup_in_what_is_shown_is_escaped(client: Any, make_user: Any, login: Any,
                                                  svc: AuthService) -> None:
    await make_user("boss", roles=(("Admin", "global"),))
    await login("boss")
    await svc.permissions.get_or_create("projects:read")
    await svc.roles.create(MARKUP, level=1)
    await svc.roles.add_permission_to_role(MARKUP, "projects:read")
    victim = await make_user("victim", first_name=MARKUP,
                             roles=((MARKUP, "org:x"),))
    hostile_scope = "org:<script>alert(1)</script>"
    for query in ({"user": MARKUP, "permission": MARKUP, "scope": hostile_scope},
                  {"user": victim.username, "permission": "projects:read",
                   "scope": hostile_scope},
                  {"user": victim.id, "permission": "projects:read", "scope": "org:x"}):
        html = await (await client.get(PAGE, query_string=query)).get_data(as_text=True)
        assert "<img" not in html and "<script>alert" not in html, query
    html = await (await client.get(PAGE, query_string={
        "user": victim.id, "permission": "projects:read", "scope": "org:x"})).get_data(
        as_text=True)
    assert "&lt;img src=x onerror=alert(1)&gt;" in html and ">Allowed</h2>" in html

"""The admin users area over HTTP: who may enter, search and keyset pages, escaping, cost."""

from __future__ import annotations

import re
from typing import Any

from quart_authtuna.core import AuthService
from tests._support.queries import count_queries
from tests._support.web import ORIGIN

JSON = {"Accept": "application/json", "Origin": ORIGIN}
MARKUP = "<img src=x onerror=alert(1)>"


async def _admin(make_user: Any, login: Any, name: str = "boss") -> Any:
    user = await make_user(name, roles=(("Admin", "global"),))
    await login(name)
    return user


def _admin_rules(app: Any) -> list[Any]:
    return [r for r in app.app.url_map.iter_rules() if r.endpoint.startswith("authtuna_admin.")]


async def test_every_admin_route_refuses_a_user_without_panel_access(
        app: Any, client: Any, make_user: Any, login: Any) -> None:
    target = await make_user("target")
    await make_user("plain")
    await login("plain")
    rules = _admin_rules(app)
    assert len(rules) >= 14
    values = {"user_id": target.id, "session_id": "s", "key_id": "k", "role_name": "User",
              "permission_name": "org:create"}
    for rule in rules:
        path = rule.build(values, append_unknown=False)[1]
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            response = await client.open(path, method=method, headers=JSON,
                                         json={} if method == "POST" else None)
            assert response.status_code == 403, (method, path, response.status_code)
    anonymous = app.test_client()
    for rule in rules:
        path = rule.build(values, append_unknown=False)[1]
        response = await anonymous.get(path, headers=JSON)
        assert response.status_code in (401, 405), (path, response.status_code)


async def test_admin_routes_are_off_when_disabled(app_settings: dict[str, Any]) -> None:
    from tests.integration.conftest import build_app

    app = build_app({**app_settings, "ADMIN_ROUTES_ENABLED": False,
                     "DEFAULT_DATABASE_URI": "sqlite+aiosqlite:///:memory:"})
    assert not [r for r in app.url_map.iter_rules() if r.endpoint.startswith("authtuna_admin")]


async def test_search_filters_and_keyset_pages(client: Any, make_user: Any, login: Any,
                                               svc: AuthService) -> None:
    await _admin(make_user, login)
    for n in range(5):
        await make_user(f"zed{n}")
    lonely = await make_user("zoe", email_verified=False)
    await svc.roles.assign_to_user(lonely.id, "OrgOwner", "system", "org:acme")
    seen: list[str] = []
    cursor = None
    while True:
        query = {"q": "Ze", "limit": "2", "sort": "username"} | ({"cursor": cursor} if cursor
                                                              else {})
        body = await (await client.get("/admin/users/search", query_string=query,
                                       headers=JSON)).get_json()
        seen += [u["username"] for u in body["data"]]
        cursor = body["meta"]["next_cursor"] if body.get("meta") else None
        if not cursor:
            break
    assert seen == [f"zed{n}" for n in range(5)]
    body = await (await client.get("/admin/users/search", query_string={
        "role": "OrgOwner", "scope": "org:acme"}, headers=JSON)).get_json()
    assert [u["username"] for u in body["data"]] == ["zoe"]
    body = await (await client.get("/admin/users/search", query_string={
        "verified": "false", "identity": "z"}, headers=JSON)).get_json()
    assert [u["username"] for u in body["data"]] == ["zoe"]
    forged = await client.get("/admin/users/search", query_string={"cursor": "nope"},
                              headers=JSON)
    assert forged.status_code == 400
    html = await (await client.get("/admin/users", query_string={
        "q": "zed", "limit": "2", "sort": "username"})).get_data(as_text=True)
    assert "zed0" in html and "zed1" in html and "zed2" not in html and "Next page" in html


async def test_statements_per_page_do_not_grow_with_the_page(
        client: Any, make_user: Any, login: Any, svc: AuthService) -> None:
    await _admin(make_user, login)
    for n in range(12):
        await make_user(f"many{n}", roles=(("OrgMember", f"org:o{n}"),))
    counts = []
    for limit in (2, 10):
        with count_queries(svc.engine) as log:
            response = await client.get("/admin/users/search", query_string={
                "q": "many", "limit": str(limit)}, headers=JSON)
        assert response.status_code == 200
        assert len((await response.get_json())["data"]) == limit
        counts.append(len(log.data))
    assert counts[0] == counts[1], counts
    with count_queries(svc.engine) as log:
        assert (await client.get("/admin/users", query_string={"q": "many"})).status_code == 200
    assert len(log.data) <= counts[0] + 1  # the page also lists the roles for the filter


async def test_user_supplied_text_is_escaped_on_every_admin_page(
        client: Any, make_user: Any, login: Any, svc: AuthService) -> None:
    await _admin(make_user, login)
    victim = await make_user("victim", first_name=MARKUP, last_name=MARKUP)
    await svc.audit.log_event("CUSTOM", victim.id, details={"note": MARKUP})
    for path in ("/admin/users", f"/admin/users/{victim.id}",
                 f"/admin/users/{victim.id}/audit-log", "/admin/users?q=vic"):
        html = await (await client.get(path)).get_data(as_text=True)
        assert "<img" not in html, path
    html = await (await client.get(f"/admin/users/{victim.id}")).get_data(as_text=True)
    assert "&lt;img src=x onerror=alert(1)&gt;" in html


async def test_detail_and_details_data(client: Any, make_user: Any, login: Any) -> None:
    await _admin(make_user, login)
    member = await make_user("member", roles=(("OrgMember", "org:acme"),))
    html = await (await client.get(f"/admin/users/{member.id}")).get_data(as_text=True)
    assert re.search(r"<h1[^>]*>\s*member\s*</h1>", html)
    assert "Suspend account" in html and "org:acme" in html
    data = (await (await client.get(f"/admin/users/{member.id}/details-data",
                                    headers=JSON)).get_json())["data"]
    assert data["id"] == member.id and data["can_assign"] is True
    assert {(r["role_name"], r["scope"]) for r in data["roles"]} == {
        ("OrgMember", "org:acme"), ("User", "global")}
    assert "password_hash" not in data
    roles = (await (await client.get(f"/admin/users/{member.id}/assignable-roles",
                                     query_string={"scope": "org:acme"},
                                     headers=JSON)).get_json())["data"]
    assert "Moderator" in roles and "Admin" not in roles and "SuperAdmin" not in roles
    log = (await (await client.get(f"/admin/users/{member.id}/audit-log",
                                   headers=JSON)).get_json())["data"]
    assert {"event_type", "timestamp", "ip_address", "details"} <= set(log[0])
    assert (await client.get("/admin/users/nobody", headers=JSON)).status_code == 404


async def test_newest_first_pages_break_ties_by_id_on_both_backends(
        client: Any, make_user: Any, login: Any, svc: AuthService) -> None:
    await _admin(make_user, login)
    for n in range(7):  # the test clock stands still: every user shares one created_at
        await make_user(f"tie{n}")
    for sort in ("newest", "oldest"):
        seen: list[str] = []
        cursor = None
        while True:
            body = await (await client.get("/admin/users/search", query_string={
                "q": "tie", "limit": "3", "sort": sort} | ({"cursor": cursor} if cursor
                                                          else {}), headers=JSON)).get_json()
            seen += [u["id"] for u in body["data"]]
            cursor = (body.get("meta") or {}).get("next_cursor")
            if not cursor:
                break
        assert len(seen) == len(set(seen)) == 7, sort
        assert seen == sorted(seen, reverse=sort == "newest"), sort

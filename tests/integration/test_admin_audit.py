"""The admin audit log over HTTP: filters, keyset pages both ways, fixed cost, exports,
escaping, access; the user's own log on the same keyset; admin actions record the IP."""

from __future__ import annotations

import base64
import csv
import io
import json
from typing import Any

from sqlalchemy import select

from quart_authtuna.core import AuthService
from quart_authtuna.core.audit_queries import AuditQuery
from quart_authtuna.core.db.models import AuditEvent
from quart_authtuna.core.types import RequestMeta
from tests._support.clock import FakeClock
from tests._support.openapi import AnswerChecker
from tests._support.queries import count_queries
from tests._support.web import ORIGIN, submit

JSON = {"Accept": "application/json", "Origin": ORIGIN}
MARKUP = "<img src=x onerror=alert(1)>"
DAY = 86_400.0


async def _admin(make_user: Any, login: Any, name: str = "boss") -> Any:
    user = await make_user(name, roles=(("Admin", "global"),))
    await login(name)
    return user


async def _seed(svc: AuthService, clock: FakeClock, make_user: Any) -> dict[str, Any]:
    """Three users, events over three days; several share one timestamp (ties by id)."""
    ann, bob = await make_user("ann"), await make_user("bob")
    for n in range(7):
        await svc.audit.log_event("NOTE", ann.id, "10.0.0.1", {"n": n})
        if n % 3 == 0:
            clock.advance(1)
    clock.advance(DAY)
    for n in range(5):
        await svc.audit.log_event("ALERT", bob.id, "10.0.0.2", {"n": n})
    clock.advance(DAY)
    for n in range(4):
        await svc.audit.log_event("NOTE", bob.id, "10.0.0.1", {"n": n})
        clock.advance(0.5)
    return {"ann": ann, "bob": bob}


async def _all(svc: AuthService, *where: Any) -> list[int]:
    """Event ids newest first, straight from the table."""
    async with svc.transaction() as tx:
        return list((await tx.scalars(select(AuditEvent.id).where(*where).order_by(
            AuditEvent.timestamp.desc(), AuditEvent.id.desc()))).all())


async def _ids(client: Any, **args: str) -> list[int]:
    response = await client.get("/admin/audit", query_string={"limit": "200", **args},
                                headers=JSON)
    assert response.status_code == 200, await response.get_data(as_text=True)
    return [e["id"] for e in (await response.get_json())["data"]]


async def test_each_filter_narrows_the_log(client: Any, make_user: Any, login: Any,
                                           svc: AuthService, clock: FakeClock) -> None:
    users = await _seed(svc, clock, make_user)
    await _admin(make_user, login)
    ann, bob = users["ann"], users["bob"]
    everything = await _ids(client)
    assert everything == await _all(svc)
    cases = {
        "event_type": ({"event_type": "ALERT"}, [AuditEvent.event_type == "ALERT"]),
        "user by id": ({"user": bob.id}, [AuditEvent.user_id == bob.id]),
        "user by name": ({"user": "ANN"}, [AuditEvent.user_id == ann.id]),
        "user by email": ({"user": "bob@example.com"}, [AuditEvent.user_id == bob.id]),
        "ip": ({"ip": "10.0.0.2"}, [AuditEvent.ip_address == "10.0.0.2"]),
        "both": ({"event_type": "NOTE", "user": "bob"},
                 [AuditEvent.event_type == "NOTE", AuditEvent.user_id == bob.id]),
    }
    for name, (args, where) in cases.items():
        expected = await _all(svc, *where)
        assert expected and len(expected) < len(everything), name
        assert await _ids(client, **args) == expected, name
    start = 1_800_000_000.0  # the test clock's first day, 2027-01-15 (UTC)
    second_day = await _all(svc, AuditEvent.timestamp >= start + DAY - 28_800,
                            AuditEvent.timestamp < start + 2 * DAY - 28_800)
    assert await _ids(client, date_from="2027-01-16", date_to="2027-01-16") == second_day
    assert set(await _ids(client, date_from="2027-01-16")) > set(second_day)
    assert await _ids(client, user="nobody-at-all") == []
    html = await (await client.get("/admin/audit", query_string={
        "user": "nobody-at-all"})).get_data(as_text=True)
    assert "No events match these filters." in html
    for bad in ({"date_from": "15/01/2027"}, {"date_from": "2027-01-16", "date_to": "2027-01-15"}):
        response = await client.get("/admin/audit", query_string=bad, headers=JSON)
        assert response.status_code == 400
        assert (await response.get_json())["errors"][0]["param"] in ("date_from", "date_to")


async def test_keyset_pages_cover_every_event_once_forward_and_backward(
        client: Any, make_user: Any, login: Any, svc: AuthService, clock: FakeClock) -> None:
    await _seed(svc, clock, make_user)
    await _admin(make_user, login)
    expected = await _all(svc)
    forward: list[list[int]] = []
    cursor: str | None = None
    prev_on_first = "unset"
    while True:
        args = {"limit": "4"} | ({"cursor": cursor} if cursor else {})
        body = await (await client.get("/admin/audit", query_string=args,
                                       headers=JSON)).get_json()
        forward.append([e["id"] for e in body["data"]])
        if cursor is None:
            prev_on_first = body["meta"]["prev_cursor"]
        cursor, back = body["meta"]["next_cursor"], body["meta"]["prev_cursor"]
        if not cursor:
            break
    assert prev_on_first is None
    assert [i for page in forward for i in page] == expected
    assert len(forward) == -(-len(expected) // 4)
    backward: list[list[int]] = [forward[-1]]
    while back:
        body = await (await client.get("/admin/audit", query_string={
            "limit": "4", "cursor": back}, headers=JSON)).get_json()
        backward.insert(0, [e["id"] for e in body["data"]])
        back = body["meta"]["prev_cursor"]
    assert backward == forward
    html = await (await client.get("/admin/audit", query_string={"limit": "4"})
                  ).get_data(as_text=True)
    assert "Next (older)" in html and "Previous" not in html
    second = await (await client.get("/admin/audit", query_string={
        "limit": "4", "cursor": (await (await client.get("/admin/audit", query_string={
            "limit": "4"}, headers=JSON)).get_json())["meta"]["next_cursor"]})
                    ).get_data(as_text=True)
    assert "← Previous" in second and "Next (older)" in second


def _forge(value: Any) -> str:
    return base64.urlsafe_b64encode(json.dumps(value).encode()).decode()


async def test_a_forged_cursor_is_a_clear_400(client: Any, make_user: Any, login: Any,
                                              svc: AuthService, clock: FakeClock) -> None:
    await _seed(svc, clock, make_user)
    await _admin(make_user, login)
    users_cursor = _forge(["newest", 1.0, "x"])
    for forged in ("nope", "!!!", _forge(["audit", "sideways", 1.0, 1]),
                   _forge(["audit", "older", "1", 1]), _forge(["audit", "older", 1.0, True]),
                   users_cursor, _forge({"a": 1})):
        response = await client.get("/admin/audit", query_string={"cursor": forged},
                                    headers=JSON)
        assert response.status_code == 400, forged
        error = (await response.get_json())["errors"][0]
        assert error["param"] == "cursor" and "not valid" in error["message"]
        page = await client.get("/admin/audit", query_string={"cursor": forged})
        assert page.status_code == 400
        assert "That page link is not valid" in await page.get_data(as_text=True)


async def test_statements_per_page_are_fixed_whatever_the_size_or_depth(
        client: Any, make_user: Any, login: Any, svc: AuthService, clock: FakeClock) -> None:
    await _seed(svc, clock, make_user)
    await _admin(make_user, login)
    counts = {}
    for limit in ("2", "5"):
        for args in ({}, {"user": "bob"}):
            with count_queries(svc.engine) as log:
                response = await client.get("/admin/audit", query_string={
                    "limit": limit, **args}, headers=JSON)
            body = await response.get_json()
            assert len(body["data"]) == int(limit)
            counts[limit, bool(args)] = len(log.data)
            with count_queries(svc.engine) as log:
                deeper = await client.get("/admin/audit", query_string={
                    "limit": limit, "cursor": body["meta"]["next_cursor"], **args},
                    headers=JSON)
            assert deeper.status_code == 200
            assert len(log.data) == counts[limit, bool(args)]
    assert counts["2", False] == counts["5", False]
    assert counts["2", True] == counts["5", True] == counts["2", False] + 1
    with count_queries(svc.engine) as log:
        assert (await client.get("/admin/audit", query_string={"limit": "12"})
                ).status_code == 200
    assert len(log.data) == counts["5", False]


async def test_exports_hold_the_filtered_events_defuse_formulas_and_are_audited(
        client: Any, make_user: Any, login: Any, svc: AuthService, clock: FakeClock) -> None:
    users = await _seed(svc, clock, make_user)
    admin = await _admin(make_user, login)
    bob = users["bob"]
    await svc.audit.log_event("=cmd|' /C calc'!A0", bob.id, "+1.2.3.4",
                              {"note": "@SUM(1+1)", "other": "-2+3"})
    expected = await _all(svc, AuditEvent.user_id == bob.id)
    response = await client.get("/admin/audit/export.csv", query_string={"user": "bob"})
    assert response.status_code == 200
    assert response.mimetype == "text/csv"
    disposition = response.headers["Content-Disposition"]
    assert disposition == 'attachment; filename="audit-2027-01-17.csv"', disposition
    rows = list(csv.reader(io.StringIO(await response.get_data(as_text=True))))
    assert rows[0][:3] == ["id", "time_utc", "event_type"]
    assert [int(r[0]) for r in rows[1:]] == expected
    assert {r[4] for r in rows[1:]} == {"bob"}
    formula = next(r for r in rows[1:] if "calc" in r[2])
    assert formula[2] == "'=cmd|' /C calc'!A0" and formula[7] == "'+1.2.3.4"
    for row in rows:
        for cell in row:
            assert not cell.startswith(("=", "+", "-", "@")), cell
    response = await client.get("/admin/audit/export.json", query_string={
        "user": "bob", "event_type": "ALERT"})
    assert response.status_code == 200 and response.mimetype == "application/json"
    assert response.headers["Content-Disposition"].startswith("attachment;")
    data = json.loads(await response.get_data(as_text=True))
    assert [e["id"] for e in data] == await _all(svc, AuditEvent.user_id == bob.id,
                                                 AuditEvent.event_type == "ALERT")
    assert {e["username"] for e in data} == {"bob"}
    async with svc.transaction() as tx:
        exports = (await tx.scalars(select(AuditEvent).where(
            AuditEvent.event_type == "AUDIT_LOG_EXPORTED").order_by(AuditEvent.id))).all()
    assert [(e.actor_id, e.ip_address, e.details) for e in exports] == [
        (admin.id, exports[0].ip_address, {"format": "csv", "filters": {"user": "bob"}}),
        (admin.id, exports[0].ip_address, {"format": "json", "filters": {
            "user": "bob", "event_type": "ALERT"}})]
    assert exports[0].ip_address
    everything = await svc.audit_queries.export(AuditQuery(), admin.id, RequestMeta(), "csv",
                                                batch=4)
    pages = [len(p.rows) async for p in everything]
    assert sum(pages) == len(await _all(svc)) and max(pages) == 4 and len(pages) > 2
    bad = await client.get("/admin/audit/export.csv", query_string={"date_to": "soon"},
                           headers=JSON)
    assert bad.status_code == 400


async def test_markup_is_escaped_and_names_replace_ids(
        client: Any, make_user: Any, login: Any, svc: AuthService) -> None:
    admin = await _admin(make_user, login)
    victim = await make_user("victim")
    await svc.audit.log_event(MARKUP, victim.id, details={"note": MARKUP, MARKUP: "x"})
    await svc.roles.assign_to_user(victim.id, "Moderator", admin.id, "global")
    for path in ("/admin/audit", f"/admin/users/{victim.id}/audit-log",
                 f"/admin/users/{victim.id}"):
        html = await (await client.get(path)).get_data(as_text=True)
        assert "<img" not in html and "&lt;img src=x onerror=alert(1)&gt;" in html, path
        assert f">{admin.username}</a>" in html, path
    html = await (await client.get("/admin/audit")).get_data(as_text=True)
    assert ">victim</a>" in html and "note:" in html


async def test_the_log_needs_manage_users(client: Any, make_user: Any, login: Any,
                                          svc: AuthService) -> None:
    await svc.roles.create("Viewer", "Sees the panel only", level=60)
    await svc.roles.add_permission_to_role("Viewer", "admin:access:panel")
    await make_user("viewer", roles=(("Viewer", "global"),))
    await login("viewer")
    for path in ("/admin/audit", "/admin/audit/export.csv", "/admin/audit/export.json"):
        assert (await client.get(path, headers=JSON)).status_code == 403, path
        assert (await client.get(path)).status_code == 403, path


async def test_the_users_log_uses_keyset_pages_and_keeps_skip(
        client: Any, make_user: Any, login: Any, svc: AuthService, clock: FakeClock) -> None:
    users = await _seed(svc, clock, make_user)
    await _admin(make_user, login)
    bob = users["bob"]
    expected = await _all(svc, AuditEvent.user_id == bob.id)
    seen: list[int] = []
    cursor = None
    path = f"/admin/users/{bob.id}/audit-log"
    while True:
        body = await (await client.get(path, query_string={"limit": "3"} | (
            {"cursor": cursor} if cursor else {}), headers=JSON)).get_json()
        seen += [e["id"] for e in body["data"]]
        cursor = body["meta"]["next_cursor"]
        if not cursor:
            break
    assert seen == expected
    legacy = (await (await client.get(path, query_string={"skip": "3", "limit": "3"},
                                      headers=JSON)).get_json())["data"]
    assert [e["id"] for e in legacy] == expected[3:6]
    first = await (await client.get(path, query_string={"limit": "3"}, headers=JSON)).get_json()
    html = await (await client.get(path, query_string={
        "limit": "3", "cursor": first["meta"]["next_cursor"]})).get_data(as_text=True)
    assert "← Previous" in html and "Next (older)" in html
    assert (await client.get("/admin/users/nobody/audit-log", headers=JSON)).status_code == 404


async def test_admin_actions_record_the_request_ip(
        client: Any, make_user: Any, login: Any, svc: AuthService) -> None:
    admin = await _admin(make_user, login)
    target = await make_user("target")
    for path, data in ((f"/admin/users/{target.id}/suspend", {"reason": "spam"}),
                       (f"/admin/users/{target.id}/unsuspend", {"reason": "ok"}),
                       ("/admin/users/roles/assign", {"user_id": target.id,
                                                      "role_name": "OrgMember",
                                                      "scope": "org:acme"}),
                       ("/admin/users/roles/revoke", {"user_id": target.id,
                                                      "role_name": "OrgMember",
                                                      "scope": "org:acme"}),
                       (f"/admin/users/{target.id}/sessions/end-all", {})):
        response = await submit(client, path, data, face="json",
                                scope_base={"client": ("203.0.113.7", 40000)})
        assert response.status_code == 200, (path, await response.get_data(as_text=True))
    async with svc.transaction() as tx:
        rows = (await tx.execute(select(AuditEvent.event_type, AuditEvent.ip_address).where(
            AuditEvent.actor_id == admin.id, AuditEvent.user_id == target.id))).all()
    kinds = {kind for kind, _ in rows}
    assert {"USER_SUSPENDED", "USER_UNSUSPENDED", "ROLE_ASSIGNED", "ROLE_REMOVED",
            "SESSIONS_TERMINATED_ALL"} <= kinds, kinds
    assert {ip for _, ip in rows} == {"203.0.113.7"}, rows


async def test_answers_match_the_openapi_document(
        client: Any, make_user: Any, login: Any, svc: AuthService, clock: FakeClock) -> None:
    users = await _seed(svc, clock, make_user)
    await _admin(make_user, login)
    document = await (await client.get("/auth/openapi.json")).get_json()
    call = AnswerChecker(client, document, JSON)
    page = await call("GET", "/admin/audit?limit=3&event_type=NOTE", "/admin/audit")
    await call("GET", f"/admin/audit?limit=3&cursor={page['meta']['next_cursor']}",
               "/admin/audit")
    await call("GET", "/admin/audit?cursor=forged", "/admin/audit")  # 400: the envelope
    log = "/admin/users/{user_id}/audit-log"
    for query in ("?limit=2", "?skip=2&limit=2"):
        await call("GET", log.format(user_id=users["bob"].id) + query, log)
    await call("GET", "/admin/audit/export.json?user=ann", "/admin/audit/export.json")
    export = document["paths"]["/admin/audit/export.csv"]["get"]
    assert set(export["responses"]["200"]["content"]) == {"text/csv"}
    assert {p["name"] for p in export["parameters"]} == {
        "event_type", "user", "ip", "date_from", "date_to"}

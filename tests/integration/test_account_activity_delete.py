"""Security activity (keyset pages, newest first, in words) and deleting one's own account."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from sqlalchemy import func, select

from quart_authtuna.core import AuthService
from quart_authtuna.core.db.models import AuditEvent, DeletedUser
from quart_authtuna.core.types import RequestMeta
from tests._support.clock import FakeClock
from tests._support.web import submit
from tests.conftest import PASSWORD

JSON = {"Accept": "application/json"}
Make = Callable[..., Awaitable[Any]]
Login = Callable[..., Awaitable[Any]]


async def page(client: Any, before: str | None = None) -> dict[str, Any]:
    url = "/ui/settings/activity" + (f"?before={before}" if before else "")
    response = await client.get(url, headers=JSON)
    assert response.status_code == 200
    return dict((await response.get_json())["data"])


async def test_activity_is_keyset_paged_and_stable(client: Any, svc: AuthService,
                                                   clock: FakeClock, make_user: Make,
                                                   login: Login) -> None:
    user = await make_user("ada")
    await login("ada")
    for n in range(45):
        clock.advance(1)
        await svc.audit.log_event("PASSKEY_RENAMED", user.id, "203.0.113.9", {"n": n})
    first = await page(client)
    assert len(first["events"]) == 20
    stamps = [(e["timestamp"], e["id"]) for e in first["events"]]
    assert stamps == sorted(stamps, reverse=True)
    assert first["events"][0]["description"] == "A passkey was renamed"
    # New events arrive: the next page still continues exactly after the last row shown.
    for _ in range(5):
        clock.advance(1)
        await svc.audit.log_event("PASSWORD_CHANGED", user.id)
    second = await page(client, first["next_cursor"])
    assert (second["events"][0]["timestamp"], second["events"][0]["id"]) < stamps[-1]
    assert not {e["id"] for e in second["events"]} & {e["id"] for e in first["events"]}
    seen = len(first["events"]) + len(second["events"])
    cursor = second["next_cursor"]
    while cursor:
        more = await page(client, cursor)
        seen += len(more["events"])
        cursor = more["next_cursor"]
    async with svc.transaction() as tx:
        older = await tx.scalar(select(func.count()).select_from(AuditEvent).where(
            AuditEvent.user_id == user.id, AuditEvent.event_type != "PASSWORD_CHANGED"))
    assert seen == older


async def test_activity_page_in_words_and_escaped(client: Any, svc: AuthService,
                                                  make_user: Make, login: Login) -> None:
    user = await make_user("eve")
    await svc.audit.log_event("API_KEY_CREATED", user.id, None,
                              {"name": "<script>alert(1)</script>"})
    await login("eve")
    html = await (await client.get("/ui/settings/activity")).get_data(as_text=True)
    assert "An API key was created: &lt;script&gt;" in html and "<script>alert" not in html
    assert "You signed in" in html
    assert (await client.get("/ui/settings/activity?before=nonsense",
                             headers=JSON)).status_code == 400
    other = await make_user("other")
    await svc.audit.log_event("PASSWORD_CHANGED", other.id)
    events = (await page(client))["events"]
    assert all(e["event_type"] != "PASSWORD_CHANGED" for e in events)


async def test_activity_empty_older_page(client: Any, make_user: Make, login: Login) -> None:
    await make_user("new")
    await login("new")
    html = await (await client.get("/ui/settings/activity?before=1.0_1")).get_data(as_text=True)
    assert "No older events." in html


async def test_delete_needs_a_fresh_sign_in(client: Any, clock: FakeClock, make_user: Make,
                                            login: Login) -> None:
    await make_user("old")
    await login("old")
    clock.advance(3600)
    stale = await client.get("/ui/settings/delete")
    assert stale.status_code == 302 and "/auth/reauthenticate" in stale.headers["Location"]
    refused = await client.post("/ui/settings/delete", json={"confirmation": "old"},
                                headers={"Origin": "http://localhost", **JSON})
    assert refused.status_code == 401
    assert (await refused.get_json())["errors"][0]["code"] == "reauthentication_required"
    assert (await client.get("/protected")).status_code == 200


async def test_delete_needs_the_username_typed(client: Any, svc: AuthService, face: str,
                                               make_user: Make, login: Login) -> None:
    await make_user("kept")
    await login("kept")
    warning = await (await client.get("/ui/settings/delete")).get_data(as_text=True)
    assert "This cannot be undone" in warning
    wrong = await submit(client, "/ui/settings/delete", {"confirmation": "someone"}, face=face)
    assert wrong.status_code == 400
    assert await svc.users.get_by_username("kept") is not None
    assert (await client.get("/protected")).status_code == 200


async def test_delete_erases_signs_out_everywhere_and_says_goodbye(
        client: Any, app: Any, svc: AuthService, face: str, make_user: Make,
        login: Login) -> None:
    user = await make_user("gone")
    await login("gone")
    other = app.test_client()
    await submit(other, "/auth/login", {"username_or_email": "gone", "password": PASSWORD})
    issued = await svc.flows.api_keys.create(user.id, "k", "master", [], 3600, RequestMeta())
    bearer = {"Authorization": f"Bearer {issued.plaintext}", **JSON}
    assert (await app.test_client().get("/protected", headers=bearer)).status_code == 200

    done = await submit(client, "/ui/settings/delete", {"confirmation": "GONE"}, face=face)
    assert done.status_code == 200, await done.get_data(as_text=True)
    if face == "json":
        assert (await done.get_json())["data"] == {"deleted": True, "sessions_ended": 2,
                                                   "api_keys_revoked": 1}
    else:
        assert "Your account was deleted" in await done.get_data(as_text=True)
    assert "Max-Age=0" in done.headers.get("Set-Cookie", "") or "expires=Thu, 01 Jan 1970" \
        in done.headers.get("Set-Cookie", "")
    assert await svc.users.get_by_id(user.id) is None
    for browser in (client, other):
        assert (await browser.get("/protected")).status_code == 302
    assert (await app.test_client().get("/protected", headers=bearer)).status_code == 401
    await svc.mail.drain()
    goodbye = svc.mail.outbox.last("account_deleted", "gone@example.com")
    assert goodbye is not None and "was deleted" in goodbye.subject
    async with svc.transaction() as tx:
        archived = await tx.scalar(select(DeletedUser).where(DeletedUser.user_id == user.id))
        deleted = await tx.scalar(select(AuditEvent).where(
            AuditEvent.event_type == "USER_DELETED", AuditEvent.actor_id == user.id))
    assert archived is not None and archived.data["deleted_by"] == user.id
    assert deleted is not None

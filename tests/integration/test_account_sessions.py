"""/ui/settings sessions: list (the current one marked), end one, end all others; both faces."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from quart.typing import TestAppProtocol as AppUnderTest

from tests._support.web import ORIGIN, submit
from tests.conftest import PASSWORD

JSON = {"Accept": "application/json"}


async def second_browser(app: AppUnderTest, username: str) -> Any:
    """Another signed-in client of the same user (another device)."""
    other = app.test_client()
    response = await submit(other, "/auth/login",
                            {"username_or_email": username, "password": PASSWORD})
    assert response.status_code == 302
    return other


async def listed(client: Any) -> list[dict[str, Any]]:
    response = await client.get("/ui/settings/sessions", headers=JSON)
    assert response.status_code == 200
    return list((await response.get_json())["data"])


async def test_sessions_list_marks_the_current_one(client: Any, app: AppUnderTest,
                                                   make_user: Callable[..., Awaitable[Any]],
                                                   login: Callable[..., Awaitable[Any]]) -> None:
    await make_user("sara")
    await login("sara")
    await second_browser(app, "sara")
    sessions = await listed(client)
    assert len(sessions) == 2
    assert [s["is_current"] for s in sessions] == [True, False]
    assert set(sessions[0]) >= {"session_id", "region", "device", "last_ip", "mtime",
                                "is_current"}
    page = await (await client.get("/ui/settings")).get_data(as_text=True)
    assert "This device" in page and page.count("End session") == 1
    assert "Sign out all other sessions" in page


async def test_end_one_session_signs_that_browser_out(
        client: Any, app: AppUnderTest, face: str,
        make_user: Callable[..., Awaitable[Any]], login: Callable[..., Awaitable[Any]]) -> None:
    await make_user("sam")
    await login("sam")
    other = await second_browser(app, "sam")
    assert (await other.get("/protected")).status_code == 200
    target = next(s for s in await listed(client) if not s["is_current"])
    response = await submit(client, f"/ui/settings/sessions/{target['session_id']}/terminate",
                            {}, page="/ui/settings", face=face)
    if face == "json":
        assert response.status_code == 200
        assert (await response.get_json())["data"] == {"session_id": target["session_id"],
                                                       "ended": True}
    else:
        assert response.status_code == 302
        assert "done=session_ended" in response.headers["Location"]
        location = response.headers["Location"].partition("#")[0]
        notice = await (await client.get(location)).get_data(as_text=True)
        assert "That session was ended" in notice
    refused = await other.get("/protected")
    assert refused.status_code == 302 and "/auth/login" in refused.headers["Location"]
    assert [s["is_current"] for s in await listed(client)] == [True]
    assert (await client.get("/protected")).status_code == 200


async def test_the_current_session_is_not_ended_here(
        client: Any, face: str, make_user: Callable[..., Awaitable[Any]],
        login: Callable[..., Awaitable[Any]]) -> None:
    await make_user("cid")
    await login("cid")
    current = (await listed(client))[0]["session_id"]
    response = await submit(client, f"/ui/settings/sessions/{current}/terminate", {},
                            page="/ui/settings", face=face)
    assert response.status_code == 400
    assert (await client.get("/protected")).status_code == 200


async def test_another_users_session_answers_404_and_survives(
        client: Any, app: AppUnderTest, face: str,
        make_user: Callable[..., Awaitable[Any]], login: Callable[..., Awaitable[Any]]) -> None:
    await make_user("mallory")
    await make_user("victim")
    victim = await second_browser(app, "victim")
    victim_session = (await listed(victim))[0]["session_id"]
    await login("mallory")
    response = await submit(client, f"/ui/settings/sessions/{victim_session}/terminate", {},
                            page="/ui/settings", face=face)
    assert response.status_code == 404
    assert (await victim.get("/protected")).status_code == 200
    unknown = await submit(client, "/ui/settings/sessions/" + "0" * 64 + "/terminate", {},
                           page="/ui/settings", face=face)
    assert unknown.status_code == 404


async def test_end_all_others_keeps_this_one(client: Any, app: AppUnderTest, face: str,
                                             make_user: Callable[..., Awaitable[Any]],
                                             login: Callable[..., Awaitable[Any]]) -> None:
    await make_user("alma")
    await login("alma")
    others = [await second_browser(app, "alma") for _ in range(2)]
    response = await submit(client, "/ui/settings/sessions/terminate-all", {},
                            page="/ui/settings", face=face)
    assert response.status_code == (200 if face == "json" else 302)
    if face == "json":
        assert (await response.get_json())["data"] == {"ended": 2}
    for other in others:
        assert (await other.get("/protected")).status_code == 302
    assert (await client.get("/protected")).status_code == 200
    page = await (await client.get("/ui/settings")).get_data(as_text=True)
    assert "No other sessions" in page


async def test_session_routes_need_sign_in_and_csrf(client: Any,
                                                    make_user: Callable[..., Awaitable[Any]],
                                                    login: Callable[..., Awaitable[Any]]) -> None:
    assert (await client.get("/ui/settings/sessions", headers=JSON)).status_code == 401
    await make_user("cora")
    await login("cora")
    forged = await client.post("/ui/settings/sessions/terminate-all", form={})
    assert forged.status_code == 400
    cross = await client.post("/ui/settings/sessions/terminate-all", json={},
                              headers={"Origin": "https://evil.example", **JSON})
    assert cross.status_code == 403
    assert ORIGIN

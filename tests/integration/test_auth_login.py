"""Signing in and out through /auth: cookies, fresh session ids, generic failures, freshness."""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import unquote

import pytest

from quart_authtuna.core import AuthService
from tests._support.clock import FakeClock
from tests._support.web import ORIGIN, submit
from tests.conftest import PASSWORD

COOKIE = "session_token"
JSON = {"Accept": "application/json"}


# --- helpers ---------------------------------------------------------------------------------

def session_set_cookie(response: Any) -> str:
    """The Set-Cookie header that carries the session cookie."""
    found = [h for h in response.headers.getlist("Set-Cookie") if h.startswith(f"{COOKIE}=")]
    assert found, f"no {COOKIE} cookie set: {response.headers.getlist('Set-Cookie')}"
    return found[-1]


def cookie_value(response: Any) -> str:
    return session_set_cookie(response).split(";", 1)[0].split("=", 1)[1]


def alert_text(html: str) -> str:
    """The text of the page's error banner, tags and extra whitespace removed."""
    match = re.search(r'role="alert">(.*?)</div>\s*</div>', html, re.S)
    assert match, "no error banner on the page"
    return " ".join(re.sub(r"<[^>]+>", " ", match.group(1)).split())


async def failure(response: Any, face: str) -> tuple[int, Any]:
    """What a client can tell about a failed login: status and the error shown."""
    if face == "json":
        return response.status_code, await response.get_json()
    return response.status_code, alert_text(await response.get_data(as_text=True))


async def sign_in(client: Any, who: str, face: str, password: str = PASSWORD, **extra: Any
                  ) -> Any:
    return await submit(client, "/auth/login",
                        {"username_or_email": who, "password": password, **extra}, face=face)


def ok_status(face: str) -> int:
    return 302 if face == "html" else 200


async def replay(app: Any, cookie: str, path: str = "/protected") -> Any:
    """A request from a brand-new client that only carries ``cookie``."""
    return await app.test_client().get(path, headers={"Cookie": f"{COOKIE}={cookie}", **JSON})


# --- login -----------------------------------------------------------------------------------

async def test_login_sets_httponly_lax_root_cookie_and_opens_protected(
        client: Any, make_user: Any, face: str) -> None:
    user = await make_user("alice")
    response = await sign_in(client, "alice", face)
    assert response.status_code == ok_status(face)
    attributes = [a.strip().lower() for a in session_set_cookie(response).split(";")[1:]]
    assert "httponly" in attributes
    assert "samesite=lax" in attributes
    assert "path=/" in attributes
    assert not any(a.startswith("domain=") for a in attributes)
    if face == "json":
        body = await response.get_json()
        assert body["status"] == 200 and body["data"]["user"]["id"] == user.id
        assert body["data"]["next"] == "/"
    else:
        assert response.headers["Location"] == "/"
    protected = await client.get("/protected")
    assert protected.status_code == 200
    assert (await protected.get_json())["username"] == "alice"


async def test_login_with_email_identifier_works(client: Any, make_user: Any, face: str) -> None:
    await make_user("bob")
    response = await sign_in(client, "bob@example.com", face)
    assert response.status_code == ok_status(face)
    assert (await client.get("/protected")).status_code == 200


async def test_each_login_issues_new_session_id_and_ends_previous(
        app: Any, client: Any, svc: AuthService, make_user: Any, face: str) -> None:
    user = await make_user("carol")
    first = cookie_value(await sign_in(client, "carol", face))
    second = cookie_value(await sign_in(client, "carol", face))
    assert first != second
    sessions = await svc.sessions.get_all_for_user(user.id)
    assert len(sessions) == 1, "logging in again from the same browser must end the old session"
    assert (await replay(app, first)).status_code == 401
    assert (await replay(app, second)).status_code == 200


async def test_cookie_before_login_is_not_promoted(app: Any, client: Any, make_user: Any,
                                                   face: str) -> None:
    """A session cookie another user planted is replaced, never reused (fixation)."""
    await make_user("dora")
    await make_user("eve")
    planted = cookie_value(await sign_in(client, "eve", face))
    victim = app.test_client()
    victim.set_cookie("localhost", COOKIE, planted)
    own = cookie_value(await sign_in(victim, "dora", face))
    assert own != planted
    assert (await (await replay(app, own)).get_json())["username"] == "dora"
    assert (await replay(app, planted)).status_code == 401, "the planted session was ended"


async def test_unknown_user_wrong_password_and_suspended_fail_identically(
        client: Any, make_user: Any, face: str) -> None:
    await make_user("frank")
    await make_user("gina", is_active=False)
    answers = [
        await failure(await sign_in(client, "nobody-here", face), face),
        await failure(await sign_in(client, "frank", face, password="wrong password 123"), face),
        await failure(await sign_in(client, "gina", face), face),
    ]
    assert answers[0][0] == 401
    assert answers[0] == answers[1] == answers[2]
    if face == "json":
        assert answers[0][1]["errors"][0]["code"] == "invalid_credentials"
    assert (await client.get("/protected", headers=JSON)).status_code == 401


async def test_failed_login_sets_no_session_cookie(client: Any, make_user: Any,
                                                   face: str) -> None:
    await make_user("hank")
    response = await sign_in(client, "hank", face, password="not the password")
    assert not [h for h in response.headers.getlist("Set-Cookie") if h.startswith(f"{COOKIE}=")]


async def test_unverified_email_with_right_password_gets_401_and_a_new_link(
        client: Any, svc: AuthService, make_user: Any, face: str) -> None:
    user = await make_user("ivy", email_verified=False)
    response = await sign_in(client, "ivy", face)
    assert response.status_code == 401
    if face == "json":
        errors = (await response.get_json())["errors"]
        assert errors[0]["code"] == "email_not_verified"
    else:
        assert "confirm your email" in alert_text(await response.get_data(as_text=True))
    await svc.mail.drain()
    mail = svc.mail.outbox.last("verification", user.email)
    assert mail is not None and "/auth/verify?token=" in mail.text
    assert (await client.get("/protected", headers=JSON)).status_code == 401


async def test_unverified_email_with_wrong_password_looks_like_any_failure(
        client: Any, svc: AuthService, make_user: Any, face: str) -> None:
    user = await make_user("jack", email_verified=False)
    wrong = await failure(await sign_in(client, "jack", face, password="wrong password 123"),
                          face)
    unknown = await failure(await sign_in(client, "nobody", face), face)
    assert wrong == unknown
    await svc.mail.drain()
    assert svc.mail.outbox.last("verification", user.email) is None


@pytest.mark.parametrize("target", ["/projects/p1?tab=a", "/bare"])
async def test_safe_next_is_followed_after_login(client: Any, make_user: Any, face: str,
                                                  target: str) -> None:
    await make_user("kim")
    response = await sign_in(client, "kim", face, next=target)
    if face == "json":
        assert (await response.get_json())["data"]["next"] == target
    else:
        assert response.status_code == 302 and response.headers["Location"] == target


async def test_unsafe_next_falls_back_to_root(client: Any, make_user: Any, face: str) -> None:
    await make_user("lea")
    response = await sign_in(client, "lea", face, next="https://evil.example/x")
    if face == "json":
        assert (await response.get_json())["data"]["next"] == "/"
    else:
        assert response.headers["Location"] == "/"


async def test_anonymous_protected_page_redirects_to_login_with_next(client: Any) -> None:
    response = await client.get("/projects/p1?tab=a")
    assert response.status_code == 302
    location = unquote(response.headers["Location"])
    assert location.startswith("/auth/login?next=/projects/p1?tab=a")


# --- logout ----------------------------------------------------------------------------------

async def test_logout_refuses_get(client: Any, make_user: Any) -> None:
    await make_user("mia")
    await sign_in(client, "mia", "html")
    assert (await client.get("/auth/logout")).status_code == 405
    assert (await client.get("/protected")).status_code == 200


async def test_logout_ends_the_session_for_a_replayed_cookie(
        app: Any, client: Any, make_user: Any, face: str) -> None:
    await make_user("ned")
    old = cookie_value(await sign_in(client, "ned", face))
    assert (await replay(app, old)).status_code == 200
    response = await submit(client, "/auth/logout", {}, page="/auth/change-password", face=face)
    assert response.status_code == ok_status(face)
    cleared = session_set_cookie(response)
    assert cleared.startswith(f"{COOKIE}=;") or "max-age=0" in cleared.lower()
    if face == "json":
        assert (await response.get_json())["data"] == {"logged_out": True}
    else:
        assert response.headers["Location"] == "/auth/login"
    assert (await replay(app, old)).status_code == 401
    assert (await client.get("/protected", headers=JSON)).status_code == 401


async def test_html_logout_without_csrf_token_is_refused_and_session_stays(
        client: Any, make_user: Any) -> None:
    await make_user("olga")
    await sign_in(client, "olga", "html")
    response = await client.post("/auth/logout", form={})
    assert response.status_code == 400
    assert (await client.get("/protected")).status_code == 200


async def test_json_logout_from_another_site_is_refused(client: Any, make_user: Any) -> None:
    await make_user("pete")
    await sign_in(client, "pete", "json")
    response = await client.post("/auth/logout", json={},
                                 headers={"Origin": "https://evil.example"})
    assert response.status_code == 403
    assert (await client.get("/protected")).status_code == 200


# --- user info -------------------------------------------------------------------------------

async def test_user_info_lists_roles(client: Any, make_user: Any) -> None:
    user = await make_user("quinn", roles=(("Moderator", "global"),))
    await sign_in(client, "quinn", "json")
    response = await client.get("/auth/user-info", headers=JSON)
    assert response.status_code == 200
    data = (await response.get_json())["data"]
    assert data["id"] == user.id and data["username"] == "quinn"
    assert data["email"] == "quinn@example.com" and data["email_verified"] is True
    roles = {(r["role"], r["scope"]) for r in data["roles"]}
    assert {("User", "global"), ("Moderator", "global")} <= roles


async def test_user_info_needs_login(client: Any) -> None:
    response = await client.get("/auth/user-info", headers=JSON)
    assert response.status_code == 401
    assert (await response.get_json())["errors"][0]["code"] == "unauthenticated"
    page = await client.get("/auth/user-info", headers={"Accept": "text/html"})
    assert page.status_code == 302
    assert page.headers["Location"].startswith("/auth/login")


# --- freshness -------------------------------------------------------------------------------

async def test_fresh_route_works_right_after_login(client: Any, make_user: Any,
                                                   face: str) -> None:
    await make_user("rita")
    await sign_in(client, "rita", face)
    assert (await client.get("/fresh")).status_code == 200


async def stale_fresh_answer(client: Any, face: str) -> Any:
    headers = JSON if face == "json" else {"Accept": "text/html"}
    return await client.get("/fresh", headers=headers)


async def test_stale_login_must_reauthenticate_for_fresh_route(
        client: Any, clock: FakeClock, make_user: Any, face: str) -> None:
    await make_user("sam")
    await sign_in(client, "sam", face)
    clock.advance(61)
    response = await stale_fresh_answer(client, face)
    if face == "json":
        assert response.status_code == 401
        errors = (await response.get_json())["errors"]
        assert errors[0]["code"] == "reauthentication_required"
    else:
        assert response.status_code == 302
        assert unquote(response.headers["Location"]) == "/auth/reauthenticate?next=/fresh"
    assert (await client.get("/protected")).status_code == 200, "still signed in"


async def test_reauthenticate_with_password_makes_session_fresh_again(
        client: Any, clock: FakeClock, make_user: Any, face: str) -> None:
    await make_user("tina")
    await sign_in(client, "tina", face)
    clock.advance(61)
    response = await submit(client, "/auth/reauthenticate?next=/fresh",
                            {"password": PASSWORD, "next": "/fresh"}, face=face)
    if face == "json":
        assert response.status_code == 200
        assert (await response.get_json())["data"]["next"] == "/fresh"
    else:
        assert response.status_code == 302 and response.headers["Location"] == "/fresh"
    assert (await client.get("/fresh")).status_code == 200
    clock.advance(61)
    assert (await stale_fresh_answer(client, face)).status_code in (302, 401)


async def test_reauthenticate_with_wrong_password_is_401_and_stays_stale(
        client: Any, clock: FakeClock, make_user: Any, face: str) -> None:
    await make_user("uma")
    await sign_in(client, "uma", face)
    clock.advance(61)
    response = await submit(client, "/auth/reauthenticate",
                            {"password": "not my password at all"}, face=face)
    assert response.status_code == 401
    if face == "json":
        assert (await response.get_json())["errors"][0]["code"] == "invalid_credentials"
    else:
        assert "not correct" in alert_text(await response.get_data(as_text=True))
    assert (await stale_fresh_answer(client, face)).status_code in (302, 401)


async def test_reauthenticate_needs_a_session(client: Any) -> None:
    response = await client.post("/auth/reauthenticate", json={"password": PASSWORD},
                                 headers={"Origin": ORIGIN, **JSON})
    assert response.status_code == 401

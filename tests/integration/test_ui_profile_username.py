"""Changing one's username on /ui/profile: sign-up's rules, uniqueness, a per-account limit,
an audit row; upstream's ``PATCH /ui/profile {username}`` keeps working."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from quart_authtuna.core import AuthService
from quart_authtuna.core.db.models import AuditEvent
from quart_authtuna.core.throttle import PROFILE_CHANGES_PER_HOUR
from tests._support.clock import FakeClock
from tests._support.web import ORIGIN, submit

JSON = {"Accept": "application/json", "Origin": ORIGIN}


async def rename(client: Any, face: str, username: str) -> Any:
    return await submit(client, "/ui/profile", {"username": username}, face=face)


async def username_of(svc: AuthService, user_id: str) -> str:
    user = await svc.users.get_by_id(user_id)
    assert user is not None
    return user.username


async def audit_types(svc: AuthService, user_id: str) -> list[str]:
    async with svc.transaction() as tx:
        return list((await tx.scalars(select(AuditEvent.event_type)
                                      .where(AuditEvent.user_id == user_id))).all())


async def test_rename_applies_audits_and_signs_in_with_the_new_name(
        client: Any, app: Any, svc: AuthService, make_user: Any, login: Any,
        face: str) -> None:
    user = await make_user("olivia")
    await login("olivia")
    response = await rename(client, face, "Olive_2")
    if face == "json":
        assert response.status_code == 200
        data = (await response.get_json())["data"]
        assert data["user"]["username"] == "Olive_2" and data["previous_username"] == "olivia"
    else:
        assert response.status_code == 302
        page = await client.get(response.headers["Location"])
        html = await page.get_data(as_text=True)
        assert "Your username was changed." in html and 'value="Olive_2"' in html
        assert "Olive_2</span>" in html  # the top bar already shows the new name
    assert await username_of(svc, user.id) == "Olive_2"
    assert "USERNAME_CHANGED" in await audit_types(svc, user.id)
    other = app.test_client()
    signed = await other.post("/auth/login", json={"username_or_email": "olive_2",
                                                   "password": "correct horse battery staple"},
                              headers=JSON)
    assert signed.status_code == 200


async def test_upstream_patch_renames_and_answers_409_when_taken(
        client: Any, svc: AuthService, make_user: Any, login: Any) -> None:
    user = await make_user("paula")
    await make_user("quentin")
    await login("paula")
    done = await client.patch("/ui/profile", json={"username": "paula2"}, headers=JSON)
    assert done.status_code == 200
    taken = await client.patch("/ui/profile", json={"username": "QUENTIN"}, headers=JSON)
    assert taken.status_code == 409
    assert (await taken.get_json())["errors"][0]["code"] == "username_taken"
    assert await username_of(svc, user.id) == "paula2"


async def test_refusals_change_nothing(client: Any, svc: AuthService, make_user: Any,
                                       login: Any, face: str) -> None:
    user = await make_user("rita")
    await make_user("sam")
    await login("rita")
    cases = {"Sam": 409, "аррӏе": 400, "аlice": 400, "ab": 400, "has space": 400,
             "rita": 400}
    for name, status in cases.items():
        response = await rename(client, face, name)
        assert response.status_code == status, (name, await response.get_data(as_text=True))
    if face == "json":
        codes = {e["code"] for e in (await (await rename(client, face, "аррӏе")).get_json())
                 ["errors"]}
        assert codes == {"confusable_username"}
    assert await username_of(svc, user.id) == "rita"
    assert "USERNAME_CHANGED" not in await audit_types(svc, user.id)


async def test_renames_are_limited_per_account(client: Any, svc: AuthService,
                                               make_user: Any, login: Any,
                                               clock: FakeClock) -> None:
    user = await make_user("tess")
    await make_user("taken")
    await login("tess")
    for n in range(PROFILE_CHANGES_PER_HOUR):  # taken names count too
        name = "taken" if n % 2 else f"tess{n}"
        response = await client.patch("/ui/profile", json={"username": name}, headers=JSON)
        assert response.status_code in (200, 409)
    before = await username_of(svc, user.id)
    limited = await client.patch("/ui/profile", json={"username": "tessfinal"}, headers=JSON)
    assert limited.status_code == 429 and int(limited.headers["Retry-After"]) > 0
    assert await username_of(svc, user.id) == before
    clock.advance(3601)
    again = await client.patch("/ui/profile", json={"username": "tessfinal"}, headers=JSON)
    assert again.status_code == 200


async def test_a_rename_needs_the_csrf_token(client: Any, svc: AuthService, make_user: Any,
                                            login: Any) -> None:
    user = await make_user("uma")
    await login("uma")
    response = await client.post("/ui/profile", form={"username": "uma2"})
    assert response.status_code == 400
    assert await username_of(svc, user.id) == "uma"

"""The organization and team JSON answers match the schemas the OpenAPI document gives them."""

from __future__ import annotations

from typing import Any

from quart_authtuna.core import AuthService
from tests._support.openapi import AnswerChecker
from tests._support.orgs import allow_org_creation, invite_link
from tests._support.web import ORIGIN
from tests.conftest import PASSWORD

JSON = {"Accept": "application/json", "Origin": ORIGIN}


async def test_the_organization_journey_answers_as_documented(
        app: Any, svc: AuthService, make_user: Any) -> None:
    owner = await make_user("owner")
    await make_user("guest")
    await allow_org_creation(svc, owner.id)
    document = await (await app.test_client().get("/auth/openapi.json")).get_json()
    boss = AnswerChecker(app.test_client(), document, JSON)
    await boss("POST", "/auth/login", json={"username_or_email": "owner", "password": PASSWORD})
    org = (await boss("POST", "/ui/organizations/create", json={"name": "Acme"}))["data"]
    o = "/ui/organizations/{org_id}"
    here = o.format(org_id=org["id"])
    invited = (await boss("POST", f"{here}/invite", f"{o}/invite",
                          json={"email": "guest@example.com", "role_name": "OrgAdmin"}))["data"]
    inv = f"{o}/invitations/{{invitation_id}}"
    one = f"{here}/invitations/{invited['id']}"
    await boss("GET", f"{here}/invitations", f"{o}/invitations")
    await boss("POST", f"{one}/resend", f"{inv}/resend", json={})
    token = await invite_link(svc, "guest@example.com")
    guest = AnswerChecker(app.test_client(), document, JSON)
    await guest("GET", f"/ui/organizations/join?token={token}", "/ui/organizations/join")
    await guest("POST", "/auth/login", json={"username_or_email": "guest",
                                              "password": PASSWORD})
    await guest("POST", "/ui/organizations/join", json={"token": token})
    await guest("GET", "/ui/organizations")
    await boss("GET", here, o)
    team = (await boss("POST", f"{here}/teams", f"{o}/teams", json={"name": "Core"}))["data"]
    t = "/ui/teams/{team_id}"
    there = t.format(team_id=team["id"])
    guest_id = (await svc.users.get_by_username("guest")).id
    await boss("POST", f"{there}/members", f"{t}/members",
               json={"user_id": guest_id, "role_name": "TeamLead"})
    await guest("GET", there, t)
    await guest("GET", "/ui/teams")
    m = f"{t}/members/{{member_id}}"
    await guest("DELETE", f"{there}/members/{owner.id}", m, json={})
    await guest("POST", f"{there}/leave", f"{t}/leave", json={})
    await boss("POST", f"{here}/transfer", f"{o}/transfer", json={"member_id": guest_id})
    await boss("POST", f"{here}/leave", f"{o}/leave", json={})
    await guest("DELETE", here, o, json={})
    assert [int(line.rsplit(" ", 1)[1]) for line in boss.checked + guest.checked] == [
        200, 201, 201, 200, 200, 200, 201, 200, 200, 200, 200, 200, 200, 200, 200, 200, 200,
        200, 200], boss.checked + guest.checked

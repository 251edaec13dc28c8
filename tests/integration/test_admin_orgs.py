"""Admin pages listing organizations and their members (roles at org:<id>)."""

from __future__ import annotations

from typing import Any

from quart_authtuna.core import AuthService
from quart_authtuna.core.types import RequestMeta
from tests._support.openapi import AnswerChecker
from tests._support.orgs import allow_org_creation
from tests._support.web import ORIGIN, signed_in_client
from tests.conftest import PASSWORD

JSON = {"Accept": "application/json", "Origin": ORIGIN}


async def test_admins_list_organizations_and_members(app: Any, svc: AuthService,
                                                     make_user: Any) -> None:
    await make_user("boss", roles=(("Admin", "global"),))
    owner = await make_user("owner")
    await allow_org_creation(svc, owner.id)
    org = (await svc.flows.organizations.create_organization(owner.id, "Acme", RequestMeta())
           ).organization
    await svc.flows.teams.create_team(owner.id, org.id, "Core", RequestMeta())
    document = await (await app.test_client().get("/auth/openapi.json")).get_json()
    call = AnswerChecker(app.test_client(), document, JSON)
    await call("POST", "/auth/login", json={"username_or_email": "boss", "password": PASSWORD})
    listed = (await call("GET", "/admin/organizations"))["data"]
    assert [(o["name"], o["members"], o["teams"]) for o in listed] == [("Acme", 1, 1)]
    one = (await call("GET", f"/admin/organizations/{org.id}",
                      "/admin/organizations/{org_id}"))["data"]
    assert [(m["username"], m["roles"]) for m in one["members"]] == [("owner", ["OrgOwner"])]
    page = await call.client.get(f"/admin/organizations/{org.id}")
    html = await page.get_data(as_text=True)
    assert page.status_code == 200 and "OrgOwner" in html and "Core" in html
    assert "Organizations" in await (await call.client.get("/admin/organizations")).get_data(
        as_text=True)


async def test_non_admins_are_refused(app: Any, make_user: Any) -> None:
    await make_user("plain")
    client = await signed_in_client(app, "plain")
    assert (await client.get("/admin/organizations", headers=JSON)).status_code == 403

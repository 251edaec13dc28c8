"""The demo's team board: the nested ``org:{org_id}/team:{team_id}`` guard in an application."""

from __future__ import annotations

from typing import Any

from quart_authtuna.core.types import RequestMeta
from tests._support.web import signed_in_client
from tests.integration.test_sec_front_demo import _demo_fixture, service  # noqa: F401


async def test_the_team_board_admits_members_and_org_admins_only(demo: Any) -> None:
    svc = service(demo)
    meta = RequestMeta()
    users = {}
    for name in ("founder", "member", "stranger"):
        users[name] = await svc.users.create(f"{name}@example.com", name,
                                             "correct horse battery staple",
                                             email_verified=True)
    await svc.roles.assign_to_user(users["founder"].id, "Founder", "system", "global")
    org = (await svc.flows.organizations.create_organization(users["founder"].id, "Demo Org",
                                                             meta)).organization
    await svc.roles.assign_to_user(users["member"].id, "OrgMember", "system", f"org:{org.id}")
    team = (await svc.flows.teams.create_team(users["founder"].id, org.id, "Core", meta)).team
    board = f"/orgs/{org.id}/teams/{team.id}/board"
    stranger = await signed_in_client(demo, "stranger")
    assert (await stranger.get(board)).status_code == 403
    member = await signed_in_client(demo, "member")
    assert (await member.get(board)).status_code == 403  # in the org, not in the team
    await svc.flows.teams.add_team_member(users["founder"].id, team.id, users["member"].id,
                                          "TeamMember", meta)
    assert (await member.get(board)).status_code == 200
    founder = await signed_in_client(demo, "founder")
    assert (await founder.get(board)).status_code == 200  # OrgOwner covers the team

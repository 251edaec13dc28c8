"""The nested scope guard (``scope="org:{org_id}/team:{team_id}"``) on a real route, and
removal from an organization taking effect on the next request: at once in the process
that removed, within SESSION_DB_VERIFICATION_INTERVAL in another."""

from __future__ import annotations

from typing import Any

from quart import Quart

from quart_authtuna import permission_required
from quart_authtuna.core import AuthService
from quart_authtuna.core.types import RequestMeta
from tests._support.orgs import allow_org_creation
from tests.integration.conftest import app_on_same_database
from tests.integration.test_session_revocation import get_with, jar_cookie, sign_in

INTERVAL = 10.0
META = RequestMeta()


def team_routes(app: Quart) -> None:
    """build_app's ``/orgs/<org_id>/teams/<team_id>/board`` (TeamLead or TeamMember there),
    plus a page needing ``team:manage`` there."""

    @app.get("/orgs/<org_id>/teams/<team_id>/settings")
    @permission_required("team:manage", scope="org:{org_id}/team:{team_id}")
    async def team_settings(org_id: str, team_id: str) -> str:
        return "manage"


async def _org_with_team(svc: AuthService, make_user: Any) -> tuple[Any, Any, str, str]:
    owner, member = await make_user("owner"), await make_user("member")
    await allow_org_creation(svc, owner.id)
    org = (await svc.flows.organizations.create_organization(owner.id, "Acme", META)
           ).organization
    await svc.roles.assign_to_user(member.id, "OrgMember", "system", f"org:{org.id}")
    team = (await svc.flows.teams.create_team(owner.id, org.id, "Core", META)).team
    await svc.flows.teams.add_team_member(owner.id, team.id, member.id, "TeamMember", META)
    return owner, member, org.id, team.id


async def test_the_nested_guard_reads_both_path_parameters(
        svc: AuthService, app_settings: dict[str, Any], clock: Any, make_user: Any) -> None:
    owner, member, org_id, team_id = await _org_with_team(svc, make_user)
    async with app_on_same_database(svc, app_settings, clock, routes=team_routes) as app:
        browser = await sign_in(app, "member")
        board = f"/orgs/{org_id}/teams/{team_id}/board"
        assert (await browser.get(board)).status_code == 200
        # the org owner manages the team through the organization's scope
        boss = await sign_in(app, "owner")
        assert (await boss.get(f"/orgs/{org_id}/teams/{team_id}/settings")).status_code == 200
        assert (await browser.get(f"/orgs/{org_id}/teams/{team_id}/settings")
                ).status_code == 403
        # another team id, another org id, or an id posing as a path: refused
        assert (await browser.get(f"/orgs/{org_id}/teams/other/board")).status_code == 403
        assert (await browser.get(f"/orgs/x{org_id}/teams/{team_id}/board")).status_code == 403
        assert (await browser.get(f"/orgs/{org_id}%2Fteam:{team_id}/teams/t/board")
                ).status_code in (403, 404)


async def test_removal_takes_effect_on_the_next_request_in_every_process(
        svc: AuthService, app_settings: dict[str, Any], clock: Any, make_user: Any) -> None:
    owner, member, org_id, team_id = await _org_with_team(svc, make_user)
    board = f"/orgs/{org_id}/teams/{team_id}/board"
    async with app_on_same_database(svc, app_settings, clock, routes=team_routes) as a, \
            app_on_same_database(svc, app_settings, clock, routes=team_routes) as b:
        browser = await sign_in(a, "member")
        cookie = jar_cookie(browser)
        assert (await get_with(a, board, cookie)).status_code == 200
        assert (await get_with(b, board, cookie)).status_code == 200
        a_svc: AuthService = a.app.extensions["authtuna"].service  # type: ignore[attr-defined]
        await a_svc.flows.organizations.remove_member_from_organization(
            owner.id, org_id, member.id, META)
        assert (await get_with(a, board, cookie)).status_code == 403  # at once here
        clock.advance(INTERVAL + 0.1)
        assert (await get_with(b, board, cookie)).status_code == 403  # within the interval

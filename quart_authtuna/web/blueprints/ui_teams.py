"""Team pages under ``/ui/teams`` (on the ``ui`` blueprint), with upstream's JSON twins: a
team's page (members, add or change a member's role, invite, leave, delete) and its actions."""

from __future__ import annotations

from typing import Any

from quart import redirect, request, url_for
from quart.typing import ResponseReturnValue

from ...core.db.models import Team
from ...core.flows.teams import TeamDetails
from ...decorators import login_required
from ..forms.base import ActionForm, AuthTunaForm, text
from ..forms.orgs import TeamInviteForm, TeamMemberForm, people
from ..journey import meta, serve
from ..respond import finished, json_response, render_page, wants_json
from .ui import ui
from .ui_orgs import _user, flows, invitation_json, member_json

DETAIL = "orgs/team.html"
NOTICES = {"created": "The team was created. You lead it.",
           "added": "The member's team role was saved.", "removed": "The member was removed.",
           "invited": "The invitation was sent. It works once, for that address only.",
           "left": "You left the team."}


def team_json(team: Team, role: str | None = None) -> dict[str, Any]:
    data: dict[str, Any] = {"id": team.id, "name": team.name,
                            "organization_id": team.organization_id,
                            "scope": f"org:{team.organization_id}/team:{team.id}",
                            "created_at": team.created_at}
    if role is not None:
        data["role"] = role
    return data


def _back(team_id: str, done: str) -> ResponseReturnValue:
    return redirect(url_for("authtuna_ui.team", team_id=team_id, done=done, _anchor="members"))


async def _answer(form: AuthTunaForm, html: ResponseReturnValue, data: dict[str, Any],
                  status: int = 200) -> ResponseReturnValue:
    return finished(form, html, data, status)


@ui.get("/teams")
@login_required
async def teams() -> ResponseReturnValue:
    """``get_user_teams`` (JSON); browsers see them on the organizations page."""
    mine = await flows().teams.get_user_teams(_user())
    if not wants_json():
        return redirect(url_for("authtuna_ui.organizations", _anchor="teams"))
    return json_response(200, data=[team_json(t, r) for t, r in mine])


@ui.get("/teams/<team_id>")
@login_required
async def team(team_id: str) -> ResponseReturnValue:
    details = await flows().teams.get_team_details(_user(), team_id)
    if wants_json():
        return json_response(200, data={**team_json(details.team),
                                         "members": [member_json(m) for m in details.members]})
    return await render_page(DETAIL, **_context(details))


def _context(d: TeamDetails) -> dict[str, Any]:
    add = TeamMemberForm(formdata=None)
    add.user_id.choices = people([(m.user_id, m.username)
                                  for m in (*d.candidates, *d.members)])
    user_id = _user()
    return {"d": d, "add_form": add, "invite_form": TeamInviteForm(formdata=None),
            "me": next((m for m in d.members if m.user_id == user_id), None),
            "may": {p: d.grants.has_permission(p, d.scope) for p in (
                "team:manage", "team:invite_member", "team:remove_member", "team:delete")},
            "notice": NOTICES.get(request.args.get("done", ""))}


async def _errors_context(team_id: str) -> dict[str, Any]:
    return _context(await flows().teams.get_team_details(_user(), team_id))


@ui.post("/teams/<team_id>/members")
@login_required
async def team_member_add(team_id: str) -> ResponseReturnValue:
    """``{user_id, role_name}``: an organization member joins, or changes role."""
    return await serve(
        await TeamMemberForm.from_request(), DETAIL,
        lambda f: flows().teams.add_team_member(_user(), team_id, text(f.user_id),
                                                text(f.role_name) or "TeamMember", meta()),
        lambda f, done: _answer(f, _back(team_id, "added"),
                                {"user_id": done.user_id, "role": done.role}),
        **await _errors_context(team_id))


@ui.post("/teams/<team_id>/invite")
@login_required
async def team_invite(team_id: str) -> ResponseReturnValue:
    """Upstream's ``{email, role_name='TeamMember'}``, for members of the organization."""
    details = await flows().teams.get_team_details(_user(), team_id)
    org_id = details.team.organization_id
    return await serve(
        await TeamInviteForm.from_request(), DETAIL,
        lambda f: flows().invitations.invite(_user(), org_id, text(f.email),
                                             text(f.role_name) or "TeamMember", meta(),
                                             team_id=team_id),
        lambda f, done: _answer(f, _back(team_id, "invited"), invitation_json(done.invitation),
                                201),
        **_context(details))


@ui.post("/teams/<team_id>/leave")
@login_required
async def team_leave(team_id: str) -> ResponseReturnValue:
    return await serve(
        await ActionForm.from_request(), DETAIL,
        lambda f: flows().teams.leave_team(_user(), team_id, meta()),
        lambda f, done: _answer(f, redirect(url_for(
            "authtuna_ui.organization", org_id=done.organization_id, done="left_team")),
            {"left": True, "roles_removed": done.roles_removed}),
        **await _errors_context(team_id))


@ui.route("/teams/<team_id>/members/<member_id>", methods=["DELETE"])
@ui.post("/teams/<team_id>/members/<member_id>/remove")
@login_required
async def team_member_remove(team_id: str, member_id: str) -> ResponseReturnValue:
    return await serve(
        await ActionForm.from_request(), DETAIL,
        lambda f: flows().teams.remove_team_member(_user(), team_id, member_id, meta()),
        lambda f, done: _answer(f, _back(team_id, "removed"),
                                {"user_id": done.user_id, "roles_removed": done.roles_removed}),
        **await _errors_context(team_id))


@ui.route("/teams/<team_id>", methods=["DELETE"])
@ui.post("/teams/<team_id>/delete")
@login_required
async def team_delete(team_id: str) -> ResponseReturnValue:
    return await serve(
        await ActionForm.from_request(), DETAIL,
        lambda f: flows().teams.delete_team(_user(), team_id, meta()),
        lambda f, done: _answer(f, redirect(url_for(
            "authtuna_ui.organization", org_id=done.organization_id, done="team_deleted")),
            {"id": done.team_id, "deleted": True, "members": done.members}),
        **await _errors_context(team_id))

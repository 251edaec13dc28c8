"""Organization pages under ``/ui/organizations`` (on the ``ui`` blueprint), with upstream's
JSON twins on the same paths: the list and creation, one organization's page (members,
teams, pending invitations, invite, transfer, leave, delete) and its member actions."""

from __future__ import annotations

from typing import Any

from quart import redirect, request, url_for
from quart.typing import ResponseReturnValue

from ...core.db.models import Invitation, Organization
from ...core.flows import Flows
from ...core.flows.orgs import OrganizationDetails
from ...core.managers.orgs import Member, org_scope
from ...decorators import login_required, require_user
from ..forms.base import ActionForm, AuthTunaForm, text
from ..forms.orgs import InviteForm, MemberForm, NameForm, people
from ..journey import meta, serve, service
from ..request_state import request_state
from ..respond import finished, json_response, render_page, wants_json
from .ui import ui

DETAIL = "orgs/organization.html"
#: ``?done=`` codes the pages turn into a notice (never text from the request).
NOTICES = {"created": "The organization was created. You own it.",
           "invited": "The invitation was sent. It works once, for that address only.",
           "resent": "A new invitation link was sent; the previous one no longer works.",
           "revoked": "The invitation was revoked.", "removed": "The member was removed.",
           "transferred": "Ownership was transferred. You are now an admin.",
           "left": "You left the organization.", "deleted": "The organization was deleted.",
           "left_team": "You left the team.", "team_deleted": "The team was deleted."}


def flows() -> Flows:
    return service().flows


def _user() -> str:
    return request_state().signed_in_user()


def org_json(org: Organization, role: str | None = None) -> dict[str, Any]:
    data: dict[str, Any] = {"id": org.id, "name": org.name, "created_at": org.created_at,
                            "scope": org_scope(org.id)}
    if role is not None:
        data["role"] = role
    return data


def member_json(m: Member) -> dict[str, Any]:
    return {"user_id": m.user_id, "username": m.username, "email": m.email,
            "roles": list(m.roles)}


def invitation_json(i: Invitation) -> dict[str, Any]:
    return {"id": i.id, "email": i.email, "role_name": i.role_name, "team_id": i.team_id,
            "created_at": i.created_at, "expires_at": i.expires_at}


def details_json(d: OrganizationDetails) -> dict[str, Any]:
    return {**org_json(d.organization), "members": [member_json(m) for m in d.members],
            "teams": [{"id": t.id, "name": t.name} for t in d.teams],
            "invitations": [invitation_json(i) for i in d.invitations]}


def _back(org_id: str, done: str, anchor: str | None = None) -> ResponseReturnValue:
    return redirect(url_for("authtuna_ui.organization", org_id=org_id, done=done,
                            _anchor=anchor))


@ui.get("/organizations")
@login_required
async def organizations() -> ResponseReturnValue:
    """The organizations the user belongs to, and the creation form for those who may."""
    mine = await flows().organizations.get_user_organizations(_user())
    if wants_json():
        return json_response(200, data=[org_json(o, r) for o, r in mine])
    return await _list_page(NameForm(formdata=None))


async def _list_page(form: NameForm, status: int = 200, **extra: Any) -> ResponseReturnValue:
    mine = await flows().organizations.get_user_organizations(_user())
    grants = (await require_user()).grants
    return await render_page("orgs/organizations.html", status, form=form, organizations=mine,
                             may_create=grants.has_permission("org:create", "global"),
                             teams=await flows().teams.get_user_teams(_user()),
                             notice=NOTICES.get(request.args.get("done", "")), **extra)


@ui.post("/organizations/create")
@login_required
async def organization_create() -> ResponseReturnValue:
    """Upstream's ``name`` (needs ``org:create`` in ``global``); the creator owns it."""
    mine = await flows().organizations.get_user_organizations(_user())
    grants = (await require_user()).grants
    return await serve(
        await NameForm.from_request(), "orgs/organizations.html",
        lambda f: flows().organizations.create_organization(_user(), text(f.name), meta()),
        lambda f, done: _answer(f, _back(done.organization.id, "created"),
                                org_json(done.organization, "OrgOwner"), 201),
        organizations=mine, may_create=grants.has_permission("org:create", "global"),
        teams=await flows().teams.get_user_teams(_user()))


async def _answer(form: AuthTunaForm, html: ResponseReturnValue, data: dict[str, Any],
                  status: int = 200) -> ResponseReturnValue:
    return finished(form, html, data, status)


@ui.get("/organizations/<org_id>")
@login_required
async def organization(org_id: str) -> ResponseReturnValue:
    """Members with their roles, teams, and (for inviters) pending invitations."""
    details = await flows().organizations.get_organization_details(_user(), org_id)
    if wants_json():
        return json_response(200, data=details_json(details))
    return await render_page(DETAIL, **_detail_context(details, InviteForm(formdata=None)))


def _detail_context(details: OrganizationDetails, invite: InviteForm) -> dict[str, Any]:
    user_id, scope = _user(), org_scope(details.organization.id)
    mine = next((m for m in details.members if m.user_id == user_id), None)
    transfer = MemberForm(formdata=None)
    transfer.member_id.choices = people([(m.user_id, m.username) for m in details.members
                                          if m.user_id != user_id])
    return {"d": details, "form": invite, "invite_form": invite, "transfer_form": transfer,
            "team_form": NameForm(formdata=None), "me": mine, "scope": scope,
            "is_owner": bool(mine and "OrgOwner" in mine.roles),
            "may": {p: details.grants.has_permission(p, scope) for p in (
                "org:invite_member", "org:remove_member", "team:create")},
            "invite_days": max(1, service().settings.invitation_expiry_seconds // 86400),
            "notice": NOTICES.get(request.args.get("done", ""))}


async def _detail_for_errors(org_id: str) -> dict[str, Any]:
    details = await flows().organizations.get_organization_details(_user(), org_id)
    context = _detail_context(details, InviteForm(formdata=None))
    del context["form"]
    return context


@ui.post("/organizations/<org_id>/invite")
@login_required
async def organization_invite(org_id: str) -> ResponseReturnValue:
    """Upstream's ``{email, role_name='OrgMember'}``: a link to that address, nothing more."""
    return await serve(
        await InviteForm.from_request(), DETAIL,
        lambda f: flows().invitations.invite(_user(), org_id, text(f.email),
                                             text(f.role_name) or "OrgMember", meta()),
        lambda f, done: _answer(f, _back(org_id, "invited", "pending"),
                                invitation_json(done.invitation), 201),
        **await _detail_for_errors(org_id))


@ui.get("/organizations/<org_id>/invitations")
@login_required
async def organization_invitations(org_id: str) -> ResponseReturnValue:
    """Pending invitations (JSON; browsers see them on the organization page)."""
    pending = await flows().invitations.pending(_user(), org_id)
    if not wants_json():
        return redirect(url_for("authtuna_ui.organization", org_id=org_id,
                                _anchor="invitations"))
    return json_response(200, data=[invitation_json(i) for i in pending])


@ui.post("/organizations/<org_id>/invitations/<invitation_id>/resend")
@login_required
async def invitation_resend(org_id: str, invitation_id: str) -> ResponseReturnValue:
    return await serve(
        await ActionForm.from_request(), DETAIL,
        lambda f: flows().invitations.resend(_user(), invitation_id, meta()),
        lambda f, done: _answer(f, _back(org_id, "resent", "pending"),
                                invitation_json(done.invitation)),
        **await _detail_for_errors(org_id))


@ui.route("/organizations/<org_id>/invitations/<invitation_id>", methods=["DELETE"])
@ui.post("/organizations/<org_id>/invitations/<invitation_id>/revoke")
@login_required
async def invitation_revoke(org_id: str, invitation_id: str) -> ResponseReturnValue:
    return await serve(
        await ActionForm.from_request(), DETAIL,
        lambda f: flows().invitations.revoke(_user(), invitation_id, meta()),
        lambda f, done: _answer(f, _back(org_id, "revoked", "pending"),
                                {"id": done.invitation_id, "revoked": True}),
        **await _detail_for_errors(org_id))


@ui.post("/organizations/<org_id>/leave")
@login_required
async def organization_leave(org_id: str) -> ResponseReturnValue:
    """Drop one's roles here and in its teams (the last owner transfers first)."""
    return await serve(
        await ActionForm.from_request(), DETAIL,
        lambda f: flows().organizations.leave_organization(_user(), org_id, meta()),
        lambda f, done: _answer(f, redirect(url_for("authtuna_ui.organizations", done="left")),
                                {"left": True, "roles_removed": done.roles_removed}),
        **await _detail_for_errors(org_id))


@ui.route("/organizations/<org_id>/members/<member_id>", methods=["DELETE"])
@ui.post("/organizations/<org_id>/members/<member_id>/remove")
@login_required
async def organization_member_remove(org_id: str, member_id: str) -> ResponseReturnValue:
    return await serve(
        await ActionForm.from_request(), DETAIL,
        lambda f: flows().organizations.remove_member_from_organization(
            _user(), org_id, member_id, meta()),
        lambda f, done: _answer(f, _back(org_id, "removed", "members"),
                                {"user_id": done.user_id, "roles_removed": done.roles_removed}),
        **await _detail_for_errors(org_id))


@ui.post("/organizations/<org_id>/transfer")
@login_required
async def organization_transfer(org_id: str) -> ResponseReturnValue:
    """An owner hands ownership to ``member_id`` and stays on as OrgAdmin."""
    return await serve(
        await MemberForm.from_request(), DETAIL,
        lambda f: flows().organizations.transfer_ownership(_user(), org_id, text(f.member_id),
                                                           meta()),
        lambda f, done: _answer(f, _back(org_id, "transferred", "members"),
                                {"organization_id": org_id, "owner_id": done.to_user_id}),
        **await _detail_for_errors(org_id))


@ui.route("/organizations/<org_id>", methods=["DELETE"])
@ui.post("/organizations/<org_id>/delete")
@login_required
async def organization_delete(org_id: str) -> ResponseReturnValue:
    """Owners only: the organization, its teams and every role held in them."""
    return await serve(
        await ActionForm.from_request(), DETAIL,
        lambda f: flows().organizations.delete_organization(_user(), org_id, meta()),
        lambda f, done: _answer(f, redirect(url_for("authtuna_ui.organizations",
                                                    done="deleted")),
                                {"id": done.organization_id, "deleted": True,
                                 "members": done.members}),
        **await _detail_for_errors(org_id))


@ui.post("/organizations/<org_id>/teams")
@login_required
async def team_create(org_id: str) -> ResponseReturnValue:
    """Upstream's ``{name}``; the creator leads the new team."""
    return await serve(
        await NameForm.from_request(), DETAIL,
        lambda f: flows().teams.create_team(_user(), org_id, text(f.name), meta()),
        lambda f, done: _answer(
            f, redirect(url_for("authtuna_ui.team", team_id=done.team.id, done="created")),
            {"id": done.team.id, "name": done.team.name, "organization_id": org_id}, 201),
        **await _detail_for_errors(org_id))

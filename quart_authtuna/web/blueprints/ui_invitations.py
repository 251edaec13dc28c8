"""The invitation link (``/ui/organizations/join`` and ``/ui/teams/join``): what it offers,
then accepting it signed in with the invited address, or creating an account for that
address from it (verified by the click) and landing in the organization, signed in."""

from __future__ import annotations

from typing import Any

from quart import redirect, request, url_for
from quart.typing import ResponseReturnValue

from ...core.errors import InputError, TokenError
from ...core.flows.results import InvitationAccepted
from ...core.types import FieldError
from ..forms.base import text
from ..forms.orgs import JoinForm
from ..journey import meta, serve
from ..login_outcome import start_session, user_json
from ..request_state import request_state
from ..respond import finished, json_response, wants_json
from .ui import ui
from .ui_orgs import flows, org_json

TEMPLATE = "orgs/join.html"


@ui.route("/organizations/join", methods=["GET", "POST"])
async def join_organization() -> ResponseReturnValue:
    """The organization invitation's link."""
    return await _join()


@ui.route("/teams/join", methods=["GET", "POST"])
async def join_team() -> ResponseReturnValue:
    """The team invitation's link (the token says where it leads, as on the other path)."""
    return await _join()


async def _join() -> ResponseReturnValue:
    """GET shows the invitation; the POST accepts it (signed in) or signs up from it."""
    form = await JoinForm.from_request()
    context = await _preview(text(form.token))
    if request.method == "GET" and wants_json():
        if "invalid_link" in context:
            return json_response(400, errors=[{"code": "token_invalid", "param": "token",
                                               "message": context["invalid_link"]}])
        return json_response(200, data=context["data"])
    return await serve(form, TEMPLATE, _accept, _joined, **context)


async def _preview(token: str) -> dict[str, Any]:
    state = request_state()
    context: dict[str, Any] = {"signed_in": state.user_id is not None,
                               "login_url": url_for("authtuna_auth.login",
                                                    next=request.full_path)}
    try:
        preview = await flows().invitations.preview(token)
    except TokenError as exc:
        context["invalid_link"] = exc.message
        return context
    invitation = preview.invitation
    context.update(preview=preview, data={
        "organization": org_json(preview.organization),
        "team": {"id": preview.team.id, "name": preview.team.name} if preview.team else None,
        "role_name": invitation.role_name, "email": invitation.email,
        "expires_at": invitation.expires_at, "account_exists": preview.account_exists})
    return context


async def _accept(form: JoinForm) -> InvitationAccepted:
    user_id = request_state().user_id
    if user_id is not None:
        return await flows().invitations.accept(text(form.token), user_id, meta())
    missing = [FieldError("required", "This field is required.", name)
               for name in ("username", "password") if not text(getattr(form, name))]
    if missing:
        raise InputError(missing)
    return await flows().invitations.sign_up(text(form.token), text(form.username),
                                             text(form.password), meta())


async def _joined(form: JoinForm, done: InvitationAccepted) -> ResponseReturnValue:
    if done.signed_in is not None:
        await start_session(done.signed_in)
    if done.team is not None:
        target = url_for("authtuna_ui.team", team_id=done.team.id)
    else:
        target = url_for("authtuna_ui.organization", org_id=done.organization.id)
    return finished(form, redirect(target), {
        "user": user_json(done.user), "organization": org_json(done.organization),
        "team_id": done.team.id if done.team else None, "role_name": done.role,
        "signed_in": done.signed_in is not None, "next": target})

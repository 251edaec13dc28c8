"""The account's own settings under ``/ui/settings``: sessions, API keys, security activity,
the data export and deleting the account. Each action has a form face (CSRF) and upstream's
JSON face."""

from __future__ import annotations

from typing import Any

from quart import redirect, request, url_for
from quart.typing import ResponseReturnValue

from ...core.db.models import ApiKey
from ...core.flows import Flows
from ...core.flows.api_keys import ScopeChoice
from ...core.flows.security_activity import ActivityEntry
from ...core.flows.user_sessions import ActiveSession
from ...core.managers.api_keys import IssuedApiKey
from ...decorators import fresh_login_required, login_required
from ..forms.account import KEY_TYPES, CreateApiKeyForm, DeleteAccountForm
from ..forms.base import ActionForm, AuthTunaForm, text
from ..guards import EVERY_ROUTE, authtuna_blueprint
from ..journey import meta, serve, service
from ..request_body import json_object
from ..request_state import request_state
from ..respond import finished, json_response, render_page, wants_json
from ..session_hook import clear_session_cookie
from .data_export import download

account = authtuna_blueprint("authtuna_account", __name__, account_management=EVERY_ROUTE)
REFUSED = "account/refused.html"
#: ``?done=`` codes the settings page turns into a notice (never text from the request).
NOTICES = {"session_ended": "That session was ended; its browser is signed out.",
           "sessions_ended": "Your other sessions were ended.",
           "key_revoked": "The API key was revoked; it no longer works."}


def flows() -> Flows:
    return service().flows


def _user() -> str:
    return request_state().signed_in_user()


def _back(anchor: str, done: str) -> ResponseReturnValue:
    return redirect(url_for("authtuna_ui.settings", done=done, _anchor=anchor))


# ---- the sections on the settings page -------------------------------------------------


@account.app_context_processor
async def settings_sections() -> dict[str, Any]:
    """What the settings page's sections show (only while rendering that page)."""
    if request.endpoint != "authtuna_ui.settings":
        return {}
    user_id, state = _user(), request_state()
    return {"account_sessions": await flows().user_sessions.list(user_id, state.session_id),
            "account_api_keys": await flows().api_keys.list(user_id),
            "account_scopes": await flows().api_keys.available_scopes(user_id),
            "api_key_form": CreateApiKeyForm(formdata=None), "api_key_types": KEY_TYPES,
            "account_notice": NOTICES.get(request.args.get("done", ""))}


# ---- sessions ----------------------------------------------------------------------------


def session_json(s: ActiveSession) -> dict[str, Any]:
    return {"session_id": s.session_id, "region": s.region, "device": s.device,
            "last_ip": s.last_ip, "ctime": s.ctime, "mtime": s.mtime, "is_current": s.is_current}


@account.get("/sessions")
@login_required
async def sessions() -> ResponseReturnValue:
    if not wants_json():
        return redirect(url_for("authtuna_ui.settings", _anchor="sessions"))
    found = await flows().user_sessions.list(_user(), request_state().session_id)
    return json_response(200, data=[session_json(s) for s in found])


@account.post("/sessions/<session_id>/terminate")
@login_required
async def terminate_session(session_id: str) -> ResponseReturnValue:
    """End another of this user's sessions (another user's answers 404)."""
    return await serve(
        await ActionForm.from_request(), REFUSED,
        lambda f: flows().user_sessions.end(_user(), session_id,
                                            request_state().session_id, meta()),
        lambda f, done: _finished(f, "sessions", "session_ended",
                                  {"session_id": done.session_id, "ended": True}))


@account.post("/sessions/terminate-all")
@login_required
async def terminate_all_sessions() -> ResponseReturnValue:
    return await serve(
        await ActionForm.from_request(), REFUSED,
        lambda f: flows().user_sessions.end_others(_user(), request_state().session_id, meta()),
        lambda f, done: _finished(f, "sessions", "sessions_ended", {"ended": done.count}))


async def _finished(form: AuthTunaForm, anchor: str, done: str, data: dict[str, Any]
                    ) -> ResponseReturnValue:
    return finished(form, _back(anchor, done), data)


# ---- API keys ----------------------------------------------------------------------------


def key_json(key: ApiKey) -> dict[str, Any]:
    return {"id": key.id, "name": key.name, "key_type": key.key_type,
            "created_at": key.created_at, "expires_at": key.expires_at,
            "last_used_at": key.last_used_at}


def scope_json(choice: ScopeChoice) -> dict[str, Any]:
    return {"role_name": choice.role_name, "scope": choice.scope, "display": choice.display,
            "permissions": list(choice.permissions)}


@account.get("/available-scopes")
@login_required
async def available_scopes() -> ResponseReturnValue:
    found = await flows().api_keys.available_scopes(_user())
    return json_response(200, data={"scopes": [scope_json(c) for c in found]})


@account.route("/api-keys", methods=["GET", "POST"])
@login_required
async def api_keys() -> ResponseReturnValue:
    """GET lists the keys (JSON; browsers see the settings page); POST creates one."""
    if request.method == "GET":
        if not wants_json():
            return redirect(url_for("authtuna_ui.settings", _anchor="api-keys"))
        return json_response(200, data=[key_json(k) for k in await flows().api_keys.list(
            _user())])
    form = await CreateApiKeyForm.from_request()
    scopes = await _requested_scopes(form)
    return await serve(
        form, "account/api_key_new.html",
        lambda f: flows().api_keys.create(_user(), text(f.name), text(f.key_type) or "secret",
                                          scopes, f.lifetime(), meta()),
        _key_issued, account_scopes=await flows().api_keys.available_scopes(_user()),
        api_key_types=KEY_TYPES, chosen=scopes)


async def _requested_scopes(form: AuthTunaForm) -> list[str]:
    if form.is_json:
        values = (await json_object()).get("scopes") or []
        return [str(v) for v in values] if isinstance(values, list) else [str(values)]
    return [str(v) for v in (await request.form).getlist("scopes")]


async def _key_issued(form: AuthTunaForm, issued: IssuedApiKey) -> ResponseReturnValue:
    """The plaintext, shown this once."""
    data = {"message": "API key created. Copy it now: it will not be shown again.",
            "api_key": {**key_json(issued.row), "plaintext": issued.plaintext,
                        "scopes": list(issued.scopes)}}
    html = await render_page("account/api_key_created.html", key=issued.row,
                             plaintext=issued.plaintext, scopes=issued.scopes)
    return finished(form, html, data, status=201)


@account.route("/api-keys/<key_id>", methods=["DELETE"])
@account.post("/api-keys/<key_id>/delete")
@login_required
async def revoke_api_key(key_id: str) -> ResponseReturnValue:
    """Revoke one of this user's keys: refused from the next request on."""
    return await serve(
        await ActionForm.from_request(), REFUSED,
        lambda f: flows().api_keys.revoke(_user(), key_id, meta()),
        lambda f, done: _finished(f, "api-keys", "key_revoked",
                                  {"id": done.key_id, "revoked": True}))


# ---- security activity -------------------------------------------------------------------


def entry_json(e: ActivityEntry) -> dict[str, Any]:
    return {"id": e.id, "event_type": e.event_type, "timestamp": e.timestamp,
            "ip_address": e.ip_address, "description": e.description}


@account.get("/activity")
@login_required
async def activity() -> ResponseReturnValue:
    """The user's own audit events, newest first; ``?before=`` continues a page."""
    before = request.args.get("before") or None
    page = await flows().security_activity.page(_user(), before)
    if wants_json():
        return json_response(200, data={"events": [entry_json(e) for e in page.entries],
                                         "next_cursor": page.next_cursor})
    return await render_page("account/activity.html", page=page, first=before is None)


# ---- exporting and deleting the account ---------------------------------------------------


@account.route("/export", methods=["GET", "POST"])
@fresh_login_required
async def export_data() -> ResponseReturnValue:
    """Everything stored about the account, as a JSON download (five per hour)."""
    return await serve(
        await ActionForm.from_request(), "account/export.html",
        lambda f: flows().data_export.export(_user(), _user(), meta()), download)



@account.route("/delete", methods=["GET", "POST"])
@fresh_login_required
async def delete_account() -> ResponseReturnValue:
    """A warning, then the typed username; the browser is signed out on success."""
    return await serve(
        await DeleteAccountForm.from_request(), "account/delete.html",
        lambda f: flows().account_deletion.delete(_user(), text(f.confirmation), meta()),
        _deleted)


async def _deleted(form: AuthTunaForm, done: Any) -> ResponseReturnValue:
    clear_session_cookie()
    html = await render_page("account/deleted.html", username=done.username)
    return finished(form, html, {"deleted": True, "sessions_ended": done.sessions_ended,
                                 "api_keys_revoked": done.keys_revoked})

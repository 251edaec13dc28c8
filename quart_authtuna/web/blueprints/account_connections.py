"""Connected accounts on the settings page (``/ui/settings/connections``): connect a social
provider (a fresh sign-in, then the provider) or disconnect one (never the last way in)."""

from __future__ import annotations

from typing import Any

from quart import redirect, request, url_for
from quart.typing import ResponseReturnValue

from ...core.flows.sso_login import Connection
from ...decorators import login_required, require_user
from .. import csrf
from ..forms.base import ActionForm
from ..journey import meta, serve, service
from ..respond import finished, json_response, render_page, wants_json
from .account_settings import NOTICES, REFUSED, account

NOTICES.update({"connected": "The account was connected: you can sign in with it now.",
                "disconnected": "The account was disconnected."})


def connection_json(c: Connection) -> dict[str, Any]:
    return {"provider": c.provider.name, "display_name": c.provider.display_name,
            "connected": c.subject is not None, "connected_at": c.created_at}


@account.app_context_processor
async def connected_accounts() -> dict[str, Any]:
    """The settings page's connected-accounts section (only while rendering that page)."""
    if request.endpoint != "authtuna_ui.settings":
        return {}
    user = await require_user()
    return {"account_connections": await service().flows.sso.connections(user.id)}


@account.get("/connections")
@login_required
async def connections() -> ResponseReturnValue:
    if not wants_json():
        return redirect(url_for("authtuna_ui.settings", _anchor="connections"))
    user = await require_user()
    found = await service().flows.sso.connections(user.id)
    return json_response(200, data=[connection_json(c) for c in found])


async def _fresh_or_reauthenticate() -> ResponseReturnValue | None:
    """Connecting and disconnecting need a recent sign-in (the confirm page comes back)."""
    user, svc = await require_user(), service()
    if svc.now() - user.authenticated_at <= svc.settings.reauthentication_seconds:
        return None
    back = url_for("authtuna_ui.settings", _anchor="connections")
    if wants_json():
        return json_response(401, errors=[{"code": "reauthentication_required", "param": None,
                                           "message": "Please confirm it's you to continue."}])
    return redirect(url_for("authtuna_auth.reauthenticate", next=back))


@account.post("/connections/<provider>/connect")
@login_required
async def connect(provider: str) -> ResponseReturnValue:
    """Start linking ``provider`` to this account: the browser goes to the provider."""
    user = await require_user()
    refused = await _fresh_or_reauthenticate()
    if refused is not None:
        return refused
    back = url_for("authtuna_ui.settings", _anchor="connections")
    return await serve(
        await ActionForm.from_request(), REFUSED,
        lambda f: service().flows.sso.begin(provider, csrf.browser_seed(), back,
                                            connect_user=user.id),
        lambda f, url: _to_provider(f, provider, url))


async def _to_provider(form: ActionForm, provider: str, url: str) -> ResponseReturnValue:
    """A page that moves on to the provider (CSP form-action forbids a redirect there)."""
    html = await render_page("auth/sso_continue.html", authorize_url=url,
                             provider=service().flows.sso.provider(provider))
    return finished(form, html, {"authorize_url": url})


@account.post("/connections/<provider>/disconnect")
@login_required
async def disconnect(provider: str) -> ResponseReturnValue:
    user = await require_user()
    refused = await _fresh_or_reauthenticate()
    if refused is not None:
        return refused
    return await serve(
        await ActionForm.from_request(), REFUSED,
        lambda f: service().flows.sso.disconnect(user.id, provider, meta()),
        lambda f, done: _disconnected(f, done.provider))


async def _disconnected(form: ActionForm, provider: str) -> ResponseReturnValue:
    back = url_for("authtuna_ui.settings", done="disconnected", _anchor="connections")
    return finished(form, redirect(back), {"disconnected": provider})

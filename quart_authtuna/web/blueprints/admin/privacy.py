"""An admin's GDPR actions on one user: export their data, erase the account.

Both need ``admin:manage:users``, a fresh sign-in and the rank to act on the user; both are
audited. Export answers the JSON download (or the envelope); erase takes the one erase path
the owner's own deletion takes, then goes back to the user list.
"""

from __future__ import annotations

from quart import redirect, request, url_for
from quart.typing import ResponseReturnValue
from werkzeug.exceptions import NotFound

from ....core.flows.results import AccountDeleted
from ....core.rbac.assignment import MANAGE_USERS
from ....decorators import fresh_login_required, permission_required
from ...forms.admin import ConfirmForm
from ...forms.base import AuthTunaForm
from ...journey import meta, serve, service
from ...request_state import request_state
from ...respond import finished
from ..data_export import download
from .area import admin

ACTION_PAGE = "admin/user_action.html"


@admin.post("/users/<user_id>/export")
@permission_required(MANAGE_USERS)
@fresh_login_required
async def user_export(user_id: str) -> ResponseReturnValue:
    """Everything stored about the user, as a JSON download (five per account per hour)."""
    flows = service().flows
    return await serve(await ConfirmForm.from_request(), ACTION_PAGE, lambda f: flows
                       .data_export.export(user_id, request_state().signed_in_user(), meta(),
                                           flows.admin_users.authorize),
                       download, user_id=user_id)


@admin.route("/users/<user_id>/erase", methods=["GET", "POST"])
@permission_required(MANAGE_USERS)
@fresh_login_required
async def user_erase(user_id: str) -> ResponseReturnValue:
    """Upstream's GDPR erase (GET: what it does, and the button): sessions and keys die,
    audit rows lose personal data, the account is deleted and its data key shredded."""
    target = await service().users.get_by_id(user_id) if request.method == "GET" else None
    if request.method == "GET" and target is None:
        raise NotFound()
    return await serve(await ConfirmForm.from_request(), "admin/user_erase.html", lambda f:
                       service().flows.account_deletion.erase(
                           request_state().signed_in_user(), user_id, meta()),
                       _erased, user_id=user_id, target=target)


async def _erased(form: AuthTunaForm, done: AccountDeleted) -> ResponseReturnValue:
    return finished(form, redirect(url_for("authtuna_admin.users", done="erased")),
                    {"user_id": done.user_id, "erased": True,
                     "sessions_ended": done.sessions_ended, "api_keys_revoked": done.keys_revoked})

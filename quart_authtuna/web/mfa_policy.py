"""MFA_REQUIRED_ROLES: holders of these roles must enrol before they can do anything else."""

from __future__ import annotations

from quart import redirect, request, url_for
from quart.typing import ResponseReturnValue

from . import current
from .request_state import request_state
from .respond import json_response, wants_json

#: Endpoints a user who must enrol may still reach.
_ALLOWED_PREFIXES = ("authtuna_mfa.", "authtuna.")
_ALLOWED = frozenset({"authtuna_auth.logout", "authtuna_auth.reauthenticate",
                      "authtuna_auth.user_info", "static"})


async def enforce_enrolment() -> ResponseReturnValue | None:
    """``before_request``: send users holding an MFA-required role to the setup page."""
    state = request_state().session
    settings = current.settings()
    if state is None or state.mfa_enabled or not settings.mfa_required_roles:
        return None
    endpoint = request.endpoint or ""
    if endpoint in _ALLOWED or endpoint.startswith(_ALLOWED_PREFIXES):
        return None
    rbac = current.service().rbac
    grants = rbac.cached(state.user_id) or await rbac.grants_for(state.user_id)
    if not set(settings.mfa_required_roles) & grants.role_names():
        return None
    if wants_json():
        return json_response(403, errors=[{
            "code": "mfa_enrolment_required", "param": None,
            "message": "Set up two-factor authentication to continue."}])
    return redirect(url_for("authtuna_mfa.setup"))

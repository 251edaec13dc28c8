"""Stolen-cookie step-up: a flagged session does nothing until its owner signs in again.

The session validator flags a session when another device presents its cookie (that request
is refused). Every request of the flagged session then goes to the re-authentication page
(a browser) or gets 401 ``reauthentication_required`` (an API client); the password (or a
passkey) there replaces the session by a new one. Signing out and static files stay reachable.
"""

from __future__ import annotations

from quart import redirect, request, url_for
from quart.typing import ResponseReturnValue

from .redirects import safe_next
from .request_state import existing_request_state
from .respond import json_response, wants_json

#: Endpoints a flagged session may still reach.
_ALLOWED = frozenset({"authtuna_auth.logout", "authtuna_auth.reauthenticate", "static",
                      "authtuna_passkeys.reauth_options", "authtuna_passkeys.reauth"})


async def require_step_up() -> ResponseReturnValue | None:
    """``before_request``: send a flagged session to re-authentication."""
    state = existing_request_state()
    if state is None or state.unavailable is not None:  # unverified: 503 once asked
        return None
    session = state.session
    if session is None or not session.flagged:
        return None
    endpoint = request.endpoint or ""
    if endpoint in _ALLOWED or endpoint.endswith(".static"):
        return None
    if wants_json() or request.method != "GET":
        return json_response(401, errors=[{
            "code": "reauthentication_required", "param": None,
            "message": "Your session was used from another device. Confirm your password "
                       "to continue."}])
    target = safe_next(request.full_path.rstrip("?"))
    return redirect(url_for("authtuna_auth.reauthenticate", next=target, why="other_device"))

"""What a finished first factor means for the browser: a session cookie, or the MFA step."""

from __future__ import annotations

from typing import Any

from quart import current_app, g, jsonify, redirect, request, url_for
from quart.typing import ResponseReturnValue

from ..core.managers.sessions import IssuedSession
from ..core.stages import MfaPending
from .session_hook import MFA_PENDING_COOKIE, cookie_name, set_session_cookie


def pending_handle() -> str:
    """The handle of this browser's pending MFA login, from its HttpOnly cookie ('' if none);
    the handle never goes into a URL."""
    return request.cookies.get(cookie_name(MFA_PENDING_COOKIE), "")


async def start_session(user: Any, issued: IssuedSession) -> None:
    """Replace any previous session of this browser with the new one."""
    service = current_app.extensions["authtuna"].service
    if g.get("session_id"):
        await service.sessions.terminate(g.session_id, reason="replaced_by_login")
    state, cookie = await service.session_validator.issue(issued, user)
    set_session_cookie(cookie, state)


def mfa_pending(exc: MfaPending, form: Any, target: str) -> ResponseReturnValue:
    """Send the browser to the challenge page; give API clients upstream's JSON shape."""
    g.authtuna_pending = exc.handle
    if getattr(form, "is_json", False):
        body = {"status": 200, "mfa_required": True, "mfa_token": exc.handle,
                "data": {"mfa_required": True, "mfa_token": exc.handle}}
        return jsonify(body), 200
    return redirect(url_for("authtuna_mfa.challenge", next=target))

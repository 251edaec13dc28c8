"""What a finished sign-in means for the browser: a session cookie, or the MFA step."""

from __future__ import annotations

from typing import Any

from quart import redirect, request, url_for
from quart.typing import ResponseReturnValue

from ..core.flows.results import MfaChallenged, SignedIn, SignInResult
from . import current
from .cookies import MFA_PENDING_COOKIE, cookie_name
from .request_state import request_state
from .respond import finished
from .session_hook import set_session_cookie


def pending_handle() -> str:
    """The handle of this browser's pending MFA login, from its HttpOnly cookie ('' if none);
    the handle never goes into a URL."""
    return request.cookies.get(cookie_name(MFA_PENDING_COOKIE), "")


def user_json(user: Any) -> dict[str, Any]:
    return {"id": user.id, "username": user.username, "email": user.email,
            "email_verified": user.email_verified, "mfa_enabled": user.mfa_enabled}


async def start_session(result: SignedIn) -> None:
    """Set the new session's cookie (the flow already ended this browser's previous one)."""
    session, cookie = current.service().session_validator.issue(result.session, result.user,
                                                                result.grants)
    set_session_cookie(cookie, session)
    state = request_state()
    state.clear_mfa_pending = bool(pending_handle())
    state.device_token = result.device_token


async def answer_sign_in(result: SignInResult, form: Any, target: str) -> ResponseReturnValue:
    """Signed in: the cookie and the target. MFA next: the challenge page (or its token)."""
    if isinstance(result, MfaChallenged):
        request_state().mfa_pending = result.handle
        challenge = url_for("authtuna_mfa.challenge", next=target)
        data = {"mfa_required": True, "mfa_token": result.handle, "next": challenge}
        return finished(form, redirect(challenge), data)
    await start_session(result)
    return finished(form, redirect(target), {"user": user_json(result.user), "next": target})

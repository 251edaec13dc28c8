"""What authtuna knows about the current request, and what it must do to the response.

One object per request, kept at ``g.authtuna`` and read only through :func:`request_state`.
The session hook fills in who is asking; views and hooks record the cookies to write. Nothing
else of authtuna's lives on ``g``: names such as ``user_id`` there belong to the application
(read the signed-in user as ``current_user``).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal

from quart import Request, g, has_request_context, request

from ..core.errors import DatabaseUnavailable
from ..core.settings import Settings
from ..core.types import RequestMeta
from . import current
from .cookies import cookie_name, cookie_value
from .errors import Unauthorized
from .request_meta import request_meta

if TYPE_CHECKING:
    from ..core.managers.api_key_cache import ApiKeyPrincipal
    from ..core.rbac.checker import RbacChecker
    from ..core.sessions.cache import SessionState
    from ..core.sessions.validator import Verdict
    from ..globals import AnonymousUser, AuthenticatedUser

#: ``json_body`` before the body was decoded.
UNREAD: Any = object()


@dataclass(eq=False, init=False)
class RequestState:
    """Authtuna's state for one request (see :func:`request_state`).

    Made on every signed-in request, so making it is cheap: only ``settings`` and ``request``
    are set, and every other field reads its class default until something assigns it."""

    settings: Settings = field(repr=False)
    #: The request this state belongs to (None when made outside a request).
    request: Request | None = field(default=None, repr=False)

    # -- who is asking (set by the session hook before the view) ---------------------------
    #: ``"COOKIE"`` for a valid session cookie, ``"BEARER"`` for any bearer header (valid
    #: or not: guarded routes then answer 401 in JSON), else None.
    token_method: Literal["COOKIE", "BEARER"] | None = None
    #: Who is asking could not be checked (the database is unavailable): reading
    #: :attr:`user_id`, :attr:`session_id` or :attr:`session` raises it (503), so nothing
    #: treats this request as anonymous; a page that never asks still renders.
    unavailable: DatabaseUnavailable | None = None
    #: The 503 for :attr:`unavailable` is being rendered: the identity then reads as empty.
    unavailable_answered: bool = False
    _user_id: str | None = None
    _session_id: str | None = None
    _session: SessionState | None = None
    #: The validator's answer for the session cookie, which may rotate or clear it.
    verdict: Verdict | None = None
    #: The session was flagged (another device used its cookie): a fresh sign-in is needed.
    needs_step_up: bool = False
    #: The app's grants cache, when the session hook set it (saves a lookup per request).
    rbac: RbacChecker | None = field(default=None, repr=False)
    #: The API key this request presented, when valid.
    principal: ApiKeyPrincipal | None = None
    #: A bearer key was presented and refused.
    invalid_api_key: bool = False
    #: ``current_user`` once built for this request.
    user: AuthenticatedUser | AnonymousUser | None = None

    # -- what to do to the response (read by the after-request hook) ----------------------
    #: The session cookie to send (``""`` deletes it: the session ended); None keeps it.
    new_session_cookie: str | None = None
    #: The session the new cookie belongs to (its lifetime sets the cookie's Max-Age).
    new_session: SessionState | None = None
    #: Handle of a pending MFA sign-in, set in its short-lived cookie.
    mfa_pending: str | None = None
    #: Delete the pending MFA cookie (the sign-in finished or failed for good).
    clear_mfa_pending: bool = False
    #: A trusted-device token to remember in its cookie.
    device_token: str | None = None
    #: This browser's CSRF seed, once read or made for this request.
    csrf_seed: str | None = None
    #: A CSRF seed made for this request, to set in its cookie.
    new_csrf_seed: str | None = None
    #: The body was not drained: answer with ``Connection: close``.
    close_connection: bool = False
    #: The decoded JSON body (:data:`UNREAD` until decoded; None without a JSON body).
    json_body: Any = UNREAD

    _meta: RequestMeta | None = field(default=None, repr=False)

    def __init__(self, settings: Settings, request: Request | None = None) -> None:
        self.settings = settings
        self.request = request

    @property
    def meta(self) -> RequestMeta:
        """Client IP (through trusted proxies), device, region, fingerprint and device cookie,
        computed on first use: a request that needs none of them pays nothing."""
        meta = self._meta
        if meta is None:
            settings, req = self.settings, self.request or _current_request()
            if req is None:
                raise RuntimeError("request metadata needs a request context")
            device = cookie_value(req.cookies, cookie_name(settings.device_cookie_name, settings))
            meta = self._meta = request_meta(req, settings, device_token=device)
        return meta

    def _identity(self) -> None:
        found = self.unavailable
        if found is not None and not self.unavailable_answered:
            raise DatabaseUnavailable(found.retry_after, found.message)

    @property
    def user_id(self) -> str | None:
        """The signed-in user's id (session or API key), else None."""
        self._identity()
        return self._user_id

    @user_id.setter
    def user_id(self, value: str | None) -> None:
        self._user_id = value

    @property
    def session_id(self) -> str | None:
        """The session's stored id (the digest of the cookie's id), else None."""
        self._identity()
        return self._session_id

    @session_id.setter
    def session_id(self, value: str | None) -> None:
        self._session_id = value

    @property
    def session(self) -> SessionState | None:
        """The verified session (no database access to read it)."""
        self._identity()
        return self._session

    @session.setter
    def session(self, value: SessionState | None) -> None:
        self._session = value

    def signed_in(self, session: SessionState, rbac: RbacChecker) -> None:
        """The session cookie was valid: this request is ``session``'s."""
        self._session = session
        self._user_id = session.user_id
        self._session_id = session.session_id
        self.token_method = "COOKIE"
        self.needs_step_up = session.flagged
        self.rbac = rbac

    @property
    def maybe_signed_in(self) -> bool:
        """Signed in, or perhaps (unverified): never raises (response headers use it)."""
        return self._user_id is not None or self.unavailable is not None

    @property
    def api_key_id(self) -> str | None:
        """The id of the valid API key this request presented, else None."""
        return None if self.principal is None else self.principal.key_id

    def signed_in_user(self) -> str:
        """The user id on a guarded route; Unauthorized when nobody is signed in."""
        if self.user_id is None:
            raise Unauthorized()
        return self.user_id

    def signed_in_session(self) -> str:
        """The stored session id on a session-only route; Unauthorized without one."""
        if self.session_id is None:
            raise Unauthorized()
        return self.session_id

    def response_work(self) -> bool:
        """Whether the response needs any cookie written or deleted."""
        verdict = self.verdict
        return (self.new_session_cookie is not None or self.mfa_pending is not None
                or self.clear_mfa_pending or self.device_token is not None
                or self.new_csrf_seed is not None
                or (verdict is not None and (verdict.cookie is not None or verdict.clear_cookie)))


def request_state() -> RequestState:
    """This request's :class:`RequestState`, made on first use (the session hook makes it
    only for requests that carry credentials)."""
    context = _globals()
    try:
        state: RequestState = context.authtuna
    except AttributeError:
        state = context.authtuna = RequestState(current.settings(), _current_request())
    return state


def existing_request_state() -> RequestState | None:
    """This request's state if anything made it, else None (an anonymous request nobody
    asked about): the after-request hook need not make one."""
    state: RequestState | None = getattr(_globals(), "authtuna", None)
    return state


def new_request_state(settings: Settings, req: Request) -> RequestState:
    """Start this request's state afresh (the session hook, before the view reads it)."""
    state = _globals().authtuna = RequestState(settings, req)
    return state


def _globals() -> Any:
    """``g`` itself: attribute access through the proxy costs several calls, and every
    signed-in request reads the state a few times."""
    return g._get_current_object()


def _current_request() -> Request | None:
    if not has_request_context():
        return None
    current: Request = request._get_current_object()  # type: ignore[attr-defined]
    return current

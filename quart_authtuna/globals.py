"""``current_user``: the signed-in user of this request, or an anonymous stand-in."""

from __future__ import annotations

from werkzeug.local import LocalProxy

from .core.managers.api_key_cache import ApiKeyPrincipal
from .core.rbac.grants import Grants
from .core.sessions.cache import SessionState
from .web import current
from .web.request_state import RequestState, request_state


class AnonymousUser:
    """The user of a request without a valid session or API key."""

    is_authenticated = False
    is_anonymous = True
    id = username = email = None
    email_verified = mfa_enabled = False

    def has_permission(self, permission: str, scope: str = "global") -> bool:
        return False

    def has_role(self, role: str, scope: str = "global") -> bool:
        return False

    def __repr__(self) -> str:
        return "<AnonymousUser>"


class AuthenticatedUser:
    """A signed-in user, read from the verified session: no database access."""

    is_authenticated = True
    is_anonymous = False
    is_api_key = False

    def __init__(self, state: SessionState, grants: Grants | None) -> None:
        self._state = state
        self._grants = grants
        self.id = state.user_id
        self.username = state.username
        self.email = state.email
        self.email_verified = state.email_verified
        self.mfa_enabled = state.mfa_enabled
        self.session_id = state.session_id
        self.authenticated_at = state.authenticated_at

    @property
    def grants(self) -> Grants:
        if self._grants is None:
            raise RuntimeError("grants not loaded; use an authtuna decorator or await load_grants")
        return self._grants

    def has_permission(self, permission: str, scope: str = "global") -> bool:
        return self.grants.has_permission(permission, scope)

    def has_role(self, role: str, scope: str = "global") -> bool:
        return self.grants.has_role(role, scope)

    def __repr__(self) -> str:
        return f"<AuthenticatedUser {self.id} {self.username!r}>"


class ApiKeyUser(AuthenticatedUser):
    """A user signed in with an API key: its grants are the key's, never more than the user's.

    ``authenticated_at`` is ``-inf``, so a key never satisfies ``fresh_login_required``.
    """

    is_api_key = True

    def __init__(self, principal: ApiKeyPrincipal) -> None:
        self._state = None  # type: ignore[assignment]
        self._grants = principal.grants
        self.principal = principal
        self.id = principal.user_id
        self.username = principal.username
        self.email = principal.email
        self.email_verified = principal.email_verified
        self.mfa_enabled = principal.mfa_enabled
        self.session_id = None  # type: ignore[assignment]
        self.authenticated_at = float("-inf")
        self.api_key_id = principal.key_id
        self.key_type = principal.key_type

    @property
    def is_publishable(self) -> bool:
        return self.principal.is_publishable

    def __repr__(self) -> str:
        return f"<ApiKeyUser {self.id} {self.username!r} key={self.api_key_id}>"


def _find_user() -> AuthenticatedUser | AnonymousUser:
    """This request's user, built once from the verified session or API key."""
    state = request_state()
    user = state.user
    if user is None:
        user = state.user = _build_user(state)
    return user


def _build_user(state: RequestState) -> AuthenticatedUser | AnonymousUser:
    if state.principal is not None:
        return ApiKeyUser(state.principal)
    session = state.session
    if session is None:
        return AnonymousUser()
    rbac = state.rbac or current.service().rbac
    # The grants loaded with the session's last verification hold as long as it does: a
    # request the validator let through needs no SQL for them.
    return AuthenticatedUser(session, rbac.cached(session.user_id,
                                                  loaded_since=session.verified_at))


#: The signed-in user (``current_user.is_authenticated``, ``.id``, ``.username``, ``.email``).
current_user: AuthenticatedUser | AnonymousUser = LocalProxy(_find_user)  # type: ignore[assignment]

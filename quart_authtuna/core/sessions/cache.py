"""In-process cache of verified sessions, indexed by session and by user for revocation."""

from __future__ import annotations

from collections import OrderedDict
from dataclasses import dataclass, field, replace

CACHE_SIZE = 50_000


@dataclass(frozen=True, slots=True)
class SessionState:
    """What a verified session lets a request know without touching the database."""

    session_id: str
    user_id: str
    username: str
    email: str
    email_verified: bool
    mfa_enabled: bool
    random_string: str
    accepted_strings: frozenset[str]
    verified_at: float
    authenticated_at: float
    etime: float
    e_abs_time: float
    auth_method: str = "password"
    fingerprint: str = ""
    #: Another device used this session's cookie: re-authentication is required.
    flagged: bool = False
    extra: dict[str, str] = field(default_factory=dict)

    def with_user(self, **changes: object) -> SessionState:
        return replace(self, **changes)  # type: ignore[arg-type]


class SessionCache:
    """Verified sessions of this process; revocations here take effect on the next request."""

    def __init__(self) -> None:
        self._by_session: OrderedDict[str, SessionState] = OrderedDict()
        self._by_user: dict[str, set[str]] = {}
        self._revoked: OrderedDict[str, None] = OrderedDict()

    def get(self, session_id: str) -> SessionState | None:
        return self._by_session.get(session_id)

    def is_revoked(self, session_id: str) -> bool:
        return session_id in self._revoked

    def put(self, state: SessionState) -> None:
        self._by_session[state.session_id] = state
        self._by_session.move_to_end(state.session_id)
        self._by_user.setdefault(state.user_id, set()).add(state.session_id)
        while len(self._by_session) > CACHE_SIZE:
            old_id, old = self._by_session.popitem(last=False)
            self._by_user.get(old.user_id, set()).discard(old_id)

    def drop(self, session_id: str, *, revoked: bool = False) -> None:
        """Forget a session; ``revoked`` also refuses its cookie until the process restarts."""
        state = self._by_session.pop(session_id, None)
        if state is not None:
            self._by_user.get(state.user_id, set()).discard(session_id)
        if revoked:
            self._revoked[session_id] = None
            while len(self._revoked) > CACHE_SIZE:
                self._revoked.popitem(last=False)

    def drop_user(self, user_id: str) -> None:
        """Forget every session of a user, so the next request re-verifies each one."""
        for session_id in self._by_user.pop(user_id, set()):
            self._by_session.pop(session_id, None)

    def clear(self) -> None:
        self._by_session.clear()
        self._by_user.clear()

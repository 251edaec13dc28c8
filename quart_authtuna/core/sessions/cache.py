"""In-process cache of verified sessions, indexed by session and by user for revocation.

Bounded by SESSION_CACHE_SIZE (least recently verified out first). An evicted session is
verified again at its next request, like one this process has never seen. The strings every
session of one user repeats (user id, username, email) are stored once per user.
"""

from __future__ import annotations

import sys
from collections import OrderedDict
from dataclasses import dataclass, replace


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
    #: The current random string first, then those still within their grace.
    accepted_strings: tuple[str, ...]
    verified_at: float
    authenticated_at: float
    etime: float
    e_abs_time: float
    auth_method: str = "password"
    fingerprint: str = ""
    #: Another device used this session's cookie: re-authentication is required.
    flagged: bool = False
    #: When the random string last rotated (the row's ``mtime``).
    rotated_at: float = 0.0
    #: The region recorded at sign-in (LOCK_SESSION_REGION: another one needs a read).
    region: str = ""
    #: The revocation channel's connection epoch this state was read under (None: no
    #: cross-process channel was connected): see ``Trust``.
    epoch: int | None = None

    def with_user(self, **changes: object) -> SessionState:
        return replace(self, **changes)  # type: ignore[arg-type]


class _Person:
    """One user's cached sessions and the strings they share."""

    __slots__ = ("names", "sessions")

    def __init__(self, names: tuple[str, str, str]) -> None:
        self.names = names
        self.sessions: set[str] = set()


class SessionCache:
    """Verified sessions of this process; revocations here take effect on the next request.

    ``generation`` counts the drops: a verification that read the database before a drop
    must not be trusted beyond its interval (see the validator).
    """

    def __init__(self, size: int = 50_000) -> None:
        self.size = size
        self.generation = 0
        self._by_session: OrderedDict[str, SessionState] = OrderedDict()
        self._by_user: dict[str, _Person] = {}
        self._revoked: OrderedDict[str, None] = OrderedDict()

    def __len__(self) -> int:
        return len(self._by_session)

    def get(self, session_id: str) -> SessionState | None:
        return self._by_session.get(session_id)

    def is_revoked(self, session_id: str) -> bool:
        return session_id in self._revoked

    def shared(self, user_id: str, username: str, email: str) -> tuple[str, str, str]:
        """The user's id, username and email as the objects cached sessions already hold."""
        person = self._by_user.get(user_id)
        if person is not None and person.names[1:] == (username, email):
            return person.names
        return sys.intern(user_id), username, email

    def put(self, state: SessionState) -> None:
        old = self._by_session.get(state.session_id)
        if old is not None and old.user_id != state.user_id:
            self._unlink(old)
        self._by_session[state.session_id] = state
        self._by_session.move_to_end(state.session_id)
        person = self._by_user.get(state.user_id)
        if person is None:
            person = self._by_user[state.user_id] = _Person(
                (state.user_id, state.username, state.email))
        else:
            person.names = (person.names[0], state.username, state.email)
        person.sessions.add(state.session_id)
        while len(self._by_session) > self.size:
            _, evicted = self._by_session.popitem(last=False)
            self._unlink(evicted)

    def drop(self, session_id: str, *, revoked: bool = False) -> None:
        """Forget a session; ``revoked`` also refuses its cookie until the process restarts."""
        self.generation += 1
        state = self._by_session.pop(session_id, None)
        if state is not None:
            self._unlink(state)
        if revoked:
            self._revoked[session_id] = None
            while len(self._revoked) > self.size:
                self._revoked.popitem(last=False)

    def drop_user(self, user_id: str) -> None:
        """Forget every session of a user, so the next request re-verifies each one."""
        self.generation += 1
        person = self._by_user.pop(user_id, None)
        for session_id in person.sessions if person is not None else ():
            self._by_session.pop(session_id, None)

    def clear(self) -> None:
        self.generation += 1
        self._by_session.clear()
        self._by_user.clear()

    def users(self) -> int:
        """How many users have cached sessions (an empty entry never lingers)."""
        return len(self._by_user)

    def _unlink(self, state: SessionState) -> None:
        person = self._by_user.get(state.user_id)
        if person is not None:
            person.sessions.discard(state.session_id)
            if not person.sessions:
                del self._by_user[state.user_id]

"""A user's own sessions: list them, end one of the others, end all the others.

Sessions are named by their stored id (the SHA-256 of the id the cookie carries): showing it
to its owner reveals nothing a cookie could be rebuilt from, and it is what ending one needs.
"""

from __future__ import annotations

from dataclasses import dataclass

from ..db.models import UserSession
from ..db.unit_of_work import UnitOfWork
from ..errors import InputError, NotFound
from ..i18n import N_, gettext
from ..managers.sessions import SessionManager
from ..types import FieldError, RequestMeta
from .results import OtherSessionsEnded, SessionEnded

ENDED_BY_USER = "ended_by_user"


@dataclass(frozen=True, slots=True)
class ActiveSession:
    """One signed-in browser or device, as its owner sees it (upstream's field names)."""

    session_id: str
    device: str
    region: str
    last_ip: str | None
    ctime: float
    mtime: float
    is_current: bool
    auth_method: str


@dataclass(frozen=True, slots=True)
class UserSessions:
    """The owner's view of their sessions; another user's session is "not found"."""

    _db: UnitOfWork
    _sessions: SessionManager

    async def list(self, user_id: str, current_session_id: str | None) -> list[ActiveSession]:
        """Active, unexpired sessions: the current one first, then by last activity."""
        rows = await self._sessions.get_all_for_user(user_id)
        found = [ActiveSession(row.session_id, row.device, row.region, row.last_ip, row.ctime,
                               row.mtime, row.session_id == current_session_id, row.auth_method)
                 for row in rows]
        return sorted(found, key=lambda s: (not s.is_current, -s.mtime))

    async def end(self, user_id: str, session_id: str, current_session_id: str | None,
                  meta: RequestMeta) -> SessionEnded:
        """End another of the user's sessions; the current one is ended by signing out."""
        async with self._db.transaction() as tx:
            row = await tx.get(UserSession, session_id)
            if row is None or row.user_id != user_id or not row.active:
                raise NotFound(N_("That session was not found; it may have ended already."))
            if session_id == current_session_id:
                raise InputError(FieldError(
                    "current_session",
                    gettext("This is the session you are using: sign out instead."),
                    "session_id"))
            await self._sessions.terminate(session_id, reason=ENDED_BY_USER, session=tx)
        return SessionEnded(session_id)

    async def end_others(self, user_id: str, current_session_id: str | None,
                         meta: RequestMeta) -> OtherSessionsEnded:
        """End every session of the user but the current one."""
        count = await self._sessions.terminate_all_for_user(
            user_id, except_session_id=current_session_id, reason=ENDED_BY_USER)
        return OtherSessionsEnded(count)

"""Signing out: the session row ends, and every process refuses its cookie."""

from __future__ import annotations

from dataclasses import dataclass

from ..managers.sessions import SessionManager
from .results import SignedOut


@dataclass(frozen=True, slots=True)
class Logout:

    _sessions: SessionManager

    async def __call__(self, session_id: str | None, reason: str = "logout") -> SignedOut:
        """End the session with this stored id (nothing to do without one)."""
        if not session_id:
            return SignedOut(False)
        return SignedOut(await self._sessions.terminate(session_id, reason=reason))

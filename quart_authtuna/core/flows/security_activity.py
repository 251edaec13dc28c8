"""A user's own security activity: their audit events, newest first, keyset-paged, in words.

The descriptions here are a minimal stand-in until one shared module describes audit events
for every page (the dashboard and the admin area need them too).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from ..db.models import AuditEvent
from ..errors import InputError
from ..managers.audit import AuditManager
from ..types import FieldError

#: event_type → what happened, as the account's owner would say it.
DESCRIPTIONS: dict[str, str] = {
    "USER_CREATED": "Your account was created",
    "USER_SIGNUP_COMPLETED": "You finished signing up",
    "USER_UPDATED": "Your profile was changed",
    "USER_SUSPENDED": "Your account was suspended",
    "USER_UNSUSPENDED": "Your account was reactivated",
    "EMAIL_VERIFIED": "Your email address was confirmed",
    "LOGIN_SUCCESS": "You signed in",
    "LOGIN_FAILED": "Someone tried to sign in with a wrong password",
    "PASSWORDLESS_LOGIN_REQUESTED": "A sign-in link was requested",
    "PASSWORDLESS_LOGIN_SUCCESS": "You signed in with an emailed link",
    "PASSKEY_LOGIN": "You signed in with a passkey",
    "REAUTHENTICATED": "You confirmed your identity",
    "REAUTHENTICATION_FAILED": "A check of your identity failed",
    "SESSION_CREATED": "A new session started",
    "SESSION_TERMINATED": "A session ended",
    "SESSIONS_TERMINATED_ALL": "Your other sessions were signed out",
    "PASSWORD_CHANGED": "Your password was changed",
    "PASSWORD_SET": "A password was set for your account",
    "PASSWORD_CHANGE_FAILED": "A password change failed: wrong current password",
    "PASSWORD_RESET_REQUESTED": "A password reset was requested",
    "PASSWORD_RESET_COMPLETED": "Your password was reset",
    "MFA_ENABLED": "Two-factor authentication was turned on",
    "MFA_DISABLED": "Two-factor authentication was turned off",
    "MFA_VALIDATION_SUCCESS": "A two-factor code was accepted",
    "MFA_VALIDATION_FAILED": "A wrong two-factor code was entered",
    "MFA_RECOVERY_CODE_USED": "A recovery code was used",
    "MFA_RECOVERY_CODES_REGENERATED": "New recovery codes were made",
    "PASSKEY_ADDED": "A passkey was added",
    "PASSKEY_REMOVED": "A passkey was removed",
    "PASSKEY_RENAMED": "A passkey was renamed",
    "API_KEY_CREATED": "An API key was created",
    "API_KEY_DELETED": "An API key was revoked",
    "ROLE_ASSIGNED": "You were given a role",
    "ROLE_REMOVED": "A role was taken away from you",
}
#: Detail fields worth naming after the description (never secrets).
_SHOWN = {"SESSION_CREATED": "device", "API_KEY_CREATED": "name", "API_KEY_DELETED": "name",
          "ROLE_ASSIGNED": "role", "ROLE_REMOVED": "role", "PASSKEY_ADDED": "nickname",
          "PASSKEY_REMOVED": "nickname"}
MAX_PAGE = 100


def describe(event_type: str, details: dict[str, Any] | None = None) -> str:
    """Plain words for an event; an unknown type is spelled out from its name."""
    text = DESCRIPTIONS.get(event_type) or event_type.replace("_", " ").capitalize()
    shown = (details or {}).get(_SHOWN.get(event_type, ""))
    if isinstance(shown, str) and shown:
        text = f"{text}: {shown[:100]}"
    return text


@dataclass(frozen=True, slots=True)
class ActivityEntry:
    id: int
    event_type: str
    timestamp: float
    ip_address: str | None
    description: str


@dataclass(frozen=True, slots=True)
class ActivityPage:
    """One page; ``next_cursor`` continues after its last entry (None: no older events)."""

    entries: list[ActivityEntry]
    next_cursor: str | None


def _cursor(event: AuditEvent) -> str:
    return f"{event.timestamp!r}_{event.id}"


def parse_cursor(cursor: str | None) -> tuple[float, int] | None:
    """``"<timestamp>_<id>"`` (exact: the float's repr round-trips); InputError if malformed."""
    if not cursor:
        return None
    at, _, last_id = cursor.partition("_")
    try:
        return float(at), int(last_id)
    except ValueError:
        raise InputError(FieldError("invalid_cursor", "That page link is not valid.",
                                    "before")) from None


@dataclass(frozen=True, slots=True)
class SecurityActivity:
    _audit: AuditManager

    async def page(self, user_id: str, before: str | None = None, limit: int = 20
                   ) -> ActivityPage:
        """The user's events older than ``before`` (a cursor from the previous page)."""
        limit = max(1, min(limit, MAX_PAGE))
        rows = list(await self._audit.events_before(user_id, parse_cursor(before), limit + 1))
        more = len(rows) > limit
        rows = rows[:limit]
        entries = [ActivityEntry(row.id, row.event_type, row.timestamp, row.ip_address,
                                 describe(row.event_type, row.details)) for row in rows]
        return ActivityPage(entries, _cursor(rows[-1]) if more and rows else None)

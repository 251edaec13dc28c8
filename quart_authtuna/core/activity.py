"""A person's own security activity, in words: the one table from audit event to sentence.

The dashboard's "Latest security events" and the settings' "Security activity" both read
audit rows through :func:`describe` and list only :data:`SHOWN` types (the others, such as
``TOKEN_USED`` or ``SESSION_IP_UPDATED``, are bookkeeping a person need not read).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from .db.models import AuditEvent

#: Audit event type → what happened, as the account's owner would say it.
SENTENCES: dict[str, str] = {
    "USER_CREATED": "Your account was created",
    "USER_SIGNUP_COMPLETED": "You finished signing up",
    "EMAIL_VERIFIED": "You confirmed your email address",
    "LOGIN_SUCCESS": "You signed in",
    "LOGIN_FAILED": "Someone tried to sign in with a wrong password",
    "PASSWORDLESS_LOGIN_SUCCESS": "You signed in with an emailed link",
    "PASSKEY_LOGIN": "You signed in with a passkey",
    "REAUTHENTICATED": "You confirmed your password",
    "REAUTHENTICATION_FAILED": "A password confirmation failed",
    "PASSWORD_CHANGED": "You changed your password",
    "PASSWORD_SET": "You set a password for your account",
    "PASSWORD_CHANGE_FAILED": "A password change failed: the current password was wrong",
    "PASSWORD_RESET_REQUESTED": "A password reset link was requested",
    "PASSWORD_RESET_COMPLETED": "Your password was reset with an emailed link",
    "MFA_ENABLED": "You turned on two-factor authentication",
    "MFA_DISABLED": "You turned off two-factor authentication",
    "MFA_RECOVERY_CODE_USED": "A recovery code was used to sign in",
    "MFA_RECOVERY_CODES_REGENERATED": "You made new recovery codes",
    "PASSKEY_ADDED": "You added a passkey",
    "PASSKEY_REMOVED": "You removed a passkey",
    "PASSKEY_RENAMED": "You renamed a passkey",
    "PASSKEY_CLONE_SUSPECTED": "A passkey was blocked: it may have been copied",
    "SESSION_TERMINATED": "A session was signed out",
    "SESSIONS_TERMINATED_ALL": "Sessions were signed out",
    "USERNAME_CHANGED": "You changed your username",
    "EMAIL_CHANGE_REQUESTED": "A change of email address was requested",
    "EMAIL_CHANGED": "Your email address was changed",
    "USER_UPDATED": "Your profile was updated",
    "API_KEY_CREATED": "You created an API key",
    "API_KEY_DELETED": "An API key was revoked",
    "ROLE_ASSIGNED": "You were given a role",
    "ROLE_REMOVED": "A role was taken away from you",
    "USER_SUSPENDED": "Your account was suspended",
    "USER_UNSUSPENDED": "Your account was reactivated",
}
#: The event types a person's activity lists show.
SHOWN: frozenset[str] = frozenset(SENTENCES)
_METHODS = {"password": "with your password", "magic_link": "with an emailed link",
            "passkey": "with a passkey", "mfa": "with a second factor",
            "recovery_code": "with a recovery code"}


@dataclass(frozen=True, slots=True)
class ActivityItem:
    """One line of a person's activity: when, what (a sentence), and from which address."""

    event_type: str
    sentence: str
    timestamp: float
    ip_address: str | None

    def as_json(self) -> dict[str, Any]:
        return {"event_type": self.event_type, "description": self.sentence,
                "timestamp": self.timestamp, "ip_address": self.ip_address}


def describe(event_type: str, details: Mapping[str, Any] | None = None) -> str:
    """The sentence for ``event_type``; details refine a few (how one signed in, how many
    sessions ended). Unknown types read as ``"Account event: token used"``."""
    details = details or {}
    if event_type == "LOGIN_SUCCESS" and details.get("method") in _METHODS:
        return f"You signed in {_METHODS[details['method']]}"
    if event_type == "SESSIONS_TERMINATED_ALL" and isinstance(details.get("count"), int):
        count = details["count"]
        return f"{count} session{'' if count == 1 else 's'} signed out"
    found = SENTENCES.get(event_type)
    if found is not None:
        return found
    return "Account event: " + event_type.replace("_", " ").lower()


def activity_item(event: AuditEvent) -> ActivityItem:
    """The :class:`ActivityItem` of one audit row."""
    return ActivityItem(event.event_type, describe(event.event_type, event.details),
                        event.timestamp, event.ip_address)

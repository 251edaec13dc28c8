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
from .i18n import N_, gettext, ngettext

#: Audit event type → what happened, as the account's owner would say it.
SENTENCES: dict[str, str] = {
    "USER_CREATED": N_("Your account was created"),
    "USER_SIGNUP_COMPLETED": N_("You finished signing up"),
    "EMAIL_VERIFIED": N_("You confirmed your email address"),
    "LOGIN_SUCCESS": N_("You signed in"),
    "LOGIN_FAILED": N_("Someone tried to sign in with a wrong password"),
    "PASSWORDLESS_LOGIN_SUCCESS": N_("You signed in with an emailed link"),
    "PASSKEY_LOGIN": N_("You signed in with a passkey"),
    "REAUTHENTICATED": N_("You confirmed your password"),
    "REAUTHENTICATION_FAILED": N_("A password confirmation failed"),
    "PASSWORD_CHANGED": N_("You changed your password"),
    "PASSWORD_SET": N_("You set a password for your account"),
    "PASSWORD_CHANGE_FAILED": N_("A password change failed: the current password was wrong"),
    "PASSWORD_RESET_REQUESTED": N_("A password reset link was requested"),
    "PASSWORD_RESET_COMPLETED": N_("Your password was reset with an emailed link"),
    "MFA_ENABLED": N_("You turned on two-factor authentication"),
    "MFA_DISABLED": N_("You turned off two-factor authentication"),
    "MFA_RECOVERY_CODE_USED": N_("A recovery code was used to sign in"),
    "MFA_RECOVERY_CODES_REGENERATED": N_("You made new recovery codes"),
    "PASSKEY_ADDED": N_("You added a passkey"),
    "PASSKEY_REMOVED": N_("You removed a passkey"),
    "PASSKEY_RENAMED": N_("You renamed a passkey"),
    "PASSKEY_CLONE_SUSPECTED": N_("A passkey was blocked: it may have been copied"),
    "SESSION_TERMINATED": N_("A session was signed out"),
    "SESSIONS_TERMINATED_ALL": N_("Sessions were signed out"),
    "USERNAME_CHANGED": N_("You changed your username"),
    "EMAIL_CHANGE_REQUESTED": N_("A change of email address was requested"),
    "EMAIL_CHANGED": N_("Your email address was changed"),
    "USER_UPDATED": N_("Your profile was updated"),
    "API_KEY_CREATED": N_("You created an API key"),
    "API_KEY_DELETED": N_("An API key was revoked"),
    "ROLE_ASSIGNED": N_("You were given a role"),
    "ROLE_REMOVED": N_("A role was taken away from you"),
    "USER_SUSPENDED": N_("Your account was suspended"),
    "USER_UNSUSPENDED": N_("Your account was reactivated"),
}
#: The event types a person's activity lists show.
SHOWN: frozenset[str] = frozenset(SENTENCES)
_METHODS = {"password": N_("You signed in with your password"),
            "magic_link": N_("You signed in with an emailed link"),
            "passkey": N_("You signed in with a passkey"),
            "mfa": N_("You signed in with a second factor"),
            "recovery_code": N_("You signed in with a recovery code")}


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
        return gettext(_METHODS[details["method"]])
    if event_type == "SESSIONS_TERMINATED_ALL" and isinstance(details.get("count"), int):
        count = details["count"]
        return ngettext("%(n)s session signed out", "%(n)s sessions signed out",
                        count) % {"n": count}
    found = SENTENCES.get(event_type)
    if found is not None:
        return gettext(found)
    return gettext("Account event: %(what)s") % {
        "what": event_type.replace("_", " ").lower()}


def activity_item(event: AuditEvent) -> ActivityItem:
    """The :class:`ActivityItem` of one audit row."""
    return ActivityItem(event.event_type, describe(event.event_type, event.details),
                        event.timestamp, event.ip_address)

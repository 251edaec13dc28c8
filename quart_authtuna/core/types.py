"""Small value types shared across the core: clock, request metadata, field errors."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field

#: A clock returns the current time as epoch seconds; tests inject their own.
Clock = Callable[[], float]


def system_clock() -> float:
    """The real wall clock."""
    return time.time()


@dataclass(frozen=True, slots=True)
class FieldError:
    """One semantic problem with one input field."""

    code: str
    message: str
    param: str | None = None


@dataclass(frozen=True, slots=True)
class RequestMeta:
    """What the core needs to know about the request that triggered an action."""

    ip_address: str | None = None
    user_agent: str = ""
    device: str = "Unknown"
    region: str = "Unknown"
    fingerprint: str = ""
    #: The signed device cookie (see :mod:`.device_trust`), when the browser has one.
    device_token: str | None = None
    #: The stored id of the session this browser already has (a new sign-in replaces it).
    session_id: str | None = None
    extra: dict[str, str] = field(default_factory=dict)


SYSTEM_ACTOR = "system"

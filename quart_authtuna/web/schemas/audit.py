"""Schemas of the audit log: the admin's filtered list, a user's own log, and the exports."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from .operations import Op


@dataclass
class AuditFilters:
    """Every filter is optional: ``user`` is an id, username or email; ``ip`` an exact
    address; ``date_from`` and ``date_to`` are ``YYYY-MM-DD`` days in UTC, both included."""

    event_type: str | None = None
    user: str | None = None
    ip: str | None = None
    date_from: str | None = None
    date_to: str | None = None


@dataclass
class AuditLogQuery(AuditFilters):
    """The filters, the page size (at most 200) and a cursor from ``meta``."""

    limit: int = 50
    cursor: str | None = None


@dataclass
class UserLogQuery:
    """A cursor from ``meta`` (keyset pages); upstream's ``skip`` still pages by offset."""

    limit: int = 50
    cursor: str | None = None
    skip: int | None = None


@dataclass
class LoggedEvent:
    """An audit event; ``username`` and ``actor`` name ``user_id`` and ``actor_id`` (null for
    a deleted user or an actor that is not one)."""

    id: int
    event_type: str
    timestamp: float
    user_id: str | None
    username: str | None
    actor_id: str | None
    actor: str | None
    ip_address: str | None
    details: dict[str, Any] | None


@dataclass
class BothWays:
    """``next_cursor`` reads older events, ``prev_cursor`` newer ones (null at either end)."""

    next_cursor: str | None
    prev_cursor: str | None


@dataclass
class EventPage:
    """Events newest first; pass a cursor of ``meta`` as ``?cursor=`` for another page."""

    status: int
    data: list[LoggedEvent]
    meta: BothWays


ROUTES: dict[str, Op] = {
    "GET authtuna_admin.audit_log": Op(query=AuditLogQuery, responses={200: EventPage},
                                       page=True),
    "GET authtuna_admin.audit_export_csv": Op(query=AuditFilters, download="text/csv"),
    "GET authtuna_admin.audit_export_json": Op(query=AuditFilters,
                                               responses={200: list[LoggedEvent]}),
    "GET authtuna_admin.user_audit_log": Op(query=UserLogQuery, responses={200: EventPage},
                                            page=True),
}

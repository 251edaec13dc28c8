"""Schemas of the admin dashboard and the permissions pages."""

from __future__ import annotations

from dataclasses import dataclass

from .operations import PAGE, Op, ok


@dataclass
class Day:
    """One UTC day: ``start`` is its first second (epoch), ``date`` its ISO date."""

    date: str
    start: float
    signups: int
    signins: int


@dataclass
class DashboardStats:
    """Counts leave out the ``system`` user; ``live_sessions``: active and unexpired."""

    users: int
    active: int
    verified: int
    mfa_enabled: int
    suspended: int
    live_sessions: int
    days: list[Day]


@dataclass
class PermissionOut:
    """``system``: a default permission; ``roles``: the roles that carry it."""

    id: int
    name: str
    description: str | None
    system: bool
    roles: list[str]


@dataclass
class PermissionIn:
    """``name``: 1-80 of ``A-Z a-z 0-9 _ : . -`` (``resource:action``)."""

    name: str
    description: str | None = None


@dataclass
class PermissionCreated:
    """``created`` is false when the name existed (200, nothing changed)."""

    id: int
    name: str
    description: str | None
    system: bool
    created: bool


ROUTES: dict[str, Op] = {
    "GET authtuna_admin.dashboard": Op(responses={200: ok(DashboardStats)}, page=True),
    "GET authtuna_admin.permissions": Op(responses={200: ok(list[PermissionOut])}, page=True),
    "GET authtuna_admin.permission_create": PAGE,
    "POST authtuna_admin.permission_create": Op(
        request=PermissionIn, responses={201: ok(PermissionCreated), 200: ok(PermissionCreated)}),
}

"""Schemas of the admin roles pages (``/roles``; views in blueprints/admin/roles.py and
role_actions.py)."""

from __future__ import annotations

from dataclasses import dataclass

from .envelope import NoInput
from .operations import PAGE, Op, answers


@dataclass
class RoleSummary:
    """``system``: protected (never changed or deleted here)."""

    name: str
    description: str | None
    level: int | None
    system: bool
    permissions_count: int
    holders_count: int


@dataclass
class RoleHolder:
    user_id: str
    username: str
    scope: str
    given_at: float


@dataclass
class ScopeHolders:
    """``users_url``: the users search filtered by this role and scope."""

    scope: str
    count: int
    users_url: str


@dataclass
class RoleRecord:
    """``holders``: the first 50 by scope and username (``holders_truncated`` when there are
    more); ``role_assign_permissions``: roles its holders may assign;
    ``role_grant_permissions``: permissions they may grant; ``assignable_by``: roles whose
    holders may assign it; ``can_manage``/``can_delete``: what the caller may do."""

    name: str
    description: str | None
    level: int | None
    system: bool
    permissions: list[str]
    holders: list[RoleHolder]
    holders_by_scope: list[ScopeHolders]
    holders_total: int
    holders_truncated: bool
    role_assign_permissions: list[str]
    role_grant_permissions: list[str]
    assignable_by: list[str]
    can_manage: bool
    can_delete: bool


@dataclass
class RoleCreateIn:
    """``name``: a letter, then up to 79 of ``A-Z a-z 0-9 _ . -``; ``level``: 0-100000,
    below the creator's own."""

    name: str
    description: str | None = None
    level: int | None = None


@dataclass
class RoleCreated:
    name: str
    description: str | None
    level: int | None
    system: bool


@dataclass
class RoleDeleted:
    """``holders``: how many users lost the role."""

    name: str
    deleted: bool
    holders: int


@dataclass
class PermissionNameIn:
    permission_name: str


@dataclass
class RolePermissionChanged:
    """``changed`` is false when the role already carried the permission."""

    role_name: str
    permission_name: str
    attached: bool
    changed: bool


@dataclass
class AssignGrantIn:
    assigner_role_name: str
    assignable_role_name: str


@dataclass
class AssignGrantChanged:
    """``changed`` is false when the grant already existed."""

    assigner_role_name: str
    assignable_role_name: str
    granted: bool
    changed: bool


@dataclass
class PermissionGrantIn:
    granter_role_name: str
    grantable_permission_name: str


@dataclass
class PermissionGrantChanged:
    granter_role_name: str
    grantable_permission_name: str
    granted: bool
    changed: bool


_RECORD = answers(RoleRecord)
_DELETE = answers(RoleDeleted, request=NoInput)
_DETACH = answers(RolePermissionChanged, request=NoInput)
_ASSIGN = answers(AssignGrantChanged, request=AssignGrantIn)
_GRANT = answers(PermissionGrantChanged, request=PermissionGrantIn)

ROUTES: dict[str, Op] = {
    "GET authtuna_admin.roles": answers(list[RoleSummary], page=True),
    "GET authtuna_admin.role_detail": answers(RoleRecord, page=True),
    "GET authtuna_admin.role_details_data": _RECORD,
    "GET authtuna_admin.role_create": PAGE,
    "POST authtuna_admin.role_create": answers(RoleCreated, 201, request=RoleCreateIn),
    "GET authtuna_admin.role_delete": answers(RoleRecord, page=True),
    "POST authtuna_admin.role_delete": _DELETE,
    "DELETE authtuna_admin.role_delete": _DELETE,
    "POST authtuna_admin.role_permission_attach": answers(RolePermissionChanged,
                                                          request=PermissionNameIn),
    "POST authtuna_admin.role_permission_detach": _DETACH,
    "DELETE authtuna_admin.role_permission_detach": _DETACH,
    "POST authtuna_admin.role_assign_grant": _ASSIGN,
    "POST authtuna_admin.role_assign_grant_remove": _ASSIGN,
    "DELETE authtuna_admin.role_assign_grant_remove": _ASSIGN,
    "POST authtuna_admin.role_permission_grant": _GRANT,
    "POST authtuna_admin.role_permission_grant_remove": _GRANT,
    "DELETE authtuna_admin.role_permission_grant_remove": _GRANT,
}

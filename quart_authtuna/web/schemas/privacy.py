"""GDPR routes: the data export (owner and admin) and the admin's erase."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from .envelope import NoInput
from .operations import PAGE, Op, answers


@dataclass
class ExportedMfa:
    enabled: bool
    methods: list[dict[str, Any]]
    recovery_codes_left: int


@dataclass
class DataExport:
    """Everything stored about one account (``format``: ``quart-authtuna-export/1``); no
    password hash, secret, key hash or provider token. Browsers get it as a file download."""

    format: str
    exported_at: float
    profile: dict[str, Any]
    roles: list[dict[str, Any]]
    sessions: list[dict[str, Any]]
    api_keys: list[dict[str, Any]]
    passkeys: list[dict[str, Any]]
    mfa: ExportedMfa
    social_accounts: list[dict[str, Any]]
    audit_events: list[dict[str, Any]]


@dataclass
class UserErased:
    user_id: str
    erased: bool
    sessions_ended: int
    api_keys_revoked: int


ROUTES: dict[str, Op] = {
    "GET authtuna_account.export_data": PAGE,
    "POST authtuna_account.export_data": answers(DataExport, request=NoInput),
    "POST authtuna_admin.user_export": answers(DataExport, request=NoInput),
    "GET authtuna_admin.user_erase": PAGE,
    "POST authtuna_admin.user_erase": answers(UserErased, request=NoInput),
}

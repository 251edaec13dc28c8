"""Every table of quart-authtuna, one family per module."""

from __future__ import annotations

from .api_keys import ApiKey, ApiKeyScope
from .audit import AuditEvent
from .auth_state import AuthChallenge, ThrottleCounter
from .mfa import MFAMethod, MFARecoveryCode
from .orgs import Invitation, Organization, Team
from .outbox import OutboxMail
from .passkeys import PasskeyCredential
from .privacy import DeletedUser, EncryptionKey
from .rbac import (
    Permission,
    Role,
    RoleAssignPermission,
    RoleGrantPermission,
    RolePermission,
    UserRole,
)
from .sessions import UserSession
from .social import SocialAccount
from .tokens import PendingSignup, Token
from .users import User

__all__ = [
    "ApiKey",
    "ApiKeyScope",
    "AuditEvent",
    "AuthChallenge",
    "DeletedUser",
    "EncryptionKey",
    "MFAMethod",
    "MFARecoveryCode",
    "Invitation",
    "Organization",
    "OutboxMail",
    "PasskeyCredential",
    "PendingSignup",
    "Permission",
    "Role",
    "RoleAssignPermission",
    "RoleGrantPermission",
    "RolePermission",
    "SocialAccount",
    "Team",
    "ThrottleCounter",
    "Token",
    "User",
    "UserRole",
    "UserSession",
]

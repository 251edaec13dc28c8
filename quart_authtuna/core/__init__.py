"""The framework-agnostic async core: settings, models, services and RBAC. Never imports Quart."""

from __future__ import annotations

from . import signals
from .errors import (
    AccountExists,
    AccountSuspended,
    AuthenticationError,
    AuthorizationError,
    AuthTunaError,
    ConfigurationError,
    ConflictError,
    EmailNotVerified,
    EscalationDenied,
    IdentifierTaken,
    InputError,
    InvalidCredentials,
    MfaRequired,
    NotFound,
    PasswordRejected,
    PermissionDenied,
    RateLimited,
    ReauthenticationRequired,
    TokenAlreadyUsed,
    TokenError,
    TokenExpired,
    TokenInvalid,
    UsernameTaken,
)
from .rbac.grants import Grants
from .service import AuthService
from .settings import Settings
from .settings_values import Secret
from .theme import Theme
from .types import Clock, FieldError, RequestMeta

__all__ = [
    "AccountExists",
    "AccountSuspended",
    "AuthService",
    "AuthTunaError",
    "AuthenticationError",
    "AuthorizationError",
    "Clock",
    "ConfigurationError",
    "ConflictError",
    "EmailNotVerified",
    "EscalationDenied",
    "FieldError",
    "Grants",
    "IdentifierTaken",
    "InputError",
    "InvalidCredentials",
    "MfaRequired",
    "NotFound",
    "PasswordRejected",
    "PermissionDenied",
    "RateLimited",
    "ReauthenticationRequired",
    "RequestMeta",
    "Secret",
    "Settings",
    "Theme",
    "TokenAlreadyUsed",
    "TokenError",
    "TokenExpired",
    "TokenInvalid",
    "UsernameTaken",
    "signals",
]

"""quart-authtuna: authentication, sessions, MFA, passkeys and scoped RBAC for Quart.

The public API is loaded lazily, so ``import quart_authtuna.core`` never imports Quart.
"""

from __future__ import annotations

from importlib import import_module
from importlib.metadata import PackageNotFoundError, version
from typing import TYPE_CHECKING, Any

try:
    __version__ = version("quart-authtuna")
except PackageNotFoundError:  # running from a source tree that is not installed
    __version__ = "0.1.0"

if TYPE_CHECKING:
    from .decorators import (
        fresh_login_required,
        login_required,
        permission_required,
        role_required,
    )
    from .extension import AuthTuna
    from .globals import AnonymousUser, AuthenticatedUser, current_user
    from .web.errors import Forbidden, Unauthorized

_EXPORTS = {
    "AnonymousUser": "globals",
    "AuthTuna": "extension",
    "AuthenticatedUser": "globals",
    "Forbidden": "web.errors",
    "Unauthorized": "web.errors",
    "current_user": "globals",
    "fresh_login_required": "decorators",
    "login_required": "decorators",
    "permission_required": "decorators",
    "role_required": "decorators",
}

__all__ = [
    "AnonymousUser",
    "AuthTuna",
    "AuthenticatedUser",
    "Forbidden",
    "Unauthorized",
    "__version__",
    "current_user",
    "fresh_login_required",
    "login_required",
    "permission_required",
    "role_required",
]


def __getattr__(name: str) -> Any:
    if name in _EXPORTS:
        return getattr(import_module(f".{_EXPORTS[name]}", __name__), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")

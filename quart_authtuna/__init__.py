"""quart-authtuna: authentication, sessions, MFA, passkeys and scoped RBAC for Quart."""

from __future__ import annotations

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("quart-authtuna")
except PackageNotFoundError:  # running from a source tree that is not installed
    __version__ = "0.1.0"

__all__ = ["__version__"]

"""The one way the web layer reaches this app's extension: its service and its settings."""

from __future__ import annotations

from quart import current_app

from ..core.service import AuthService
from ..core.settings import Settings


def service() -> AuthService:
    """This app's AuthService."""
    svc: AuthService = current_app.extensions["authtuna"].service
    return svc


def settings() -> Settings:
    """This app's resolved settings."""
    resolved: Settings = current_app.extensions["authtuna"].settings
    return resolved

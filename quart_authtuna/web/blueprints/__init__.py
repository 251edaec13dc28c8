"""One blueprint per area; thin views: parse, call a flow, respond."""

from __future__ import annotations

from quart import Quart

from ...core.settings import Settings


def register_blueprints(app: Quart, settings: Settings) -> None:
    """Mount the areas the settings switch on, each under its configurable prefix."""
    from .auth import auth

    app.register_blueprint(auth, url_prefix=settings.auth_prefix)
    if settings.mfa_enabled:
        from .mfa import mfa

        app.register_blueprint(mfa, url_prefix=settings.mfa_prefix)
    if settings.passkeys_enabled:
        from .passkeys import passkeys

        app.register_blueprint(passkeys, url_prefix=settings.passkeys_prefix)
    if settings.ui_enabled:
        from . import (  # noqa: F401 - the same
            ui_invitations,
            ui_orgs,
            ui_profile,  # noqa: F401 - its pages join the ui blueprint
            ui_teams,
        )
        from .ui import ui

        app.register_blueprint(ui, url_prefix=settings.ui_prefix)
        from .account_settings import account

        app.register_blueprint(account, url_prefix=f"{settings.ui_prefix}/settings")
    if settings.admin_routes_enabled:
        from .admin import admin

        app.register_blueprint(admin, url_prefix=settings.admin_prefix)

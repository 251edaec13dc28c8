"""One blueprint per area; thin views: parse, call a flow, respond."""

from __future__ import annotations

from quart import Quart

from ...core.settings import Settings


def register_blueprints(app: Quart, settings: Settings) -> None:
    """Mount the areas the settings switch on, each under its configurable prefix."""
    from .auth import auth

    app.register_blueprint(auth, url_prefix=settings.auth_prefix)
    from .sso import sso

    app.register_blueprint(sso, url_prefix=settings.auth_prefix)
    if settings.mfa_enabled:
        from .mfa import mfa

        app.register_blueprint(mfa, url_prefix=settings.mfa_prefix)
    if settings.passkeys_enabled:
        from .passkeys import passkeys

        app.register_blueprint(passkeys, url_prefix=settings.passkeys_prefix)
        from .passkey_signup import passkey_signup

        app.register_blueprint(passkey_signup, url_prefix=settings.passkeys_prefix)
    if settings.ui_enabled:
        from . import (  # noqa: F401 - their pages join the ui and account blueprints
            account_connections,
            ui_invitations,
            ui_orgs,
            ui_profile,
            ui_teams,
        )
        from .ui import ui

        app.register_blueprint(ui, url_prefix=settings.ui_prefix)
        from .account_settings import account

        app.register_blueprint(account, url_prefix=f"{settings.ui_prefix}/settings")
    if settings.admin_routes_enabled:
        from .admin import admin

        app.register_blueprint(admin, url_prefix=settings.admin_prefix)

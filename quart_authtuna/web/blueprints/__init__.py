"""One blueprint per area; thin views: parse, call a flow, respond."""

from __future__ import annotations

from quart import Quart

from ...core.settings import Settings


def register_blueprints(app: Quart, settings: Settings) -> None:
    """Mount the areas the settings switch on, each under its configurable prefix."""
    from .auth import auth

    app.register_blueprint(auth, url_prefix=settings.auth_prefix)

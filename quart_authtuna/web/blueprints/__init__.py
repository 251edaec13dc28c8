"""One blueprint per area; thin views: parse, call a flow, respond."""

from __future__ import annotations

from quart import Quart, Response, current_app

from ...core.settings import Settings
from .. import security_headers


async def _secure(response: Response) -> Response:
    return security_headers.apply(response, current_app.extensions["authtuna"].settings)


def register_blueprints(app: Quart, settings: Settings) -> None:
    """Mount the areas the settings switch on, each under its configurable prefix."""
    from .auth import auth

    auth.after_request(_secure)
    app.register_blueprint(auth, url_prefix=settings.auth_prefix)

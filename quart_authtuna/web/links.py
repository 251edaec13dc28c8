"""Email links from the app's own URL map, on API_BASE_URL (never the request's Host)."""

from __future__ import annotations

from quart import Quart

from ..core.links import Page, absolute


class UrlMapLinks:
    """Builds the pages the core names from the routes the blueprints registered."""

    ENDPOINTS: dict[str, str] = {
        "login": "authtuna_auth.login", "forgot_password": "authtuna_auth.forgot_password",
        "reset_password": "authtuna_auth.reset_password",
        "verify_email": "authtuna_auth.verify",
        "passwordless_login": "authtuna_auth.passwordless_login",
        "confirm_email_change": "authtuna_ui.confirm_email",
        "passkey_signup": "authtuna_passkey_signup.finish",
        "join_organization": "authtuna_ui.join_organization", "join_team": "authtuna_ui.join_team",
    }

    def __init__(self, app: Quart, base_url: str) -> None:
        self._app = app
        self._base = base_url

    def __call__(self, page: Page, **query: str) -> str:
        path = self._app.url_map.bind("").build(self.ENDPOINTS[page])
        return absolute(self._base, path, query)

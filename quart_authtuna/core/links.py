"""Links in emails: the core names the page, the web layer knows where it lives.

A :class:`LinkBuilder` turns a page name and query values into an absolute URL on
API_BASE_URL (never the request's Host). The Quart extension passes one built on
``url_for``; :class:`PrefixLinks` serves the core used on its own.
"""

from __future__ import annotations

from typing import Literal, Protocol
from urllib.parse import urlencode

from .settings import Settings

#: The pages an email can link to.
Page = Literal["login", "forgot_password", "reset_password", "verify_email",
               "passwordless_login", "confirm_email_change", "passkey_signup",
               "join_organization", "join_team"]


class LinkBuilder(Protocol):
    def __call__(self, page: Page, **query: str) -> str: ...


def absolute(base_url: str, path: str, query: dict[str, str]) -> str:
    """``path`` on ``base_url`` with ``query`` appended."""
    return base_url.rstrip("/") + path + (f"?{urlencode(query)}" if query else "")


class PrefixLinks:
    """Default paths under AUTH_PREFIX (UI_PREFIX for the user area's pages), for the core
    without the web layer."""

    PATHS: dict[str, str] = {
        "login": "/login", "forgot_password": "/forgot-password",
        "reset_password": "/reset-password", "verify_email": "/verify",
        "passwordless_login": "/passwordless/login",
    }
    PASSKEY_PATHS: dict[str, str] = {"passkey_signup": "/signup/finish"}
    UI_PATHS: dict[str, str] = {"confirm_email_change": "/profile/email/confirm",
                                "join_organization": "/organizations/join",
                                "join_team": "/teams/join"}

    def __init__(self, settings: Settings) -> None:
        self._base = settings.api_base_url
        self._prefix = settings.auth_prefix
        self._ui_prefix = settings.ui_prefix
        self._passkeys_prefix = settings.passkeys_prefix

    def __call__(self, page: Page, **query: str) -> str:
        if page in self.PASSKEY_PATHS:
            return absolute(self._base, self._passkeys_prefix + self.PASSKEY_PATHS[page],
                            query)
        if page in self.UI_PATHS:
            return absolute(self._base, self._ui_prefix + self.UI_PATHS[page], query)
        return absolute(self._base, self._prefix + self.PATHS[page], query)

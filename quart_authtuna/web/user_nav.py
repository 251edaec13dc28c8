"""The user area's navigation, shared by every signed-in page: one list, one line a page.

The dashboard layout renders :func:`entries` (as ``authtuna_user_nav()``); the entry whose
endpoint (or one of its ``also`` endpoints) is serving the request is marked
``aria-current="page"``. Entries whose endpoint is not registered are left out.
"""

from __future__ import annotations

from dataclasses import dataclass

from quart import request, url_for
from werkzeug.routing import BuildError


@dataclass(frozen=True, slots=True)
class NavEntry:
    label: str
    endpoint: str
    #: Other endpoints that belong to this entry's page (sub-pages, confirmations).
    also: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class NavLink:
    label: str
    href: str
    current: bool


#: The user area, in order. A connected-accounts entry joins once SSO exists.
USER_NAV: tuple[NavEntry, ...] = (
    NavEntry("Dashboard", "authtuna_ui.dashboard"),
    NavEntry("Profile", "authtuna_ui.profile", also=("authtuna_ui.confirm_email",)),
    NavEntry("Organizations", "authtuna_ui.organizations",
             also=("authtuna_ui.organization", "authtuna_ui.team")),
    NavEntry("Settings", "authtuna_ui.settings"),
)


def entries() -> list[NavLink]:
    """The links of :data:`USER_NAV` for this request."""
    here = request.endpoint or ""
    links = []
    for entry in USER_NAV:
        try:
            href = url_for(entry.endpoint)
        except BuildError:
            continue
        links.append(NavLink(entry.label, href, here == entry.endpoint or here in entry.also))
    return links

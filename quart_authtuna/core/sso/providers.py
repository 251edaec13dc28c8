"""The configured social sign-in providers: Google, GitHub and generic OpenID Connect ones.

Every endpoint is configuration (GOOGLE_DISCOVERY_URL, GITHUB_OAUTH_URL, GITHUB_API_URL,
OIDC_PROVIDERS), so tests and the demo point each provider at the local dev provider.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

from ..settings import Settings

WELL_KNOWN = "/.well-known/openid-configuration"


@dataclass(frozen=True, slots=True)
class Provider:
    """One provider. ``kind="oidc"`` reads endpoints from discovery and verifies id_tokens;
    ``kind="github"`` uses GitHub's OAuth endpoints and its ``/user`` API."""

    name: str
    display_name: str
    kind: Literal["oidc", "github"]
    client_id: str
    client_secret: str = field(repr=False)
    scopes: str
    redirect_uri: str | None = None
    icon: str = ""
    #: oidc: the discovery document, and the issuer it and every id_token must name.
    discovery_url: str = ""
    issuers: tuple[str, ...] = ()
    #: github: the OAuth base (``/authorize``, ``/access_token``) and the API base.
    oauth_url: str = ""
    api_url: str = ""


def _issuer_of(discovery_url: str) -> str:
    return discovery_url.removesuffix(WELL_KNOWN).rstrip("/")


def configured_providers(settings: Settings) -> dict[str, Provider]:
    """The providers whose client id is set, by name, in the order the login page shows."""
    found: dict[str, Provider] = {}
    if settings.google_client_id:
        issuer = _issuer_of(settings.google_discovery_url)
        # Google documents both spellings of its issuer in id_tokens.
        extra = ("accounts.google.com",) if issuer == "https://accounts.google.com" else ()
        secret = settings.google_client_secret
        found["google"] = Provider(
            "google", "Google", "oidc", settings.google_client_id,
            secret.reveal() if secret else "", "openid email profile",
            settings.google_redirect_uri, "google", settings.google_discovery_url,
            (issuer, *extra))
    if settings.github_client_id:
        secret = settings.github_client_secret
        found["github"] = Provider(
            "github", "GitHub", "github", settings.github_client_id,
            secret.reveal() if secret else "", "read:user user:email",
            settings.github_redirect_uri, "github",
            oauth_url=settings.github_oauth_url.rstrip("/"),
            api_url=settings.github_api_url.rstrip("/"))
    for p in settings.oidc_providers:
        found[p.name] = Provider(p.name, p.display_name, "oidc", p.client_id, p.client_secret,
                                 p.scopes, None, p.icon, p.discovery_url, (p.issuer,))
    return found

"""The OIDC_PROVIDERS setting: generic OpenID Connect providers, one JSON object each."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from typing import Any

#: Provider names appear in URLs (``/auth/<name>/login``) and in session methods.
NAME = re.compile(r"^[a-z0-9][a-z0-9_-]{0,19}$")
#: Names the sign-in area already uses for its own pages.
RESERVED = frozenset({"passwordless", "verify", "login", "logout", "signup", "sso"})


@dataclass(frozen=True, slots=True)
class OidcProviderSetting:
    """One generic provider; ``discovery_url`` defaults to the issuer's well-known document."""

    name: str
    issuer: str
    client_id: str
    client_secret: str = field(default="", repr=False)
    scopes: str = "openid email profile"
    display_name: str = ""
    icon: str = ""
    discovery_url: str = ""

    @classmethod
    def from_value(cls, value: Any) -> OidcProviderSetting:
        """From a mapping (config) or an instance; ValueError says what is wrong."""
        if isinstance(value, cls):
            return value
        if not isinstance(value, dict):
            raise ValueError("each OIDC provider must be a JSON object")
        known = {"name", "issuer", "client_id", "client_secret", "scopes", "display_name",
                 "icon", "discovery_url"}
        unknown = sorted(set(value) - known)
        if unknown:
            raise ValueError(f"unknown OIDC provider keys: {', '.join(unknown)}")
        name = str(value.get("name", ""))
        if not NAME.match(name) or name in RESERVED:
            raise ValueError(f"OIDC provider name {name!r} must be 1-20 of a-z 0-9 _ - and "
                             "not a sign-in page's name")
        issuer = str(value.get("issuer", "")).rstrip("/")
        if not issuer.startswith(("https://", "http://")) or not value.get("client_id"):
            raise ValueError(f"OIDC provider {name!r} needs an http(s) issuer and a client_id")
        scopes = value.get("scopes", "openid email profile")
        if isinstance(scopes, list):
            scopes = " ".join(str(s) for s in scopes)
        return cls(name=name, issuer=issuer, client_id=str(value["client_id"]),
                   client_secret=str(value.get("client_secret", "")), scopes=str(scopes),
                   display_name=str(value.get("display_name") or name.title()),
                   icon=str(value.get("icon", "")),
                   discovery_url=str(value.get("discovery_url") or
                                     f"{issuer}/.well-known/openid-configuration"))


def parse_providers(value: Any) -> tuple[OidcProviderSetting, ...]:
    """A JSON list (string) or a list of mappings; names must be unique."""
    if isinstance(value, str):
        value = json.loads(value) if value.strip() else []
    if isinstance(value, dict):
        value = [value]
    if not isinstance(value, list | tuple):
        raise ValueError("expected a JSON list of provider objects")
    found = tuple(OidcProviderSetting.from_value(v) for v in value)
    names = [p.name for p in found]
    if len(set(names)) != len(names):
        raise ValueError("OIDC provider names must be unique")
    return found

"""The OAuth 2 / OpenID Connect client side of social sign-in, over authlib's async client.

Authorization code with PKCE (S256) and, for OIDC, a ``nonce``; the id_token is verified
(:mod:`.id_token`). GitHub has no id_token: the identity is its ``/user`` and the primary
verified address of ``/user/emails``. Discovery and JWKS documents are kept per process for
an hour; a token signed by an unknown key refetches the JWKS once.
"""

from __future__ import annotations

from collections.abc import Awaitable
from dataclasses import dataclass, field
from typing import Any, TypeVar

import httpx2
from authlib.common.errors import AuthlibBaseError
from authlib.integrations.httpx_client import AsyncOAuth2Client

from ..errors import SocialSignInFailed
from ..types import Clock
from .id_token import IdTokenInvalid, UnknownKey, verify_id_token
from .providers import Provider

CACHE_SECONDS = 3600.0
T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class ProviderIdentity:
    """Who the provider says signed in; ``subject`` is the stable key, never the email."""

    provider: str
    subject: str
    email: str | None
    email_verified: bool
    name: str
    username_hint: str
    token: dict[str, Any] = field(repr=False, default_factory=dict)


@dataclass(frozen=True, slots=True)
class SocialClient:
    """Builds authorization URLs and turns a callback's code into a :class:`ProviderIdentity`.

    Arguments:
        timeout: seconds to wait for the provider (SSO_HTTP_TIMEOUT).
        clock: the time, for id_token checks and the document cache.
    """

    _timeout: float
    _clock: Clock
    _documents: dict[str, tuple[float, dict[str, Any]]] = field(default_factory=dict)

    def _client(self, provider: Provider, redirect_uri: str) -> AsyncOAuth2Client:
        return AsyncOAuth2Client(
            provider.client_id, provider.client_secret, scope=provider.scopes,
            redirect_uri=redirect_uri, code_challenge_method="S256",
            token_endpoint_auth_method="client_secret_post", timeout=self._timeout)

    async def authorization_url(self, provider: Provider, redirect_uri: str, *, state: str,
                                nonce: str, verifier: str) -> str:
        """Where to send the browser (needs the discovery document for OIDC providers)."""
        if provider.kind == "github":
            endpoint, extra = f"{provider.oauth_url}/authorize", {"allow_signup": "true"}
        else:
            metadata = await self._guard(provider, self._metadata(provider))
            endpoint, extra = str(metadata["authorization_endpoint"]), {"nonce": nonce}
        async with self._client(provider, redirect_uri) as client:
            url, _ = client.create_authorization_url(endpoint, state=state,
                                                     code_verifier=verifier, **extra)
        return str(url)

    async def identity(self, provider: Provider, redirect_uri: str, *, code: str,
                       verifier: str, nonce: str) -> ProviderIdentity:
        """Exchange ``code`` (with the PKCE verifier) and verify who signed in."""
        if provider.kind == "github":
            return await self._guard(provider, self._github(provider, redirect_uri, code,
                                                            verifier))
        return await self._guard(provider, self._oidc(provider, redirect_uri, code, verifier,
                                                      nonce))

    async def _guard(self, provider: Provider, work: Awaitable[T]) -> T:
        """Transport and format failures become SocialSignInFailed (a page, never a 500)."""
        name = provider.display_name
        try:
            return await work
        except httpx2.TimeoutException as exc:
            raise SocialSignInFailed("provider_unavailable",
                                     f"{name} did not answer in time. Please try again.") from exc
        except httpx2.HTTPError as exc:
            raise SocialSignInFailed("provider_unavailable",
                                     f"{name} could not be reached. Please try again.") from exc
        except AuthlibBaseError as exc:
            raise SocialSignInFailed("provider_error",
                                     f"{name} refused the sign-in. Please try again.") from exc
        except (ValueError, KeyError, TypeError) as exc:
            raise SocialSignInFailed("provider_response_invalid",
                                     f"{name} sent an answer we could not read.") from exc

    async def _document(self, url: str, *, refresh: bool = False) -> dict[str, Any]:
        now = self._clock()
        kept = self._documents.get(url)
        if kept is not None and not refresh and now - kept[0] < CACHE_SECONDS:
            return kept[1]
        async with httpx2.AsyncClient(timeout=self._timeout) as client:
            response = await client.get(url, headers={"Accept": "application/json"})
            response.raise_for_status()
            body = response.json()
        if not isinstance(body, dict):
            raise ValueError(f"{url} is not a JSON object")
        self._documents[url] = (now, body)
        return body

    async def _metadata(self, provider: Provider) -> dict[str, Any]:
        metadata = await self._document(provider.discovery_url)
        if metadata.get("issuer") not in provider.issuers:  # OIDC Discovery 4.3
            raise ValueError("the discovery document names another issuer")
        for key in ("authorization_endpoint", "token_endpoint", "jwks_uri"):
            if not isinstance(metadata.get(key), str):
                raise ValueError(f"the discovery document has no {key}")
        return metadata

    async def _oidc(self, provider: Provider, redirect_uri: str, code: str, verifier: str,
                    nonce: str) -> ProviderIdentity:
        metadata = await self._metadata(provider)
        async with self._client(provider, redirect_uri) as client:
            token = await client.fetch_token(metadata["token_endpoint"], code=code,
                                             code_verifier=verifier)
            raw = token.get("id_token")
            if not isinstance(raw, str):
                raise SocialSignInFailed("token_invalid", _UNVERIFIED)
            claims = await self._claims(provider, metadata, raw, nonce)
            info: dict[str, Any] = {}
            if metadata.get("userinfo_endpoint") and "email" not in claims:
                response = await client.get(metadata["userinfo_endpoint"])
                response.raise_for_status()
                info = response.json()
                if not isinstance(info, dict) or info.get("sub") != claims["sub"]:
                    raise ValueError("userinfo is not about the id_token's subject")
        merged = {**info, **claims}
        email = merged.get("email")
        return ProviderIdentity(
            provider.name, str(claims["sub"]), email if isinstance(email, str) else None,
            merged.get("email_verified") is True or merged.get("email_verified") == "true",
            str(merged.get("name") or ""), str(merged.get("preferred_username") or ""),
            dict(token))

    async def _claims(self, provider: Provider, metadata: dict[str, Any], raw: str,
                      nonce: str) -> dict[str, Any]:
        def check(jwks: dict[str, Any]) -> dict[str, Any]:
            return verify_id_token(raw, jwks, issuers=provider.issuers,
                                   client_id=provider.client_id, nonce=nonce, now=self._clock())

        try:
            try:
                return check(await self._document(metadata["jwks_uri"]))
            except UnknownKey:  # the provider rotated its keys since we fetched them
                return check(await self._document(metadata["jwks_uri"], refresh=True))
        except (IdTokenInvalid, UnknownKey) as exc:
            raise SocialSignInFailed("token_invalid", _UNVERIFIED) from exc

    async def _github(self, provider: Provider, redirect_uri: str, code: str,
                      verifier: str) -> ProviderIdentity:
        async with self._client(provider, redirect_uri) as client:
            token = await client.fetch_token(f"{provider.oauth_url}/access_token", code=code,
                                             code_verifier=verifier)
            headers = {"Accept": "application/vnd.github+json"}
            user = (await client.get(f"{provider.api_url}/user", headers=headers))
            user.raise_for_status()
            profile = user.json()
            listed = await client.get(f"{provider.api_url}/user/emails", headers=headers)
            listed.raise_for_status()
            emails = listed.json()
        if not isinstance(profile, dict) or not isinstance(emails, list):
            raise ValueError("GitHub's /user or /user/emails has the wrong shape")
        primary = [e for e in emails if isinstance(e, dict) and e.get("primary") is True]
        chosen = primary[0] if primary else {}
        email = chosen.get("email")
        return ProviderIdentity(
            provider.name, str(profile["id"]), email if isinstance(email, str) else None,
            chosen.get("verified") is True, str(profile.get("name") or ""),
            str(profile.get("login") or ""), dict(token))


_UNVERIFIED = "The provider's answer could not be verified. Please try again."

"""A user's own API keys: what they may carry, issue one (shown once), list, revoke."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from ..db.models import ApiKey
from ..managers.api_keys import DEFAULT_VALID_SECONDS, ApiKeyManager, IssuedApiKey
from ..settings import Settings
from ..types import RequestMeta
from .results import ApiKeyRevoked


@dataclass(frozen=True, slots=True)
class ScopeChoice:
    """A role the user holds at a scope, with the permissions a key carrying it would get."""

    role_name: str
    scope: str
    permissions: tuple[str, ...]

    @property
    def display(self) -> str:
        """The value a key request names (``Role:scope``)."""
        return f"{self.role_name}:{self.scope}"


@dataclass(frozen=True, slots=True)
class ApiKeys:
    """Key types may be named as upstream does (secret, public, master, test) or by their
    prefixes (sk, pk, mk by default)."""

    _settings: Settings
    _keys: ApiKeyManager

    async def available_scopes(self, user_id: str) -> list[ScopeChoice]:
        return [ScopeChoice(role, scope, perms)
                for role, scope, perms in await self._keys.available_scopes(user_id)]

    async def list(self, user_id: str) -> Sequence[ApiKey]:
        return await self._keys.get_all_keys_for_user(user_id)

    async def create(self, user_id: str, name: str, key_type: str, scopes: Iterable[str],
                     valid_seconds: float | None, meta: RequestMeta, *,
                     by_api_key: bool = False) -> IssuedApiKey:
        """Issue a key; its plaintext is in the result and nowhere else, ever."""
        return await self._keys.create_key(
            user_id, name, self._key_type(key_type), list(scopes),
            DEFAULT_VALID_SECONDS if valid_seconds is None else valid_seconds,
            creator_session_is_api_key=by_api_key, ip_address=meta.ip_address)

    async def revoke(self, user_id: str, key_id: str, meta: RequestMeta) -> ApiKeyRevoked:
        """Revoke one of the user's keys (refused at once); another user's key: NotFound."""
        await self._keys.delete_key(key_id, user_id, ip_address=meta.ip_address)
        return ApiKeyRevoked(key_id)

    def _key_type(self, key_type: str) -> str:
        s = self._settings
        aliases = {s.api_key_prefix_secret: "secret", s.api_key_prefix_publishable: "public",
                   s.api_key_prefix_master: "master"}
        wanted = (key_type or "").strip().lower()
        return aliases.get(wanted, wanted)

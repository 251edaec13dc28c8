"""A user's own API keys: what they may carry, issue one (shown once, with a notice mailed to
the account holder), list, revoke."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncSession

from ..db.models import ApiKey
from ..db.unit_of_work import UnitOfWork
from ..i18n import N_, format_datetime, gettext
from ..mail import Mailer
from ..managers.api_key_cache import PUBLIC
from ..managers.api_keys import (
    DEFAULT_VALID_SECONDS,
    MASTER,
    SECRET,
    TEST,
    ApiKeyManager,
    IssuedApiKey,
)
from ..managers.users import UserManager
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
    _users: UserManager
    _mail: Mailer
    _db: UnitOfWork

    async def available_scopes(self, user_id: str) -> list[ScopeChoice]:
        return [ScopeChoice(role, scope, perms)
                for role, scope, perms in await self._keys.available_scopes(user_id)]

    async def list(self, user_id: str) -> Sequence[ApiKey]:
        return await self._keys.get_all_keys_for_user(user_id)

    async def create(self, user_id: str, name: str, key_type: str, scopes: Iterable[str],
                     valid_seconds: float | None, meta: RequestMeta, *,
                     by_api_key: bool = False) -> IssuedApiKey:
        """Issue a key and mail the account holder a notice (what, when, from where; never
        the key); its plaintext is in the result and nowhere else, ever."""
        async with self._db.transaction() as tx:  # the key, its audit row and its notice
            issued = await self._keys.create_key(
                user_id, name, self._key_type(key_type), list(scopes),
                DEFAULT_VALID_SECONDS if valid_seconds is None else valid_seconds,
                creator_session_is_api_key=by_api_key, ip_address=meta.ip_address, session=tx)
            await self._notify(tx, user_id, issued, meta)
        return issued

    async def _notify(self, tx: AsyncSession, user_id: str, issued: IssuedApiKey,
                      meta: RequestMeta) -> None:
        user = await self._users.get_by_id(user_id, tx)
        if user is None:
            return
        row, kind = issued.row, issued.row.key_type
        scopes = (", ".join(issued.scopes) if issued.scopes
                  else "All of your roles" if kind == MASTER
                  else "None (publishable)" if kind == PUBLIC else "None")
        await self._mail.enqueue(
            "api_key_created", user.email, session=tx, username=user.username,
            key_name=row.name, key_type=gettext(_KIND_LABELS.get(kind, kind)), scopes=scopes,
            created_at=_when(row.created_at),
            expires_at=_when(row.expires_at) if row.expires_at is not None else gettext("Never"),
            device=meta.device, region=meta.region, ip_address=meta.ip_address or "Unknown",
            secure_url=self._mail.link("forgot_password"))

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


_KIND_LABELS = {SECRET: N_("Secret key"), PUBLIC: N_("Publishable key"),
                MASTER: N_("Master key (acts with all of your roles)"), TEST: N_("Test key")}


def _when(timestamp: float) -> str:
    return format_datetime(timestamp)

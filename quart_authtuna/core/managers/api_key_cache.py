"""In-process cache of validated API keys (by HMAC digest) and the last_used_at throttle."""

from __future__ import annotations

from collections import OrderedDict
from dataclasses import dataclass

from ..rbac.grants import Grants

CACHE_SIZE = 10_000
PUBLIC = "PUBLIC"


@dataclass(frozen=True, slots=True)
class ApiKeyPrincipal:
    """Who a valid key speaks for, and the grants it carries (never more than the user's)."""

    key_id: str
    user_id: str
    key_type: str
    grants: Grants
    expires_at: float | None
    name: str = ""
    username: str = ""
    email: str = ""
    email_verified: bool = False
    mfa_enabled: bool = False

    @property
    def is_publishable(self) -> bool:
        return self.key_type == PUBLIC


class PrincipalCache:
    """Validated principals keyed by the key's HMAC digest, indexed by key id and user id.

    ``generation`` grows on every drop, so a validation that raced a revocation is not cached.
    """

    def __init__(self) -> None:
        self._entries: OrderedDict[str, tuple[float, ApiKeyPrincipal]] = OrderedDict()
        self._by_key: dict[str, str] = {}
        self._by_user: dict[str, set[str]] = {}
        self.generation = 0

    def __len__(self) -> int:
        return len(self._entries)

    def get(self, digest: str, now: float, ttl: float) -> ApiKeyPrincipal | None:
        """The principal if cached less than ``ttl`` seconds ago and not expired."""
        hit = self._entries.get(digest)
        if hit is None:
            return None
        cached_at, principal = hit
        expired = principal.expires_at is not None and now >= principal.expires_at
        if expired or now - cached_at >= ttl:
            self._remove(digest)
            return None
        return principal

    def put(self, digest: str, principal: ApiKeyPrincipal, now: float) -> None:
        self._remove(digest)
        self._entries[digest] = (now, principal)
        self._by_key[principal.key_id] = digest
        self._by_user.setdefault(principal.user_id, set()).add(digest)
        while len(self._entries) > CACHE_SIZE:
            self._remove(next(iter(self._entries)))

    def drop_key(self, key_id: str) -> None:
        self.generation += 1
        digest = self._by_key.get(key_id)
        if digest is not None:
            self._remove(digest)

    def drop_users(self, user_ids: frozenset[str] | None) -> None:
        """Forget the keys of these users, or of everyone when ``None``."""
        self.generation += 1
        if user_ids is None:
            self.clear()
            return
        for user_id in user_ids:
            for digest in list(self._by_user.get(user_id, ())):
                self._remove(digest)

    def clear(self) -> None:
        self.generation += 1
        self._entries.clear()
        self._by_key.clear()
        self._by_user.clear()

    def _remove(self, digest: str) -> None:
        hit = self._entries.pop(digest, None)
        if hit is None:
            return
        principal = hit[1]
        if self._by_key.get(principal.key_id) == digest:
            del self._by_key[principal.key_id]
        digests = self._by_user.get(principal.user_id)
        if digests is not None:
            digests.discard(digest)
            if not digests:
                del self._by_user[principal.user_id]


class WriteThrottle:
    """Remembers when each key's ``last_used_at`` was last written, to write once a minute."""

    INTERVAL = 60.0

    def __init__(self) -> None:
        self._written: OrderedDict[str, float] = OrderedDict()

    def seed(self, key_id: str, written_at: float) -> None:
        """Record a write seen in the database (by this or another process)."""
        if written_at > self._written.get(key_id, float("-inf")):
            self._set(key_id, written_at)

    def due(self, key_id: str, now: float) -> bool:
        """True (and claimed, so concurrent callers skip) when a write is due."""
        if now - self._written.get(key_id, float("-inf")) < self.INTERVAL:
            return False
        self._set(key_id, now)
        return True

    def _set(self, key_id: str, at: float) -> None:
        self._written[key_id] = at
        self._written.move_to_end(key_id)
        while len(self._written) > CACHE_SIZE:
            self._written.popitem(last=False)

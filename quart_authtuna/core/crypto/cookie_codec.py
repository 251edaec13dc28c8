"""The session cookie: a signed JWT whose only claim is a Fernet-encrypted payload."""

from __future__ import annotations

import hashlib
import json
import sys
from collections import OrderedDict
from typing import Any

import jwt

from ..settings import Settings
from .fernet import Encryptor


class CookieCodec:
    """Encode and decode session cookies; signing keys rotate through a fallback list.

    New cookies are signed with JWT_SECRET_KEY; JWT_FALLBACK_SECRET_KEYS still verify. Only
    the configured HMAC algorithm is accepted (never ``none``). Decoded cookies are memoised
    by a BLAKE2b-256 digest of their exact value (32 bytes, not the ~450-character cookie),
    so a cookie seen again skips signature and decryption work.
    """

    def __init__(self, settings: Settings, encryptor: Encryptor) -> None:
        assert settings.jwt_secret_key is not None
        self._keys = [settings.jwt_secret_key.reveal()] + [
            k.reveal() for k in settings.jwt_fallback_secret_keys]
        self._algorithm = settings.algorithm.upper()
        self._encryptor = encryptor
        self._memo: OrderedDict[bytes, dict[str, Any]] = OrderedDict()
        #: As many cookies as cached sessions (SESSION_CACHE_SIZE): a miss costs a full
        #: signature check and decryption.
        self._memo_size = settings.session_cache_size

    def encode(self, claims: dict[str, Any], expires_at: float) -> str:
        """A cookie value for ``claims``; it stops verifying at ``expires_at``."""
        inner = self._encryptor.encrypt(json.dumps(claims, separators=(",", ":")))
        token = jwt.encode({"session": inner, "exp": int(expires_at)}, self._keys[0],
                           algorithm=self._algorithm)
        return token

    def decode(self, value: str, now: float) -> dict[str, Any] | None:
        """The claims of a valid, unexpired cookie; None for anything else."""
        if len(value) > 4096:
            return None
        key = hashlib.blake2b(value.encode(), digest_size=32).digest()
        cached = self._memo.get(key)
        if cached is not None:
            if cached["_exp"] > now:
                return cached
            self._memo.pop(key, None)
            return None
        claims = self._decode(value, now)
        if claims is not None:
            if isinstance(claims.get("uid"), str):  # one string per user, not per cookie
                claims["uid"] = sys.intern(claims["uid"])
            self._memo[key] = claims
            if len(self._memo) > self._memo_size:
                self._memo.popitem(last=False)
        return claims

    def _decode(self, value: str, now: float) -> dict[str, Any] | None:
        for key in self._keys:
            try:
                outer = jwt.decode(value, key, algorithms=[self._algorithm],
                                   options={"require": ["exp", "session"], "verify_exp": False})
            except jwt.InvalidTokenError:
                continue
            if not isinstance(outer.get("session"), str) or outer["exp"] <= now:
                return None
            try:
                claims = json.loads(self._encryptor.decrypt(outer["session"]))
            except ValueError:
                return None
            if not isinstance(claims, dict):
                return None
            claims["_exp"] = float(outer["exp"])
            return claims
        return None

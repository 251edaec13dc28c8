"""Random secrets and their one-way digests (tokens, session ids, codes)."""

from __future__ import annotations

import hashlib
import hmac
import secrets
import string

_ALPHANUMERIC = string.ascii_letters + string.digits


def random_token(nbytes: int = 32) -> str:
    """A URL-safe secret with ``nbytes`` of CSPRNG entropy (256 bits by default)."""
    return secrets.token_urlsafe(nbytes)


def random_alphanumeric(length: int) -> str:
    """``length`` characters from [A-Za-z0-9], from the CSPRNG."""
    return "".join(secrets.choice(_ALPHANUMERIC) for _ in range(length))


def digest(secret: str) -> str:
    """SHA-256 hex of a high-entropy secret: what the database stores instead of it."""
    return hashlib.sha256(secret.encode("utf-8")).hexdigest()


def keyed_digest(key: bytes, value: str) -> str:
    """HMAC-SHA256 hex of ``value`` under ``key`` (for low-entropy values such as codes)."""
    return hmac.new(key, value.encode("utf-8"), hashlib.sha256).hexdigest()


def equals(a: str, b: str) -> bool:
    """Constant-time comparison of two strings."""
    return hmac.compare_digest(a.encode("utf-8"), b.encode("utf-8"))

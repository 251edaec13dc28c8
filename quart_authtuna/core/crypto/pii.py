"""PII mode: per-user data keys (crypto-shredding) and keyed HMAC indexes for lookups.

With ``PII_ENCRYPTION_ENABLED`` each user gets a random Fernet data key, stored wrapped by
``FERNET_KEYS`` (first key wraps, all unwrap: rotation keeps old data readable). The email is
stored sealed with that key; ``users.email_canonical`` holds ``HMAC(PII_HMAC_KEY, canonical
email)`` so login by email, uniqueness and exact search still work. Shredding the wrapped key
makes every copy of the sealed data unreadable. With ``ENCRYPT_AUDIT_IP`` audit addresses are
sealed with ``FERNET_KEYS`` (they are scrubbed from the user's rows when the user is erased).
"""

from __future__ import annotations

import hashlib
import hmac

from cryptography.fernet import Fernet, InvalidToken

from ..settings import Settings
from .fernet import Encryptor

#: What a shredded key row holds instead of the wrapped key.
SHREDDED = "shredded"
_INDEX_PREFIX = "h:"


class PiiCipher:
    """Seals and opens personal data; ``enabled`` is False outside PII mode."""

    def __init__(self, settings: Settings, wrapper: Encryptor) -> None:
        self.enabled = settings.pii_encryption_enabled
        self.seal_audit_ip = self.enabled and settings.encrypt_audit_ip
        secret = settings.pii_hmac_key or settings.password_pepper
        if self.enabled and secret is None:
            raise ValueError("PII mode needs AUTHTUNA_PII_HMAC_KEY (or a PASSWORD_PEPPER)")
        self._secret = secret.reveal().encode() if secret else b""
        self._wrapper = wrapper

    def index(self, canonical: str) -> str:
        """The stored lookup value of a canonical email (idempotent on an index)."""
        if canonical.startswith(_INDEX_PREFIX):
            return canonical
        mac = hmac.new(self._secret, canonical.encode("utf-8"), hashlib.sha256)
        return _INDEX_PREFIX + mac.hexdigest()

    def new_key(self) -> tuple[str, Fernet]:
        """A fresh data key: (wrapped form to store, the key)."""
        raw = Fernet.generate_key()
        return self._wrapper.encrypt(raw.decode("ascii")), Fernet(raw)

    def open_key(self, wrapped: str | None) -> Fernet | None:
        """The data key, or None when it was shredded (or no configured key opens it)."""
        if not wrapped or wrapped == SHREDDED:
            return None
        try:
            return Fernet(self._wrapper.decrypt(wrapped).encode("ascii"))
        except ValueError:
            return None

    def rewrap(self, wrapped: str) -> str | None:
        """The data key wrapped under the first FERNET_KEY (None: shredded or unreadable)."""
        if wrapped == SHREDDED:
            return None
        try:
            return self._wrapper.rotate(wrapped)
        except ValueError:
            return None

    @staticmethod
    def seal(key: Fernet, text: str) -> bytes:
        return key.encrypt(text.encode("utf-8"))

    @staticmethod
    def open(key: Fernet | None, blob: bytes | None) -> str | None:
        if key is None or blob is None:
            return None
        try:
            return key.decrypt(blob).decode("utf-8")
        except InvalidToken:
            return None

    def seal_ip(self, ip_address: str) -> bytes:
        return self._wrapper.encrypt(ip_address).encode("ascii")

    def open_ip(self, blob: bytes | None) -> str | None:
        if blob is None:
            return None
        try:
            return self._wrapper.decrypt(bytes(blob).decode("ascii"))
        except ValueError:
            return None

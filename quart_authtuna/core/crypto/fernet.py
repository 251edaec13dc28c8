"""Encryption at rest with MultiFernet over FERNET_KEYS (first key encrypts, all decrypt)."""

from __future__ import annotations

from cryptography.fernet import Fernet, InvalidToken, MultiFernet

from ..settings import Settings


class Encryptor:
    """Encrypts and decrypts short strings such as TOTP secrets and provider tokens."""

    def __init__(self, settings: Settings) -> None:
        if not settings.fernet_keys:
            raise ValueError("fernet_keys is required")
        keys = [Fernet(k.reveal().encode()) for k in settings.fernet_keys]
        self._first = keys[0]
        self._fernet = MultiFernet(keys)

    def encrypt(self, plaintext: str) -> str:
        return self._fernet.encrypt(plaintext.encode("utf-8")).decode("ascii")

    def decrypt(self, token: str, ttl: int | None = None) -> str:
        """Plaintext, or ValueError when no key opens the token (or it is older than ttl)."""
        try:
            return self._fernet.decrypt(token.encode("ascii"), ttl=ttl).decode("utf-8")
        except InvalidToken as exc:
            raise ValueError("cannot decrypt: wrong key or tampered data") from exc

    def rotate(self, token: str) -> str:
        """``token`` re-encrypted under the first key, unchanged when it already is
        (ValueError when no key opens it)."""
        try:
            self._first.decrypt(token.encode("ascii"))
            return token
        except InvalidToken:
            pass
        try:
            return self._fernet.rotate(token.encode("ascii")).decode("ascii")
        except InvalidToken as exc:
            raise ValueError("cannot decrypt: wrong key or tampered data") from exc

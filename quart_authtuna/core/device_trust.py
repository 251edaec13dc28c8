"""Trusted devices: a signed, long-lived token a browser earns by signing in (OWASP device cookie).

The token is a JWT signed with JWT_SECRET_KEY (JWT_FALLBACK_SECRET_KEYS still verify) holding
a random device id, the user id, an audience of its own (so it is never a session cookie) and
an expiry of DEVICE_TRUST_LIFETIME_SECONDS. It grants no access: it only exempts the device from
the account lockout for that user, with a ``dev:<id>`` limit of its own (see :mod:`.lockout`).
"""

from __future__ import annotations

import jwt

from .crypto.tokens import random_token
from .settings import Settings
from .types import Clock

AUDIENCE = "authtuna:device"
MAX_TOKEN_LENGTH = 2048


class DeviceTrust:
    """Issue and verify trusted-device tokens."""

    def __init__(self, settings: Settings, clock: Clock) -> None:
        assert settings.jwt_secret_key is not None
        self._keys = [settings.jwt_secret_key.reveal()] + [
            k.reveal() for k in settings.jwt_fallback_secret_keys]
        self._algorithm = settings.algorithm.upper()
        self._lifetime = settings.device_trust_lifetime_seconds
        self._clock = clock

    def issue(self, user_id: str, device_id: str | None = None) -> str:
        """A token for ``user_id`` on this device (a new device id unless one is renewed)."""
        now = int(self._clock())
        claims = {"aud": AUDIENCE, "sub": user_id, "dev": device_id or random_token(16),
                  "iat": now, "exp": now + self._lifetime}
        return jwt.encode(claims, self._keys[0], algorithm=self._algorithm)

    def verify(self, token: str | None, user_id: str | None) -> str | None:
        """The device id when ``token`` is valid, unexpired and issued to ``user_id``.

        Time claims are checked against the injected clock, not the wall clock.
        """
        if not token or not user_id or len(token) > MAX_TOKEN_LENGTH:
            return None
        for key in self._keys:
            try:
                claims = jwt.decode(token, key, algorithms=[self._algorithm], audience=AUDIENCE,
                                    options={"require": ["aud", "sub", "dev", "exp"],
                                             "verify_exp": False, "verify_iat": False,
                                             "verify_nbf": False})
            except jwt.InvalidTokenError:
                continue
            device = claims.get("dev")
            if (claims.get("sub") != user_id or not isinstance(device, str) or not device
                    or not isinstance(claims["exp"], int) or claims["exp"] <= self._clock()):
                return None
            return device
        return None

"""The software WebAuthn authenticator now ships as :mod:`quart_authtuna.testing.webauthn`;
this name stays so the suite's imports keep working (one copy, the package's)."""

from __future__ import annotations

from quart_authtuna.testing.webauthn import *  # noqa: F403
from quart_authtuna.testing.webauthn import __all__ as __all__

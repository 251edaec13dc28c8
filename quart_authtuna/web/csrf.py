"""CSRF for forms (signed double-submit bound to a cookie and the session) and JSON origins."""

from __future__ import annotations

import hmac
from typing import Any

from itsdangerous import BadSignature, URLSafeTimedSerializer
from quart import request
from wtforms import Field
from wtforms.csrf.core import CSRF
from wtforms.validators import ValidationError

from ..core.crypto.tokens import digest, random_token
from ..core.i18n import N_, gettext
from . import current
from .cookies import CSRF_COOKIE, cookie_name
from .request_state import request_state

MAX_AGE = 4 * 3600
EXPIRED = N_("This form has expired. Please reload the page and try again.")


def _serializer() -> URLSafeTimedSerializer:
    """Signs with ENCRYPTION_PRIMARY_KEY; ENCRYPTION_SECONDARY_KEYS still verify (rotation)."""
    settings = current.settings()
    keys = [k.reveal() for k in reversed(settings.encryption_secondary_keys)]
    primary = settings.encryption_primary_key
    assert primary is not None  # Settings.checked() fills it (ephemeral in development)
    keys.append(primary.reveal())  # itsdangerous signs with the last
    return URLSafeTimedSerializer(keys, salt="authtuna-csrf")


def _seed() -> str:
    """This browser's CSRF seed: from its cookie, or a new one to set on the response."""
    state = request_state()
    seed = state.csrf_seed or request.cookies.get(cookie_name(CSRF_COOKIE))
    if not seed or len(seed) > 128:
        seed = random_token(24)
        state.new_csrf_seed = seed
    state.csrf_seed = seed
    return seed


def browser_seed() -> str:
    """A stable random value for this browser (binds WebAuthn ceremonies to it)."""
    return _seed()


def _binding() -> dict[str, str]:
    return {"s": digest(_seed())[:32], "u": request_state().session_id or ""}


def generate_token() -> str:
    return str(_serializer().dumps(_binding()))


def token_is_valid(token: str | None) -> bool:
    if not token or len(token) > 512:
        return False
    try:
        data = _serializer().loads(token, max_age=MAX_AGE)
    except BadSignature:
        return False
    expected = _binding()
    return isinstance(data, dict) and all(
        hmac.compare_digest(str(data.get(k, "")), v) for k, v in expected.items())


class SignedCSRF(CSRF):
    """WTForms CSRF whose token is signed and bound to the browser cookie and session."""

    def generate_csrf_token(self, csrf_token_field: Field) -> str:
        return generate_token()

    def validate_csrf_token(self, form: Any, field: Field) -> None:
        if not token_is_valid(field.data):
            raise ValidationError(gettext(EXPIRED))


def same_origin(settings_base_url: str) -> bool:
    """A JSON call passes when Origin (or Sec-Fetch-Site) says it came from this site."""
    origin = request.headers.get("Origin")
    if origin:
        own = f"{request.scheme}://{request.host}"
        allowed = {own, settings_base_url.rstrip("/")}
        return origin.rstrip("/") in allowed
    fetch_site = request.headers.get("Sec-Fetch-Site")
    return fetch_site in (None, "same-origin", "none")

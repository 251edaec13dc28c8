"""Checks of an OpenID Connect id_token: signature from the JWKS (algorithm allow-list),
``iss``, ``aud`` (and ``azp``), ``exp``, ``iat`` and ``nonce`` (OIDC Core 3.1.3.7)."""

from __future__ import annotations

import hmac
from typing import Any

from joserfc import jwt
from joserfc.errors import InvalidKeyIdError, JoseError
from joserfc.jwk import KeySet

#: Asymmetric algorithms only: ``none`` and the HMAC family (keyed with the client secret)
#: are refused.
ALGORITHMS = ("RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384", "EdDSA")
#: Clock skew allowed on ``exp`` and ``iat``, in seconds.
LEEWAY = 120
#: An id_token issued longer ago than this is refused even if it has not expired.
MAX_AGE = 3600


class UnknownKey(Exception):
    """The token names a key the JWKS does not hold (refetch the JWKS once)."""


class IdTokenInvalid(Exception):
    """The id_token fails a check; the message says which (for the log, not the user)."""


def verify_id_token(token: str, jwks: dict[str, Any], *, issuers: tuple[str, ...],
                    client_id: str, nonce: str, now: float,
                    algorithms: tuple[str, ...] = ALGORITHMS) -> dict[str, Any]:
    """The verified claims, or IdTokenInvalid / UnknownKey."""
    try:
        keys = KeySet.import_key_set(jwks)  # type: ignore[arg-type]
        decoded = jwt.decode(token, keys, algorithms=list(algorithms))
    except InvalidKeyIdError as exc:
        raise UnknownKey(str(exc)) from exc
    except (JoseError, ValueError, TypeError, KeyError) as exc:
        raise IdTokenInvalid(f"signature: {exc}") from exc
    claims = dict(decoded.claims)
    if claims.get("iss") not in issuers:
        raise IdTokenInvalid("iss")
    audience = claims.get("aud")
    audiences = [audience] if isinstance(audience, str) else audience
    if not isinstance(audiences, list) or client_id not in audiences:
        raise IdTokenInvalid("aud")
    if len(audiences) > 1 and claims.get("azp") != client_id:
        raise IdTokenInvalid("azp")
    exp, iat = claims.get("exp"), claims.get("iat")
    if not isinstance(exp, int | float) or exp <= now - LEEWAY:
        raise IdTokenInvalid("exp")
    if not isinstance(iat, int | float) or iat > now + LEEWAY or iat < now - MAX_AGE:
        raise IdTokenInvalid("iat")
    got = claims.get("nonce")
    if not isinstance(got, str) or not hmac.compare_digest(got.encode(), nonce.encode()):
        raise IdTokenInvalid("nonce")
    if not isinstance(claims.get("sub"), str) or not claims["sub"]:
        raise IdTokenInvalid("sub")
    return claims

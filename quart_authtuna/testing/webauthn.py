"""A software WebAuthn authenticator: real P-256 keys, real CBOR, real ES256 signatures.

It answers the JSON options the app hands out (``/passkeys/...`` or
:class:`~quart_authtuna.core.managers.passkeys.PasskeyManager`) with the JSON a browser would
post back (py_webauthn's ``RegistrationResponseJSON`` and ``AuthenticationResponseJSON``
shapes), so tests go through the library's real verification, without a browser. Every input
a hostile or broken client controls can be overridden: origin, RP id, the UP/UV/BE/BS flags,
the sign count, the challenge, the client-data type and the user handle;
:meth:`SoftAuthenticator.replace_key` makes a credential sign with a key the server never
saw, and :func:`malformed_attestation` / :func:`with_field` corrupt a response.

>>> auth = SoftAuthenticator(origin="http://localhost")
>>> opts = await service.passkeys.registration_options(user, "browser-1")
>>> cred = await service.passkeys.register(user.id, auth.create(opts), "browser-1")
>>> opts = await service.passkeys.authentication_options("browser-1")
>>> login = await service.passkeys.authenticate(auth.get(opts), "browser-1")
"""

from __future__ import annotations

import copy
import hashlib
import json
import secrets
from dataclasses import dataclass
from typing import Any

import cbor2
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from webauthn.helpers import base64url_to_bytes, bytes_to_base64url

__all__ = [
    "AT",
    "BE",
    "BS",
    "ED",
    "ES256",
    "UP",
    "UV",
    "SoftAuthenticator",
    "SoftCredential",
    "authenticator_data",
    "b64",
    "client_data",
    "malformed_attestation",
    "with_field",
]

# authenticatorData flag bits (WebAuthn §6.1)
UP, UV, BE, BS, AT, ED = 0x01, 0x04, 0x08, 0x10, 0x40, 0x80
ES256 = -7


@dataclass
class SoftCredential:
    """One discoverable credential held by the authenticator."""

    id: bytes
    key: ec.EllipticCurvePrivateKey
    rp_id: str
    user_handle: bytes
    sign_count: int = 0

    def cose_public_key(self) -> bytes:
        """The public key as a COSE_Key map (EC2, P-256, ES256)."""
        numbers = self.key.public_key().public_numbers()
        return cbor2.dumps({1: 2, 3: ES256, -1: 1, -2: numbers.x.to_bytes(32, "big"),
                            -3: numbers.y.to_bytes(32, "big")})


def b64(data: bytes) -> str:
    """base64url without padding, as WebAuthn's JSON carries binary fields."""
    return bytes_to_base64url(data)


def authenticator_data(rp_id: str, flags: int, sign_count: int, attested: bytes = b"") -> bytes:
    """rpIdHash ‖ flags ‖ signCount (big-endian u32) ‖ attested credential data."""
    return (hashlib.sha256(rp_id.encode()).digest() + bytes([flags])
            + sign_count.to_bytes(4, "big") + attested)


def client_data(type_: str, challenge: str, origin: str) -> bytes:
    """A CollectedClientData JSON, serialised like a browser does."""
    return json.dumps({"type": type_, "challenge": challenge, "origin": origin,
                       "crossOrigin": False}, separators=(",", ":")).encode()


class SoftAuthenticator:
    """A platform authenticator in memory; ``credentials`` maps credential id to key.

    ``backup_eligible`` / ``backed_up`` set the BE / BS flags on everything it signs, ``aaguid``
    goes into the attested credential data, and ``transports`` into registration responses.
    """

    def __init__(self, rp_id: str = "localhost", origin: str = "http://localhost:8000",
                 aaguid: bytes = bytes(16), backup_eligible: bool = False,
                 backed_up: bool = False, transports: tuple[str, ...] = ("internal", "hybrid"),
                 ) -> None:
        if len(aaguid) != 16:
            raise ValueError("an AAGUID is 16 bytes")
        self.rp_id, self.origin, self.aaguid = rp_id, origin, aaguid
        self.backup_eligible, self.backed_up = backup_eligible, backed_up
        self.transports = list(transports)
        self.credentials: dict[bytes, SoftCredential] = {}
        self.last_created: SoftCredential | None = None

    def _flags(self, up: bool, uv: bool) -> int:
        return ((UP if up else 0) | (UV if uv else 0) | (BE if self.backup_eligible else 0)
                | (BS if self.backed_up else 0))

    # ---- navigator.credentials.create() ------------------------------------------------

    def create(self, options: dict[str, Any], *, origin: str | None = None,
               rp_id: str | None = None, uv: bool = True, up: bool = True,
               challenge: str | None = None, type_: str = "webauthn.create") -> dict[str, Any]:
        """Make a new credential for ``options`` and return the registration response JSON.

        The key is always made for the options' RP id; ``rp_id`` only changes the rpIdHash
        written into authenticatorData (what a confused or hostile authenticator would do).
        """
        cred = SoftCredential(
            id=secrets.token_bytes(32), key=ec.generate_private_key(ec.SECP256R1()),
            rp_id=options.get("rp", {}).get("id") or self.rp_id,
            user_handle=base64url_to_bytes(options["user"]["id"]))
        self.credentials[cred.id] = self.last_created = cred
        attested = (self.aaguid + len(cred.id).to_bytes(2, "big") + cred.id
                    + cred.cose_public_key())
        auth_data = authenticator_data(rp_id or cred.rp_id, self._flags(up, uv) | AT,
                                       cred.sign_count, attested)
        attestation = cbor2.dumps({"fmt": "none", "attStmt": {}, "authData": auth_data})
        cdata = client_data(type_, challenge or options["challenge"], origin or self.origin)
        return {
            "id": b64(cred.id), "rawId": b64(cred.id), "type": "public-key",
            "authenticatorAttachment": "platform", "clientExtensionResults": {},
            "response": {"clientDataJSON": b64(cdata), "attestationObject": b64(attestation),
                         "transports": list(self.transports)},
        }

    # ---- navigator.credentials.get() ---------------------------------------------------

    def get(self, options: dict[str, Any], credential_id: bytes | None = None, *,
            origin: str | None = None, rp_id: str | None = None, uv: bool = True,
            up: bool = True, sign_count: int | None = None, challenge: str | None = None,
            type_: str = "webauthn.get", user_handle: bytes | None = None) -> dict[str, Any]:
        """Sign an assertion for ``options`` and return the authentication response JSON.

        The credential is ``credential_id``, else the first of ``allowCredentials`` this
        authenticator holds, else the newest one (a discoverable sign-in). Without
        ``sign_count`` the credential's counter is incremented and used; a given count is
        used as it is and leaves the counter alone (a cloned key replaying an old value).
        """
        cred = self._pick(options, credential_id)
        if sign_count is None:
            cred.sign_count += 1
            sign_count = cred.sign_count
        auth_data = authenticator_data(rp_id or options.get("rpId") or cred.rp_id,
                                       self._flags(up, uv), sign_count)
        cdata = client_data(type_, challenge or options["challenge"], origin or self.origin)
        signature = cred.key.sign(auth_data + hashlib.sha256(cdata).digest(),
                                  ec.ECDSA(hashes.SHA256()))
        return {
            "id": b64(cred.id), "rawId": b64(cred.id), "type": "public-key",
            "authenticatorAttachment": "platform", "clientExtensionResults": {},
            "response": {"clientDataJSON": b64(cdata), "authenticatorData": b64(auth_data),
                         "signature": b64(signature),
                         "userHandle": b64(cred.user_handle if user_handle is None
                                           else user_handle)},
        }

    def _pick(self, options: dict[str, Any], credential_id: bytes | None) -> SoftCredential:
        if credential_id is not None:
            return self.credentials[credential_id]
        for allowed in options.get("allowCredentials") or []:
            found = self.credentials.get(base64url_to_bytes(allowed["id"]))
            if found is not None:
                return found
        if self.last_created is None:
            raise LookupError("this authenticator holds no credential")
        return self.last_created

    def replace_key(self, credential_id: bytes) -> None:
        """From now on sign for ``credential_id`` with a fresh key the server never saw."""
        self.credentials[credential_id].key = ec.generate_private_key(ec.SECP256R1())


# ---- corrupting responses ---------------------------------------------------------------

_MISSING = object()


def with_field(response: dict[str, Any], name: str, value: Any = _MISSING, *,
               top: bool = False) -> dict[str, Any]:
    """A deep copy of ``response`` with ``response[name]`` (or the top-level ``name`` when
    ``top``) replaced: bytes are base64url-encoded, other values are put as they are, and
    no value removes the field."""
    changed = copy.deepcopy(response)
    target = changed if top else changed["response"]
    if value is _MISSING:
        target.pop(name, None)
    else:
        target[name] = b64(value) if isinstance(value, bytes) else value
    return changed


def malformed_attestation(response: dict[str, Any], how: str = "truncated") -> dict[str, Any]:
    """A registration response whose attestationObject is broken CBOR.

    ``truncated`` cuts the CBOR in half, ``not_a_map`` is valid CBOR of the wrong type,
    ``array_key`` keeps the map but encodes the credential public key as a CBOR array, and
    ``bad_key_cbor`` puts undecodable bytes where the COSE key should be.
    """
    raw = base64url_to_bytes(response["response"]["attestationObject"])
    if how == "truncated":
        return with_field(response, "attestationObject", raw[: len(raw) // 2])
    if how == "not_a_map":
        return with_field(response, "attestationObject", cbor2.dumps([1, 2, 3]))
    parsed = cbor2.loads(raw)
    auth_data: bytes = parsed["authData"]
    id_len = int.from_bytes(auth_data[53:55], "big")
    head = auth_data[: 55 + id_len]
    if how == "array_key":
        parsed["authData"] = head + cbor2.dumps([0, 2])
    elif how == "bad_key_cbor":
        parsed["authData"] = head + b"\xa5\x01\x02\x03"
    else:
        raise ValueError(f"unknown corruption {how!r}")
    return with_field(response, "attestationObject", cbor2.dumps(parsed))

"""PasskeyManager: WebAuthn ceremonies with py_webauthn and server-side, single-use challenges.

A challenge lives in ``auth_challenges`` under the hash of its base64url value, bound to the
ceremony (register, login, mfa) and to the browser, for two minutes, and is consumed once.
Origins must equal one of WEBAUTHN_ORIGIN exactly (scheme, host, port); the RP id hash must
match WEBAUTHN_RP_ID. A sign count that does not grow flags the credential and is refused.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import and_, delete, literal, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from webauthn import (
    generate_authentication_options,
    generate_registration_options,
    options_to_json,
    verify_authentication_response,
    verify_registration_response,
)
from webauthn.helpers import base64url_to_bytes, bytes_to_base64url, parse_client_data_json
from webauthn.helpers.exceptions import WebAuthnException
from webauthn.helpers.structs import (
    AuthenticatorSelectionCriteria,
    AuthenticatorTransport,
    CredentialDeviceType,
    PublicKeyCredentialDescriptor,
    ResidentKeyRequirement,
    UserVerificationRequirement,
)
from webauthn.registration.verify_registration_response import VerifiedRegistration

from ..challenges import ChallengeStore
from ..db.models import AuthChallenge, PasskeyCredential, User
from ..db.unit_of_work import UnitOfWork, affected
from ..errors import InputError, InvalidCredentials, NotFound, TokenInvalid
from ..settings import Settings
from ..types import Clock, FieldError
from .audit import AuditManager

REGISTER, LOGIN, MFA = "webauthn_register", "webauthn_login", "webauthn_mfa"
#: A passkey-first sign-up's ceremony (no account yet); REAUTH confirms a signed-in user.
SIGNUP, REAUTH = "webauthn_signup", "webauthn_reauth"
CHALLENGE_TTL = 120.0


@dataclass(frozen=True, slots=True)
class PasskeyLogin:
    """A verified assertion: whose credential it was and whether the user was verified."""

    user: User
    credential: PasskeyCredential
    user_verified: bool


@dataclass(frozen=True, slots=True)
class PasskeyManager:
    """The ``passkey_credentials`` table and the WebAuthn ceremonies that verify its rows.

    The journeys (add with its mail, rename, remove) are :mod:`..flows.passkeys`.
    """

    _db: UnitOfWork
    _clock: Clock
    _settings: Settings
    _audit: AuditManager
    _challenges: ChallengeStore

    @property
    def _uv(self) -> UserVerificationRequirement:
        return UserVerificationRequirement(self._settings.webauthn_user_verification.lower())

    async def registration_options(self, user: User, binding: str) -> dict[str, Any]:
        """Options for ``navigator.credentials.create()`` (needs a fresh login upstream)."""
        existing = [c.id for c in await self.list(user.id)]
        return await self._creation_options(user.id, user.email, user.username, existing,
                                            REGISTER, binding, user.id)

    async def signup_options(self, user_id: str, email: str, username: str, binding: str,
                             signup: str) -> dict[str, Any]:
        """Options for an account that does not exist yet: ``user_id`` is the id it will get
        (the passkey's user handle) and ``signup`` names the pending sign-up; both ride on
        the challenge, which :meth:`verify_signup` gives back."""
        return await self._creation_options(user_id, email, username, [], SIGNUP, binding,
                                            None, {"user_id": user_id, "signup": signup})

    async def verify_registration(self, user_id: str, response: dict[str, Any] | str,
                                  binding: str) -> VerifiedRegistration:
        """Verify an attestation for the challenge issued to this user and browser."""
        challenge, _ = await self._consume(response, REGISTER, binding, user_id)
        return self._verified_attestation(response, challenge)

    async def verify_signup(self, response: dict[str, Any] | str, binding: str
                            ) -> tuple[VerifiedRegistration, dict[str, Any]]:
        """Verify a sign-up's attestation; the challenge's data (``user_id``, ``signup``)."""
        challenge, row = await self._consume(response, SIGNUP, binding, None)
        return self._verified_attestation(response, challenge), dict(row.data)

    async def _creation_options(self, user_id: str, email: str, username: str,
                                existing: list[bytes], ceremony: str, binding: str,
                                owner: str | None, data: dict[str, Any] | None = None
                                ) -> dict[str, Any]:
        s = self._settings
        options = generate_registration_options(
            rp_id=s.webauthn_rp_id, rp_name=s.webauthn_rp_name, user_name=email,
            user_id=user_id.encode(), user_display_name=username,
            timeout=int(CHALLENGE_TTL * 1000),
            authenticator_selection=AuthenticatorSelectionCriteria(
                resident_key=ResidentKeyRequirement.REQUIRED, user_verification=self._uv),
            exclude_credentials=[PublicKeyCredentialDescriptor(id=i) for i in existing])
        await self._remember(options.challenge, ceremony, owner, binding, data)
        options_json: dict[str, Any] = json.loads(options_to_json(options))
        return options_json

    def _verified_attestation(self, response: dict[str, Any] | str, challenge: bytes
                              ) -> VerifiedRegistration:
        s = self._settings
        try:
            return verify_registration_response(
                credential=response, expected_challenge=challenge, expected_rp_id=s.webauthn_rp_id,
                expected_origin=list(s.webauthn_origin),
                require_user_verification=self._uv == UserVerificationRequirement.REQUIRED)
        except (WebAuthnException, ValueError, LookupError, TypeError) as exc:
            raise InvalidCredentials(f"The passkey could not be verified: {exc}") from exc

    async def add(self, tx: AsyncSession, user_id: str, verified: VerifiedRegistration,
                  response: dict[str, Any] | str, nickname: str) -> PasskeyCredential:
        """Store a verified credential (refused if it is already registered)."""
        if await tx.get(PasskeyCredential, verified.credential_id) is not None:
            raise InputError(FieldError("passkey_exists", "That passkey is already "
                                        "registered.", None))
        row = PasskeyCredential(
            id=verified.credential_id, user_id=user_id, nickname=nickname[:100] or "Passkey",
            public_key=verified.credential_public_key, sign_count=verified.sign_count,
            aaguid=verified.aaguid, is_discoverable=True,
            is_backup_eligible=(
                verified.credential_device_type == CredentialDeviceType.MULTI_DEVICE),
            is_backed_up=verified.credential_backed_up, transports=_transports(response),
            created_at=self._clock())
        tx.add(row)
        return row

    async def authentication_options(self, binding: str, user_id: str | None = None,
                                     ceremony: str = LOGIN) -> dict[str, Any]:
        """Options for ``navigator.credentials.get()``: discoverable, or this user's keys."""
        allowed = [PublicKeyCredentialDescriptor(id=c.id) for c in await self.list(user_id)
                   ] if user_id else []
        options = generate_authentication_options(
            rp_id=self._settings.webauthn_rp_id, timeout=int(CHALLENGE_TTL * 1000),
            allow_credentials=allowed, user_verification=self._uv)
        await self._remember(options.challenge, ceremony, user_id, binding)
        options_json: dict[str, Any] = json.loads(options_to_json(options))
        return options_json

    async def authenticate(self, response: dict[str, Any] | str, binding: str,
                           ceremony: str = LOGIN, expected_user_id: str | None = None,
                           ip_address: str | None = None) -> PasskeyLogin:
        """Verify an assertion; the credential must belong to ``expected_user_id`` when set."""
        s = self._settings
        challenge, _ = await self._consume(response, ceremony, binding, expected_user_id)
        raw_id = _credential_id(response)
        async with self._db.transaction() as tx:
            cred = await tx.get(PasskeyCredential, raw_id)
            user = await tx.get(User, cred.user_id) if cred else None
        if cred is None or user is None or not user.is_active or cred.flagged_at is not None:
            raise InvalidCredentials("This passkey is not recognised.")
        if expected_user_id is not None and cred.user_id != expected_user_id:
            raise InvalidCredentials("This passkey belongs to a different account.")
        handle = _user_handle(response)
        if handle is not None and handle != cred.user_id.encode():
            raise InvalidCredentials("This passkey belongs to a different account.")
        try:
            verified = verify_authentication_response(
                credential=response, expected_challenge=challenge, expected_rp_id=s.webauthn_rp_id,
                expected_origin=list(s.webauthn_origin), credential_public_key=cred.public_key,
                credential_current_sign_count=0,
                require_user_verification=self._uv == UserVerificationRequirement.REQUIRED)
        except (WebAuthnException, ValueError, LookupError, TypeError) as exc:
            raise InvalidCredentials(f"The passkey could not be verified: {exc}") from exc
        now = self._clock()
        grows = or_(PasskeyCredential.sign_count < verified.new_sign_count,
                    and_(PasskeyCredential.sign_count == 0,
                         literal(verified.new_sign_count) == 0))
        async with self._db.transaction() as tx:
            moved = await tx.execute(update(PasskeyCredential).where(
                PasskeyCredential.id == raw_id, PasskeyCredential.flagged_at.is_(None), grows,
            ).values(sign_count=verified.new_sign_count, last_used_at=now,
                     is_backed_up=verified.credential_backed_up))
            if affected(moved):
                self._audit.record(tx, "PASSKEY_LOGIN", user_id=user.id,
                                       ip_address=ip_address, details={"ceremony": ceremony})
        if not affected(moved):  # the counter did not grow: a cloned authenticator?
            async with self._db.transaction() as tx:
                await tx.execute(update(PasskeyCredential).where(PasskeyCredential.id == raw_id)
                                 .values(flagged_at=now))
                self._audit.record(tx, "PASSKEY_CLONE_SUSPECTED", user_id=user.id,
                                       ip_address=ip_address)
            raise InvalidCredentials("This passkey reported a used counter and was blocked.")
        return PasskeyLogin(user, cred, verified.user_verified)

    async def list(self, user_id: str | None) -> Sequence[PasskeyCredential]:
        async with self._db.transaction() as tx:
            return (await tx.scalars(select(PasskeyCredential).where(
                PasskeyCredential.user_id == user_id).order_by(PasskeyCredential.created_at))).all()

    async def rename(self, tx: AsyncSession, user_id: str, credential_id: bytes,
                     nickname: str) -> None:
        nickname = nickname.strip()[:100]
        if not nickname:
            raise InputError(FieldError("invalid_nickname", "Enter a name.", "nickname"))
        done = await tx.execute(update(PasskeyCredential).where(
            PasskeyCredential.id == credential_id, PasskeyCredential.user_id == user_id,
        ).values(nickname=nickname))
        if not affected(done):
            raise NotFound("Passkey not found.")

    async def remove(self, tx: AsyncSession, user_id: str, credential_id: bytes) -> None:
        done = await tx.execute(delete(PasskeyCredential).where(
            PasskeyCredential.id == credential_id, PasskeyCredential.user_id == user_id))
        if not affected(done):
            raise NotFound("Passkey not found.")

    # ---- challenges ----------------------------------------------------------------------

    async def _remember(self, challenge: bytes, ceremony: str, user_id: str | None,
                        binding: str, data: dict[str, Any] | None = None) -> None:
        await self._challenges.create(ceremony, user_id=user_id, ttl=CHALLENGE_TTL,
                                      binding=binding, handle=bytes_to_base64url(challenge),
                                      data=data)

    async def _consume(self, response: dict[str, Any] | str, ceremony: str, binding: str,
                       user_id: str | None) -> tuple[bytes, AuthChallenge]:
        """The challenge this response answers, used up now (any mismatch: TokenInvalid)."""
        try:
            data = json.loads(response) if isinstance(response, str) else response
            client_data = parse_client_data_json(
                base64url_to_bytes(data["response"]["clientDataJSON"]))
        except (ValueError, KeyError, TypeError, WebAuthnException) as exc:
            raise InvalidCredentials("The passkey response is malformed.") from exc
        handle = bytes_to_base64url(client_data.challenge)
        row = await self._challenges.consume(handle, ceremony, binding=binding)
        if user_id is not None and row.user_id != user_id:
            raise TokenInvalid("This passkey challenge was issued to someone else.")
        return client_data.challenge, row


def _credential_id(response: dict[str, Any] | str) -> bytes:
    data = json.loads(response) if isinstance(response, str) else response
    try:
        return base64url_to_bytes(data["rawId"])
    except (KeyError, TypeError, ValueError) as exc:
        raise InvalidCredentials("The passkey response is malformed.") from exc


def _transports(response: dict[str, Any] | str) -> list[str]:
    data = json.loads(response) if isinstance(response, str) else response
    values = data.get("response", {}).get("transports")
    if not isinstance(values, list):
        return []
    known = {t.value for t in AuthenticatorTransport}
    return [t for t in values if isinstance(t, str) and t in known][:8]


def _user_handle(response: dict[str, Any] | str) -> bytes | None:
    """The assertion's userHandle, when the authenticator sent one."""
    data = json.loads(response) if isinstance(response, str) else response
    value = (data.get("response") or {}).get("userHandle") if isinstance(data, dict) else None
    if not value:
        return None
    try:
        return base64url_to_bytes(value)
    except (TypeError, ValueError) as exc:
        raise InvalidCredentials("The passkey response is malformed.") from exc

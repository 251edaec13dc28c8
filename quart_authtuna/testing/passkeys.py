"""A test user with a passkey: a software authenticator set up for the app, enrolled through
the library's real registration ceremony."""

from __future__ import annotations

import secrets
from typing import TYPE_CHECKING

from .client import AppLike, resolve_user, service_of
from .webauthn import SoftAuthenticator

if TYPE_CHECKING:
    from ..core.db.models import User


def authenticator_for(app: AppLike) -> SoftAuthenticator:
    """A :class:`SoftAuthenticator` for the app's relying party (its RP id and first origin,
    from WEBAUTHN_RP_ID / WEBAUTHN_ORIGIN or API_BASE_URL)."""
    settings = service_of(app).settings
    return SoftAuthenticator(rp_id=settings.webauthn_rp_id, origin=settings.webauthn_origin[0])


async def enrol_passkey(app: AppLike, user: User | str,
                        device: SoftAuthenticator | None = None, *,
                        nickname: str = "Test passkey") -> SoftAuthenticator:
    """Register a new passkey of ``device`` (by default a new :func:`authenticator_for` the
    app) for ``user``, as the passkey settings page would, and return the device: it then
    answers the app's sign-in options, e.g. ``device.get(options)``.

    The ceremony is the real one (options, attestation, verification, the stored
    credential, the ``passkey_added`` mail); only the browser is software.
    """
    service = service_of(app)
    account = await resolve_user(service, user)
    device = device or authenticator_for(app)
    binding = secrets.token_urlsafe(16)  # stands for the browser that asked for the options
    options = await service.passkeys.registration_options(account, binding)
    await service.passkeys.register(account.id, device.create(options), binding, nickname)
    return device

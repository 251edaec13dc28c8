"""Caps on account mail, and on requests for emailed tokens, so neither is a lever.

* ``admit_request(ip)``: reset, magic-link and verification *requests* are limited per
  requesting address (``ipreq:<ip>``, MAX_TOKEN_REQUESTS_PER_IP_PER_HOUR); past it the
  requester is told RateLimited (429). Nothing is counted against the account, so strangers
  cannot use up its owner's quota.
* ``allow(address, ip)``: each mail counts per canonical address (``mail:``, stored as a keyed
  digest, MAIL_MAX_PER_ADDRESS_PER_HOUR) and per requesting address (``mailip:``,
  MAIL_MAX_PER_IP_PER_HOUR), atomically, all or nothing. Past a cap the mail is silently not
  sent and the flow answers as usual, so the answer tells nothing about the address. A device
  trusted for the account (``device_id``) is counted on its own ``mail:dev:<id>`` key instead
  of the address, so strangers filling the address's cap do not silence its owner.
"""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from .crypto.tokens import keyed_digest
from .device_trust import DeviceTrust
from .errors import RateLimited
from .identifiers import canonical_email
from .settings import Settings
from .throttle import Throttle, request_key
from .types import RequestMeta


class MailQuota:
    """Per-address and per-IP hourly mail caps, and the per-IP request limit."""

    def __init__(self, throttle: Throttle, settings: Settings,
                 devices: DeviceTrust | None = None) -> None:
        self._throttle = throttle
        self._devices = devices
        secret = settings.password_pepper or settings.encryption_primary_key
        self._secret = (secret.reveal() if secret else "authtuna-mail").encode()

    def address_key(self, address: str) -> str:
        """The cap's key for ``address``: a keyed digest, so no address is stored."""
        return "mail:" + keyed_digest(self._secret, canonical_email(address))[:48]

    async def allow(self, address: str, ip_address: str | None, *,
                    device_id: str | None = None, session: AsyncSession | None = None) -> bool:
        """Count one mail to ``address`` requested from ``ip_address``; False past a cap.

        With ``session``, counted in that transaction: the count and the mail commit (or
        roll back) together with the flow that sends it."""
        first = f"mail:dev:{device_id}" if device_id else self.address_key(address)
        second = f"mailip:{ip_address}" if ip_address else None
        try:
            await self._throttle.reserve([first, second], session=session)
        except RateLimited:
            return False
        return True

    async def allow_for(self, user_id: str, address: str, meta: RequestMeta) -> bool:
        """:meth:`allow` for a mail about the account ``user_id``: a browser holding that
        account's trusted-device cookie is counted on its own key, not the address's."""
        device_id = self._devices.verify(meta.device_token, user_id) if self._devices else None
        return await self.allow(address, meta.ip_address, device_id=device_id)

    async def admit_request(self, ip_address: str | None) -> None:
        """Count one token request from ``ip_address``; RateLimited past the hourly limit."""
        await self._throttle.reserve([request_key(ip_address)])

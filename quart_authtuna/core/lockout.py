"""Sign-in lockout that links nothing and cannot lock anyone out of a device they used before.

* Requester keys (``ip:`` the client address, ``dev:`` a trusted device, ``sess:`` a signed-in
  session) belong to whoever asks: their lock is answered with RateLimited (429).
* The account key (``acct:``) is keyed by the user id, so username and email of one account
  share it, and by the canonical identifier for unknown accounts. Its lock is *silent*: the
  flow checks a dummy hash (equal cost) and answers InvalidCredentials exactly like a wrong
  password. A lock is thus never told, so it links no username to an email, and a locked
  account behaves like an unknown one.
* A device that signed in to the account before presents its signed token (DeviceTrust): it
  skips the account and IP keys and is limited by its own ``dev:<id>`` key, so strangers
  hammering the account, or sharing the address, cannot lock it out of a correct sign-in.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncSession

from .device_trust import DeviceTrust
from .throttle import Reservation, Throttle, device_key, ip_key


@dataclass(frozen=True, slots=True)
class Attempt:
    """One admitted sign-in attempt.

    ``account_locked``: the account key is locked; check a dummy hash and fail generically.
    ``device_id``: the trusted device the attempt came from, if any.
    """

    reservation: Reservation
    account_locked: bool
    device_id: str | None


@dataclass(frozen=True, slots=True)
class LoginGate:
    """Decide, before the password is checked, whether a sign-in attempt may go ahead."""

    throttle: Throttle
    devices: DeviceTrust

    async def enter(self, account: str, ip_address: str | None, device_token: str | None = None,
                    *, user_id: str | None = None) -> Attempt:
        """Reserve the attempt: RateLimited only for requester keys, never for the account.

        ``account`` is ``account_key(identifier, user.id)``; ``user_id`` the account found
        (None when unknown), against which ``device_token`` is checked.
        """
        device_id = self.devices.verify(device_token, user_id)
        if device_id is not None:
            reservation = await self.throttle.reserve([device_key(device_id)])
        else:
            reservation = await self.throttle.reserve([ip_key(ip_address)], silent=[account])
        return Attempt(reservation, account in reservation.locked, device_id)

    async def succeeded(self, attempt: Attempt, session: AsyncSession | None = None) -> None:
        """After the right password: forget the account or device failures, return the IP's."""
        await self.throttle.release(attempt.reservation, session=session)

    def trust(self, user_id: str, attempt: Attempt) -> str:
        """The device token to set after a successful sign-in (renews a trusted device's)."""
        return self.devices.issue(user_id, attempt.device_id)

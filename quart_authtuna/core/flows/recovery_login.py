"""Signing in with a recovery code, for accounts without a password (passkey-first).

Such an account's recovery codes stand in for a lost passkey: the identifier and one unused
code open a session, and the user adds a new passkey or a password from there. Accounts with
a password use their codes only at the second-factor step, never instead of the password.
Every miss (unknown user, an account with a password, a wrong or used code, locked,
suspended) fails alike and is counted before the check, like a password sign-in.
"""

from __future__ import annotations

from dataclasses import dataclass

from ..db.unit_of_work import UnitOfWork
from ..errors import InvalidCredentials
from ..lockout import LoginGate
from ..managers.audit import AuditManager
from ..managers.mfa import MFAManager
from ..managers.users import UserManager
from ..signals import login_failed
from ..throttle import account_key
from ..types import RequestMeta
from .first_factor import FirstFactor
from .results import SignedIn


@dataclass(frozen=True, slots=True)
class RecoveryLogin:
    """Identifier + recovery code → a session (passwordless accounts only)."""

    _db: UnitOfWork
    _users: UserManager
    _codes: MFAManager
    _gate: LoginGate
    _audit: AuditManager
    _first_factor: FirstFactor

    async def __call__(self, identifier: str, code: str, meta: RequestMeta) -> SignedIn:
        """A session, or InvalidCredentials for every kind of miss (the code stays unused)."""
        identifier = identifier.strip()[:320]
        user = await self._users.get_by_identifier(identifier)
        user_id = user.id if user else None
        attempt = await self._gate.enter(account_key(identifier, user_id), meta.ip_address,
                                         meta.device_token, user_id=user_id)
        usable = (user is not None and user.password_hash is None and user.is_active
                  and not attempt.account_locked)
        async with self._db.transaction() as tx:
            # a miss still runs the same one-row UPDATE, against no user
            ok = await self._codes.use_recovery_code(tx, user_id if usable and user_id else "",
                                                    code[:64])
            if ok:
                self._audit.record(tx, "MFA_RECOVERY_CODE_USED", user_id=user_id,
                                   ip_address=meta.ip_address, details={"sign_in": True})
            else:
                self._audit.record(tx, "LOGIN_FAILED", user_id=user_id,
                                   ip_address=meta.ip_address,
                                   details={"reason": "recovery_code", "method": "recovery"})
                self._db.emit(tx, login_failed, user_id=user_id, ip_address=meta.ip_address)
        if not ok or user is None:
            raise InvalidCredentials()
        return await self._first_factor.open_session(user, meta, "recovery_code",
                                                     reservation=attempt.reservation)

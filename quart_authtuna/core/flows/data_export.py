"""GDPR export: everything stored about one account, as one JSON document.

Profile, roles by scope, sessions, API keys, passkeys and social accounts (metadata only),
the MFA status, and the account's audit events. Never a secret, hash, public key or token:
no password hash, TOTP secret, recovery code, key hash or provider token. Asked by the owner
(fresh sign-in) or an admin who may act on the account; five exports per account per hour;
each one is audited (``DATA_EXPORTED``, with who asked).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from ..db.models import (
    ApiKey,
    AuditEvent,
    MFAMethod,
    MFARecoveryCode,
    PasskeyCredential,
    Role,
    SocialAccount,
    User,
    UserRole,
    UserSession,
)
from ..db.unit_of_work import UnitOfWork
from ..errors import NotFound
from ..managers.audit import AuditManager
from ..throttle import Throttle, export_key
from ..types import Clock, RequestMeta
from .results import DataExported

FORMAT = "quart-authtuna-export/1"
#: An admin's check that ``actor`` may act on ``user`` (raises otherwise).
Authorize = Callable[[AsyncSession, str, str], Awaitable[object]]


@dataclass(frozen=True, slots=True)
class DataExport:
    """The export journey; an admin's authorization is checked by the caller's flow."""

    _db: UnitOfWork
    _clock: Clock
    _throttle: Throttle
    _audit: AuditManager

    async def export(self, user_id: str, actor_id: str, meta: RequestMeta,
                     authorize: Authorize | None = None) -> DataExported:
        """RateLimited past the hourly limit; ``authorize(tx, actor_id, user_id)`` (an admin's
        rank check) runs first, in the same transaction."""
        async with self._db.transaction() as tx:
            if authorize is not None:
                await authorize(tx, actor_id, user_id)
            user = await tx.get(User, user_id)
            if user is None:
                raise NotFound("User not found.")
        await self._throttle.reserve([export_key(user_id)])
        async with self._db.transaction() as tx:
            data = {"format": FORMAT, "exported_at": self._clock(),
                    "profile": _profile(user), **await _rows(tx, user_id)}
            data["mfa"]["enabled"] = user.mfa_enabled
            self._audit.record(tx, "DATA_EXPORTED", user_id=user_id, actor_id=actor_id,
                               ip_address=meta.ip_address,
                               details={"by": "owner" if actor_id == user_id else "admin"})
        return DataExported(user_id, user.username, data)


def _profile(user: User) -> dict[str, Any]:
    return {"id": user.id, "username": user.username, "email": user.email,
            "first_name": user.first_name, "last_name": user.last_name,
            "is_active": user.is_active, "email_verified": user.email_verified,
            "has_password": user.password_hash is not None,
            "requires_password_reset": user.requires_password_reset,
            "created_at": user.created_at, "last_login": user.last_login,
            "password_changed_at": user.password_changed_at}


async def _all(tx: AsyncSession, model: Any, user_id: str, order: Any) -> list[Any]:
    return list((await tx.scalars(select(model).where(model.user_id == user_id)
                                  .order_by(order))).all())


async def _rows(tx: AsyncSession, user_id: str) -> dict[str, Any]:
    roles = (await tx.execute(select(Role.name, UserRole.scope, UserRole.given_by_id,
                                     UserRole.given_at).join(Role, Role.id == UserRole.role_id)
                              .where(UserRole.user_id == user_id)
                              .order_by(Role.name, UserRole.scope))).all()
    methods = await _all(tx, MFAMethod, user_id, MFAMethod.id)
    codes = await _all(tx, MFARecoveryCode, user_id, MFARecoveryCode.id)
    return {
        "roles": [{"role": r.name, "scope": r.scope, "given_by": r.given_by_id,
                   "given_at": r.given_at} for r in roles],
        "sessions": [{"region": s.region, "device": s.device, "active": s.active,
                      "created_at": s.ctime, "last_seen_at": s.mtime, "expires_at": s.etime,
                      "created_ip": s.create_ip, "last_ip": s.last_ip,
                      "auth_method": s.auth_method}
                     for s in await _all(tx, UserSession, user_id, UserSession.ctime)],
        "api_keys": [{"id": k.id, "name": k.name, "key_type": k.key_type,
                      "created_at": k.created_at, "last_used_at": k.last_used_at,
                      "expires_at": k.expires_at}
                     for k in await _all(tx, ApiKey, user_id, ApiKey.created_at)],
        "passkeys": [{"nickname": p.nickname, "aaguid": p.aaguid,
                      "transports": list(p.transports), "backed_up": p.is_backed_up,
                      "created_at": p.created_at, "last_used_at": p.last_used_at}
                     for p in await _all(tx, PasskeyCredential, user_id,
                                         PasskeyCredential.created_at)],
        "mfa": {"methods": [{"type": m.method_type, "verified": m.is_verified,
                             "created_at": m.created_at} for m in methods],
                "recovery_codes_left": sum(1 for c in codes if not c.is_used)},
        "social_accounts": [{"provider": a.provider, "provider_user_id": a.provider_user_id,
                             "created_at": a.created_at, "last_used_at": a.last_used_at}
                            for a in await _all(tx, SocialAccount, user_id, SocialAccount.id)],
        "audit_events": [{"event_type": e.event_type, "timestamp": e.timestamp,
                          "ip_address": e.ip_address, "details": e.details}
                         for e in await _all(tx, AuditEvent, user_id, AuditEvent.id)],
    }

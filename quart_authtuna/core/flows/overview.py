"""The account at a glance, for its owner's dashboard: one read, five small queries."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import func, select

from ..activity import SHOWN, ActivityItem, activity_item
from ..db.models import AuditEvent, PasskeyCredential, User, UserSession
from ..db.unit_of_work import UnitOfWork
from ..errors import NotFound
from ..i18n import N_
from ..types import Clock

#: How many security events the dashboard lists.
RECENT_EVENTS = 5


@dataclass(frozen=True, slots=True)
class SignInRecord:
    """Where and when a session began."""

    at: float
    device: str
    region: str
    ip_address: str | None
    method: str

    def as_json(self) -> dict[str, Any]:
        return {"at": self.at, "device": self.device, "region": self.region,
                "ip_address": self.ip_address, "method": self.method}


@dataclass(frozen=True, slots=True)
class AccountStatus:
    """What the owner should see first. ``previous_sign_in``: the latest session other than
    the one asking (None the first time)."""

    user: User
    passkeys: int
    active_sessions: int
    previous_sign_in: SignInRecord | None
    recent_events: list[ActivityItem]

    def as_json(self) -> dict[str, Any]:
        user = self.user
        previous = self.previous_sign_in
        return {
            "user": {"id": user.id, "username": user.username, "email": user.email},
            "email_verified": user.email_verified, "mfa_enabled": user.mfa_enabled,
            "passkeys": self.passkeys, "active_sessions": self.active_sessions,
            "last_login": user.last_login,
            "previous_sign_in": previous.as_json() if previous else None,
            "recent_events": [item.as_json() for item in self.recent_events],
        }


@dataclass(frozen=True, slots=True)
class AccountOverview:
    """Reads the :class:`AccountStatus` of one account."""

    _db: UnitOfWork
    _clock: Clock

    async def __call__(self, user_id: str, current_session_id: str | None = None
                       ) -> AccountStatus:
        now = self._clock()
        async with self._db.transaction() as tx:
            user = await tx.get(User, user_id)
            if user is None:
                raise NotFound(N_("User not found."))
            active = await tx.scalar(select(func.count()).select_from(UserSession).where(
                UserSession.user_id == user_id, UserSession.active.is_(True),
                UserSession.etime > now, UserSession.e_abs_time > now))
            previous = select(UserSession).where(UserSession.user_id == user_id)
            if current_session_id:
                previous = previous.where(UserSession.session_id != current_session_id)
            last = await tx.scalar(previous.order_by(UserSession.ctime.desc()).limit(1))
            passkeys = await tx.scalar(select(func.count()).select_from(PasskeyCredential)
                                       .where(PasskeyCredential.user_id == user_id))
            events = (await tx.scalars(
                select(AuditEvent).where(AuditEvent.user_id == user_id,
                                         AuditEvent.event_type.in_(sorted(SHOWN)))
                .order_by(AuditEvent.timestamp.desc(), AuditEvent.id.desc())
                .limit(RECENT_EVENTS))).all()
        record = None if last is None else SignInRecord(
            last.ctime, last.device, last.region, last.create_ip, last.auth_method)
        return AccountStatus(user, int(passkeys or 0), int(active or 0), record,
                             [activity_item(event) for event in events])

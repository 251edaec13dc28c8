"""Per-request session validation: trust the cache within the interval, else re-verify once.

Between verifications a request costs a memoised cookie decode and a few dict lookups, and no
database query. At the interval the session row is re-read with its user, its random string
rotates by compare-and-swap (concurrent verifiers never log each other out), and the user's
grants are reloaded, all in one transaction. Concurrent requests of one session share that
verification.

Stolen-cookie step-up (the rule; docs/security.md): a request whose device fingerprint is not
the session's is refused, whatever random string it carries (current or rotated). The session
is not ended: it is flagged (once: one ``SESSION_FLAGGED`` audit row and one mail to the
owner), and every request of it then needs a fresh sign-in (``flagged`` in the state), which
replaces the session by a new one, so the copied cookie is dead. A random string that is not
accepted from the session's *own* device still ends the session (no way to tell who is who).
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm.attributes import set_committed_value

from ..crypto.cookie_codec import CookieCodec
from ..crypto.tokens import digest, random_token
from ..db.models import User, UserSession
from ..db.unit_of_work import UnitOfWork, affected
from ..mail import Mailer
from ..managers.audit import AuditManager
from ..managers.sessions import IssuedSession
from ..rbac.checker import RbacChecker, load_grants
from ..rbac.grants import Grants
from ..revocation import Revocation
from ..settings import Settings
from ..types import Clock, RequestMeta
from .cache import SessionCache, SessionState

#: Reasons that end the session for good (the others only refuse this request).
_TERMINATING = frozenset({"region_mismatch", "random_string_mismatch"})
#: Another device holds the cookie: refuse it, flag the session, tell the owner.
_SUSPECT = "device_mismatch"


@dataclass(frozen=True, slots=True)
class Verdict:
    """The outcome for one request: who it is, and what to do with the cookie."""

    state: SessionState | None
    cookie: str | None = None
    clear_cookie: bool = False


class SessionValidator:
    """Validates session cookies for one AuthService."""

    def __init__(
        self, db: UnitOfWork, clock: Clock, settings: Settings, audit: AuditManager,
        rbac: RbacChecker, revocation: Revocation, cache: SessionCache, codec: CookieCodec,
        mail: Mailer | None = None,
    ) -> None:
        self._db = db
        self._clock = clock
        self._settings = settings
        self._audit = audit
        self._rbac = rbac
        self._revocation = revocation
        self.cache = cache
        self.codec = codec
        self._mail = mail
        self._inflight: dict[str, asyncio.Future[SessionState | None]] = {}

    def issue(self, issued: IssuedSession, user: User, grants: Grants
              ) -> tuple[SessionState, str]:
        """Cache a new session (with the user's grants) and return its first cookie value."""
        row = issued.row
        state = _state(row, user, row.random_string, frozenset({row.random_string}),
                       self._clock())
        self._rbac.prime(user.id, grants, state.verified_at)
        self.cache.put(state)
        return state, self.cookie_for(state, issued.raw_id)

    def cookie_for(self, state: SessionState, raw_id: str) -> str:
        now = self._clock()
        expires = min(now + self._settings.session_lifetime_seconds, state.e_abs_time)
        claims = {"sid": raw_id, "uid": state.user_id, "rs": state.random_string,
                  "chk": state.verified_at}
        return self.codec.encode(claims, expires)

    async def validate(self, cookie: str | None, meta: RequestMeta) -> Verdict:
        """Check one request's cookie; database work only when the interval has passed."""
        if not cookie:
            return Verdict(None)
        now = self._clock()
        claims = self.codec.decode(cookie, now)
        if claims is None or not isinstance(claims.get("sid"), str):
            return Verdict(None, clear_cookie=True)
        session_id = claims.get("_sid") or digest(claims["sid"])
        claims["_sid"] = session_id
        if self.cache.is_revoked(session_id):
            return Verdict(None, clear_cookie=True)
        state = self.cache.get(session_id)
        if state is None or not self._fresh(state, now) or self._unknown(state, claims, meta):
            state = await self._verify_once(session_id, claims, meta)
            if state is not None and self._unknown(state, claims, meta):
                # Another request's verification answered; this request needs its own.
                state = await self._verify(session_id, claims, meta)
        if state is None or state.user_id != claims.get("uid"):
            return Verdict(None, clear_cookie=True)
        if claims.get("rs") not in state.accepted_strings and not self._lenient():
            return Verdict(None, clear_cookie=True)
        if claims.get("rs") == state.random_string:
            return Verdict(state)
        return Verdict(state, cookie=self.cookie_for(state, claims["sid"]))

    def _fresh(self, state: SessionState, now: float) -> bool:
        settings = self._settings
        return (now - state.verified_at < settings.session_db_verification_interval
                and now < state.etime and now < state.e_abs_time)

    def _lenient(self) -> bool:
        return self._settings.disable_random_string

    def _unknown(self, state: SessionState, claims: dict[str, Any], meta: RequestMeta) -> bool:
        """The cache cannot vouch for this request (other device, or a random string it has
        not seen: rotated by another process, or a clone); the database must decide."""
        return bool(state.fingerprint and state.fingerprint != meta.fingerprint) or (
            claims.get("rs") not in state.accepted_strings and not self._lenient())

    async def _verify_once(self, session_id: str, claims: dict[str, Any], meta: RequestMeta
                           ) -> SessionState | None:
        """One database verification per session at a time; concurrent callers share it."""
        future = self._inflight.get(session_id)
        if future is None:
            future = asyncio.ensure_future(self._verify(session_id, claims, meta))
            self._inflight[session_id] = future
            future.add_done_callback(lambda _: self._inflight.pop(session_id, None))
        return await asyncio.shield(future)

    async def _verify(self, session_id: str, claims: dict[str, Any], meta: RequestMeta
                      ) -> SessionState | None:
        settings, now = self._settings, self._clock()
        async with self._db.transaction() as tx:
            found = (await tx.execute(select(UserSession, User).join(
                User, User.id == UserSession.user_id).where(
                UserSession.session_id == session_id))).first()
            if found is None:
                self._revocation.forget_sessions([session_id])
                return None
            row, user = found
            reason = self._problem(row, user, claims, meta, now)
            if reason == _SUSPECT and row.active:
                await self._flag(tx, row, user, claims, meta, now)
                return None
            if reason is not None:
                self._revocation.forget_sessions([session_id])
                if reason in _TERMINATING and row.active:
                    row.active = False
                    self._audit.record(tx, "SESSION_INVALIDATED", user_id=row.user_id,
                                       ip_address=meta.ip_address, details={"reason": reason})
                    self._revocation.sessions_ended(tx, [session_id])
                return None
            history = [p for p in row.previous_random_strings
                       if now - p["timestamp"] < settings.session_db_verification_interval
                       + settings.random_string_grace]
            history.append({"value": row.random_string, "timestamp": now})
            values: dict[str, Any] = {
                "random_string": random_token(16), "previous_random_strings": history,
                "version": row.version + 1, "mtime": now, "last_ip": meta.ip_address}
            if settings.session_lifetime_from == "last_activity":
                values["etime"] = min(now + settings.session_lifetime_seconds, row.e_abs_time)
            if settings.disable_random_string:
                for key in ("random_string", "previous_random_strings"):
                    del values[key]
            previous_ip = row.last_ip
            swapped = await tx.execute(update(UserSession).where(
                UserSession.session_id == session_id, UserSession.version == row.version,
                UserSession.active.is_(True)).values(**values))
            if affected(swapped):  # we rotated: the row now holds exactly these values
                for key, value in values.items():
                    set_committed_value(row, key, value)
            else:  # another verifier rotated first: read what it wrote
                await tx.refresh(row)
            if affected(swapped) == 0 and not row.active:
                return None
            if meta.ip_address and meta.ip_address != previous_ip and affected(swapped):
                self._audit.record(tx, "SESSION_IP_UPDATED", user_id=row.user_id,
                                 ip_address=meta.ip_address)
            grants = await load_grants(tx, user.id)
        accepted = frozenset([row.random_string] + [
            p["value"] for p in row.previous_random_strings
            if now - p["timestamp"] < settings.session_db_verification_interval
            + settings.random_string_grace])
        state = _state(row, user, row.random_string, accepted, now)
        self._rbac.prime(user.id, grants, now)
        self.cache.put(state)
        return state

    async def _flag(self, tx: AsyncSession, row: UserSession, user: User,
                    claims: dict[str, Any], meta: RequestMeta, now: float) -> None:
        """Refuse the other device; the first time, flag the session and tell the owner (the
        flag, its audit row and the mail commit together)."""
        if row.flagged_at is not None:
            return
        row.flagged_at = now
        rotated = claims.get("rs") != row.random_string
        self._audit.record(tx, "SESSION_FLAGGED", user_id=row.user_id,
                           ip_address=meta.ip_address,
                           details={"reason": "other_device", "rotated_string": rotated})
        self._revocation.user_changed(tx, row.user_id)  # the owner's cached state is stale
        if self._mail is not None:
            when = datetime.fromtimestamp(now, UTC).strftime("%Y-%m-%d %H:%M UTC")
            await self._mail.enqueue("session_flagged", user.email, session=tx,
                                     username=user.username, device=meta.device,
                                     ip_address=meta.ip_address or "unknown", when=when)

    def _problem(self, row: UserSession, user: User, claims: dict[str, Any], meta: RequestMeta,
                 now: float) -> str | None:
        """Why this session cannot be used now, or None."""
        settings = self._settings
        accepted = {row.random_string} | {
            p["value"] for p in row.previous_random_strings
            if now - p["timestamp"] < settings.session_db_verification_interval
            + settings.random_string_grace}
        checks = (
            (not row.active, "inactive"),
            (row.user_id != claims.get("uid"), "user_mismatch"),
            (not user.is_active, "user_suspended"),
            (now >= row.etime or now >= row.e_abs_time, "expired"),
            (bool(row.fingerprint) and meta.fingerprint != row.fingerprint, "device_mismatch"),
            (settings.lock_session_region and meta.region != row.region
             and meta.ip_address != row.create_ip, "region_mismatch"),
            (not settings.disable_random_string and claims.get("rs") not in accepted,
             "random_string_mismatch"),
        )
        return next((reason for failed, reason in checks if failed), None)


def _state(row: UserSession, user: User, current: str, accepted: frozenset[str],
           verified_at: float) -> SessionState:
    return SessionState(
        session_id=row.session_id, user_id=user.id, username=user.username, email=user.email,
        email_verified=user.email_verified, mfa_enabled=user.mfa_enabled,
        random_string=current, accepted_strings=accepted, verified_at=verified_at,
        authenticated_at=row.authenticated_at, etime=row.etime, e_abs_time=row.e_abs_time,
        auth_method=row.auth_method, fingerprint=row.fingerprint,
        flagged=row.flagged_at is not None,
    )

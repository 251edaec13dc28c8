"""Per-request session validation: trust the cache within the interval, else check once.

Between checks a request costs a memoised cookie decode and a few dict lookups, and no
database query. A check is due every SESSION_DB_VERIFICATION_INTERVAL seconds:

- while PostgreSQL NOTIFY (sent by each revoking transaction itself) has stayed connected
  since the session was read (``Revocation.epoch``), the check trusts the cache: every
  revocation reaches this process in under a second, and a reconnection clears the caches;
- otherwise it is a read of the session row with its user (and the grants, unless cached),
  batched with the other checks of the same event-loop tick (:mod:`.reads`);
- a write only when the random string is due to rotate (SESSION_ROTATION_SECONDS, after a
  re-authentication, or when a sliding expiry comes within one rotation period of now) or
  the read found a problem: the random string rotates by compare-and-swap (concurrent
  verifiers never log each other out); the due rotations of one tick share one transaction
  (:mod:`.rotations`), a problem's write has its own, with the grants.

Concurrent requests of one session share one check. Changes made behind the product's back
(raw SQL) are seen at the next read, or at the next rotation while the channel vouches.

Stolen-cookie step-up (the rule; docs/security.md): a request whose device fingerprint is not
the session's is refused, whatever random string it carries (current or rotated). The session
is not ended: it is flagged (once: one ``SESSION_FLAGGED`` audit row and one mail to the
owner), and every request of it then needs a fresh sign-in (``flagged`` in the state), which
replaces the session by a new one, so the copied cookie is dead. A random string that is not
accepted from the session's *own* device still ends the session (no way to tell who is who).
"""

from __future__ import annotations

import asyncio
import sys
from dataclasses import dataclass, replace
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
from .reads import BatchedReads
from .rotations import BatchedRotations

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
        self.reads = BatchedReads(db, lambda user_id: rbac.cached(user_id) is None)
        self.rotations = BatchedRotations(db, self._swap)
        self._inflight: dict[str, asyncio.Future[SessionState | None]] = {}

    def issue(self, issued: IssuedSession, user: User, grants: Grants
              ) -> tuple[SessionState, str]:
        """Cache a new session (with the user's grants) and return its first cookie value."""
        now, epoch = self._clock(), self._revocation.epoch()
        state = self._state(issued.row, user, now, epoch)
        self._rbac.prime(user.id, grants, now, epoch)
        self.cache.put(state)
        return state, self.cookie_for(state, issued.raw_id)

    def cookie_for(self, state: SessionState, raw_id: str) -> str:
        now = self._clock()
        expires = min(now + self._settings.session_lifetime_seconds, state.e_abs_time)
        claims = {"sid": raw_id, "uid": state.user_id, "rs": state.random_string}
        return self.codec.encode(claims, expires)

    async def validate(self, cookie: str | None, meta: RequestMeta) -> Verdict:
        """Check one request's cookie; database work only when a check is due."""
        if not cookie:
            return Verdict(None)
        now = self._clock()
        claims = self.codec.decode(cookie, now)
        if claims is None or not isinstance(claims.get("sid"), str):
            return Verdict(None, clear_cookie=True)
        session_id = claims.get("_sid") or sys.intern(digest(claims["sid"]))  # = the state's
        claims["_sid"] = session_id
        if self.cache.is_revoked(session_id):
            return Verdict(None, clear_cookie=True)
        state = self.cache.get(session_id)
        if state is None or not self._fresh(state, now) or self._unknown(state, claims, meta):
            if state is not None and self._trusted(state, meta, now) and not self._unknown(
                    state, claims, meta):
                state = replace(state, verified_at=now)  # the channel vouches for it
                self.cache.put(state)
            else:
                state = await self._verify_once(session_id, claims, meta)
                if state is not None and self._unknown(state, claims, meta):
                    # Another request's check answered; this request needs its own.
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

    def _trusted(self, state: SessionState, meta: RequestMeta, now: float) -> bool:
        """A cross-process channel has been connected since ``state`` was read, the request
        comes from the session's region, and no rotation is due: no database needed."""
        return (state.epoch is not None and state.epoch == self._revocation.epoch()
                and now < state.etime and now < state.e_abs_time
                and (meta.region == state.region or not self._settings.lock_session_region)
                and not self._rotation_due(state.rotated_at, state.authenticated_at,
                                           state.etime, now))

    def _rotation_due(self, rotated_at: float, authenticated_at: float, etime: float,
                      now: float) -> bool:
        """Rotate (write) once per rotation period, after a re-authentication, and when a
        sliding expiry would come within one rotation period of now."""
        period = self._settings.session_rotation_seconds
        return (now - rotated_at >= period or authenticated_at > rotated_at
                or (self._settings.session_lifetime_from == "last_activity"
                    and etime - now < period))

    def _lenient(self) -> bool:
        return self._settings.disable_random_string

    def _unknown(self, state: SessionState, claims: dict[str, Any], meta: RequestMeta) -> bool:
        """The cache cannot vouch for this request (other device, or a random string it has
        not seen: rotated by another process, or a clone); the database must decide."""
        return bool(state.fingerprint and state.fingerprint != meta.fingerprint) or (
            claims.get("rs") not in state.accepted_strings and not self._lenient())

    async def _verify_once(self, session_id: str, claims: dict[str, Any], meta: RequestMeta
                           ) -> SessionState | None:
        """One check per session at a time; concurrent callers share it."""
        future = self._inflight.get(session_id)
        if future is None:
            future = asyncio.ensure_future(self._verify(session_id, claims, meta))
            self._inflight[session_id] = future
            future.add_done_callback(lambda _: self._inflight.pop(session_id, None))
        return await asyncio.shield(future)

    async def _verify(self, session_id: str, claims: dict[str, Any], meta: RequestMeta
                      ) -> SessionState | None:
        """The check: a batched read; a write only for a problem or a due rotation."""
        now, epoch, generation = self._clock(), self._revocation.epoch(), self.cache.generation
        rbac_generation = self._rbac.generation
        found = await self.reads.session(session_id)
        if found is None:
            self._revocation.forget_sessions([session_id])
            return None
        row, user, grants = found
        if self._problem(row, user, claims, meta, now) is not None:
            return await self._rotate(session_id, claims, meta)
        if self._rotation_due(row.mtime, row.authenticated_at, row.etime, now):
            rotated = await self.rotations.rotate(row, meta, now)  # the CAS alone, batched
            if rotated is None:
                self._revocation.forget_sessions([session_id])
                return None
            row = rotated
        if grants is not None:  # read with the session: the cache had none
            self._rbac.prime(user.id, grants, now, epoch, rbac_generation)
        elif self._rbac.cached(user.id) is None:  # dropped since: read them now
            grants = await self.reads.grants(user.id)
            self._rbac.prime(user.id, grants, now, epoch, rbac_generation)
        return self._remember(row, user, now, epoch, generation)

    async def _rotate(self, session_id: str, claims: dict[str, Any], meta: RequestMeta
                      ) -> SessionState | None:
        """The write after a problem: end, flag, or rotate the random string, with the
        user's grants, in one transaction that reads the row again."""
        now = self._clock()
        epoch, generation = self._revocation.epoch(), self.cache.generation
        rbac_generation = self._rbac.generation
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
            swapped = await self._swap(tx, row, meta, now)
            if swapped is None:
                return None
            grants = await load_grants(tx, user.id)
        self._rbac.prime(user.id, grants, now, epoch, rbac_generation)
        return self._remember(swapped, user, now, epoch, generation)

    async def _swap(self, tx: AsyncSession, row: UserSession, meta: RequestMeta, now: float
                    ) -> UserSession | None:
        """Rotate the random string by compare-and-swap on the version ``row`` was read at
        (concurrent rotations never log each other out). Returns the row as written, or as
        another verifier wrote it; None if the session ended meanwhile. No re-read when the
        swap succeeds: the row then holds exactly what was written."""
        settings, session_id = self._settings, row.session_id
        history = [{"value": v, "timestamp": t} for v, t in _history(row, now, settings)]
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
        if not affected(swapped):  # another verifier rotated first: read what it wrote
            found = (await tx.execute(select(UserSession).where(
                UserSession.session_id == session_id).execution_options(
                populate_existing=True))).scalar_one_or_none()
            return found if found is not None and found.active else None
        for key, value in values.items():
            set_committed_value(row, key, value)
        if meta.ip_address and meta.ip_address != previous_ip:
            self._audit.record(tx, "SESSION_IP_UPDATED", user_id=row.user_id,
                               ip_address=meta.ip_address)
        return row

    def _remember(self, row: UserSession, user: User, now: float, epoch: int | None,
                  generation: int) -> SessionState:
        """Cache what was read; trusted past the interval only if no event dropped anything
        while it was read (an event may have named it)."""
        state = self._state(row, user, now, epoch if generation == self.cache.generation
                            else None)
        self.cache.put(state)
        return state

    def _state(self, row: UserSession, user: User, now: float, epoch: int | None
               ) -> SessionState:
        user_id, username, email = self.cache.shared(user.id, user.username, user.email)
        return SessionState(
            session_id=sys.intern(row.session_id), user_id=user_id, username=username, email=email,
            email_verified=user.email_verified, mfa_enabled=user.mfa_enabled,
            random_string=row.random_string,
            accepted_strings=(row.random_string, *(v for v, _ in _history(
                row, now, self._settings))),
            verified_at=now, authenticated_at=row.authenticated_at, etime=row.etime,
            e_abs_time=row.e_abs_time, auth_method=sys.intern(row.auth_method),
            fingerprint=sys.intern(row.fingerprint), flagged=row.flagged_at is not None,
            rotated_at=row.mtime, region=sys.intern(row.region), epoch=epoch)

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
        accepted = {row.random_string, *(v for v, _ in _history(row, now, settings))}
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


def _history(row: UserSession, now: float, settings: Settings) -> list[tuple[str, float]]:
    """The rotated-out random strings still accepted: within the grace (plus one interval,
    for the processes whose cache still holds the older state)."""
    window = settings.session_db_verification_interval + settings.random_string_grace
    return [(p["value"], p["timestamp"]) for p in row.previous_random_strings
            if now - p["timestamp"] < window]

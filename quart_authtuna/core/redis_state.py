"""Throttle counters and pending challenges in Redis (``AUTHTUNA_STATE_BACKEND``).

The same interface as :class:`.throttle.Throttle` and :class:`.challenges.ChallengeStore`, with
the same semantics: every check-and-change is one Lua script, so it is atomic across workers
and machines. ``reserve`` counts all its keys or (a loud key locked) none; ``reserve_attempt``
and ``consume`` check and change a challenge in one step (``consume`` deletes it, so of N
concurrent consumers exactly one wins). Every key carries a TTL: a counter lives until its
window or lock ends, a challenge an hour past its expiry (so a late answer is told "expired",
as with the database). Redis takes no part in the flow's database transaction: a challenge
consumed in a flow that then fails stays consumed (it fails closed).
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, cast

from sqlalchemy.ext.asyncio import AsyncSession

from .challenges import EXPIRED, INVALID, Challenge, ChallengeStore
from .crypto.tokens import digest, random_token
from .db.models import AuthChallenge
from .db.unit_of_work import UnitOfWork
from .errors import ConfigurationError, RateLimited, TokenExpired, TokenInvalid
from .settings import Settings
from .throttle import BASE_DELAY, Reservation, Throttle
from .types import Clock

if TYPE_CHECKING:
    from redis.asyncio import Redis

@dataclass(frozen=True, slots=True)
class State:
    """The throttle and challenge store chosen, and how to let go of their connection."""

    throttle: Throttle
    challenges: ChallengeStore
    close: Callable[[], Awaitable[None]]


async def _nothing() -> None:
    return None


def state_backend(settings: Settings) -> str:
    """``database`` or ``redis``, resolving ``auto`` (redis when REDIS_URL is set)."""
    chosen = settings.state_backend.lower()
    if chosen not in ("auto", "database", "redis"):
        raise ConfigurationError(["AUTHTUNA_STATE_BACKEND must be one of AUTO, DATABASE, REDIS"])
    if chosen == "redis" and settings.redis_url is None:
        raise ConfigurationError(["AUTHTUNA_STATE_BACKEND=redis needs AUTHTUNA_REDIS_URL"])
    if chosen == "auto":
        return "redis" if settings.redis_url is not None else "database"
    return chosen


def make_state(db: UnitOfWork, settings: Settings, clock: Clock, prefix: str | None = None
               ) -> State:
    """Throttle and challenges in the database, or in Redis as STATE_BACKEND says.

    ``prefix`` starts every Redis key (default: one per database, like the revocation
    channel, so several databases may share one Redis)."""
    if state_backend(settings) != "redis":
        return State(Throttle(db, settings, clock), ChallengeStore(db, clock), _nothing)
    try:
        from redis.asyncio import BlockingConnectionPool
        from redis.asyncio import Redis as Client
    except ImportError as exc:  # pragma: no cover - the optional extra is missing
        raise ConfigurationError(["AUTHTUNA_STATE_BACKEND=redis needs the redis package: "
                                  "pip install quart-authtuna[redis]"]) from exc
    from .broadcast.wire import channel_for

    assert settings.redis_url is not None  # state_backend refuses redis without a URL
    client = Client.from_pool(BlockingConnectionPool.from_url(  # bursts wait for a connection
        settings.redis_url.reveal(), decode_responses=True, max_connections=POOL,
        timeout=POOL_WAIT, socket_connect_timeout=POOL_WAIT, socket_timeout=POOL_WAIT))
    prefix = prefix or "authtuna_state_" + channel_for(settings).rpartition("_")[2] + ":"
    return State(RedisThrottle(db, settings, clock, client, prefix),
                 RedisChallengeStore(db, clock, client, prefix), client.aclose)


#: Connections to Redis per process, and seconds to wait for one (or for Redis to answer).
POOL = 32
POOL_WAIT = 10.0
#: Seconds a challenge is kept past its expiry (to answer "expired" rather than "invalid").
GRACE = 3600

# KEYS: counters. ARGV: now, longest lock, base delay, then per key: limit window escalate quiet.
_RESERVE = """
local now, maxlock, base = tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3])
local out, refused = {}, false
for i, k in ipairs(KEYS) do
  local l = tonumber(redis.call('HGET', k, 'l') or '0')
  if l > now and ARGV[4 * i + 3] == '0' then refused = true end
end
for i, k in ipairs(KEYS) do
  local limit, window = tonumber(ARGV[4 * i]), tonumber(ARGV[4 * i + 1])
  local h = redis.call('HMGET', k, 'f', 'w', 'l')
  local l = tonumber(h[3] or '0')
  if l > now then
    table.insert(out, 'L'); table.insert(out, string.format('%.17g', l))
  elseif refused then
    table.insert(out, 'S'); table.insert(out, '0')
  else
    local f, w = tonumber(h[1] or '0'), tonumber(h[2] or '0')
    if h[1] == false or w <= now - window then f, w = 1, now else f = f + 1 end
    local untl = 0
    if f >= limit then
      if ARGV[4 * i + 2] == '1' then
        untl = now + math.min(base * 2 ^ math.min(f - limit, 16), maxlock)
      else
        untl = w + window
      end
      l = untl
    end
    redis.call('HSET', k, 'f', f, 'w', string.format('%.17g', w), 'l', string.format('%.17g', l))
    redis.call('EXPIRE', k, math.ceil(math.max(w + window, l) - now) + 1)
    table.insert(out, 'T'); table.insert(out, string.format('%.17g', untl))
  end
end
if refused then table.insert(out, 1, 'refused') else table.insert(out, 1, 'ok') end
return out
"""

# KEYS: counters. ARGV per key: forget (1/0), our lock's end (or -1).
_RELEASE = """
for i, k in ipairs(KEYS) do
  if ARGV[2 * i - 1] == '1' then
    redis.call('DEL', k)
  elseif redis.call('EXISTS', k) == 1 then
    local f = tonumber(redis.call('HGET', k, 'f') or '0')
    redis.call('HSET', k, 'f', math.max(f - 1, 0))
    local ours = tonumber(ARGV[2 * i])
    if ours >= 0 and tonumber(redis.call('HGET', k, 'l') or '0') <= ours then
      redis.call('HSET', k, 'l', 0)
    end
  end
end
return 1
"""

# KEYS[1]: the challenge. ARGV: kind, binding, now, max attempts (-1: consume, no count),
# the prefix of the per-user sets.
_TAKE = """
local h = redis.call('HMGET', KEYS[1], 'kind', 'binding', 'expires_at', 'attempts')
if h[1] == false or h[1] ~= ARGV[1] or h[2] ~= ARGV[2] then return {'invalid'} end
local consume = ARGV[4] == '-1'
if not consume and tonumber(h[4]) >= tonumber(ARGV[4]) then return {'invalid'} end
if tonumber(h[3]) <= tonumber(ARGV[3]) then return {consume and 'invalid' or 'expired'} end
if consume then
  local row = redis.call('HGETALL', KEYS[1])
  local uid = redis.call('HGET', KEYS[1], 'user_id')
  if uid and uid ~= '' then redis.call('SREM', ARGV[5] .. uid .. ':' .. h[1], KEYS[1]) end
  redis.call('DEL', KEYS[1])
  return {'ok', unpack(row)}
end
redis.call('HINCRBY', KEYS[1], 'attempts', 1)
return {'ok', unpack(redis.call('HGETALL', KEYS[1]))}
"""

# KEYS[1]: the user's set of challenge keys of one kind.
_VOID = """
for _, k in ipairs(redis.call('SMEMBERS', KEYS[1])) do redis.call('DEL', k) end
redis.call('DEL', KEYS[1])
return 1
"""


@dataclass(frozen=True, slots=True)
class RedisThrottle(Throttle):
    """:class:`.Throttle` with its counters in Redis (hashes ``f`` count, ``w`` window start,
    ``l`` locked until)."""

    _redis: Redis
    _prefix: str

    async def reserve(self, keys: Sequence[str | None], *, silent: Sequence[str | None] = (),
                      session: AsyncSession | None = None) -> Reservation:
        """As the database's, but ``session`` is ignored: Redis counts at once, whatever the
        flow's transaction does later (it fails closed)."""
        quiet = {k for k in silent if k}
        wanted = sorted({k for k in keys if k} | quiet)
        now = self._clock()
        args: list[str | float] = [repr(now), self._settings.login_lockout_duration_seconds,
                              BASE_DELAY]
        for key in wanted:
            policy = self.policy(key)
            args += [policy.limit, policy.window, int(policy.escalate), int(key in quiet)]
        reply = await self._redis.eval(
            _RESERVE, len(wanted), *[self._prefix + k for k in wanted], *args)
        status, pairs = reply[0], reply[1:]
        counted: list[str] = []
        locked: dict[str, float] = {}
        locks: dict[str, float] = {}
        for key, taken, until in zip(wanted, pairs[::2], pairs[1::2], strict=True):
            if taken == "L":
                locked[key] = float(until) - now
                continue
            if taken == "S":
                continue
            counted.append(key)
            if float(until) > now:
                locks[key] = float(until)
        refused = [wait for key, wait in locked.items() if key not in quiet]
        if status == "refused":
            raise RateLimited(max(refused))
        return Reservation(tuple(counted), locked, locks)

    async def release(self, reservation: Reservation, session: AsyncSession | None = None
                      ) -> None:
        args: list[str | float] = []
        for key in reservation.keys:
            args += [int(self.policy(key).forget), repr(reservation.locks.get(key, -1.0))]
        if reservation.keys:
            await self._redis.eval(
                _RELEASE, len(reservation.keys),
                *[self._prefix + k for k in reservation.keys], *args)

    async def forget(self, keys: Iterable[str | None], session: AsyncSession | None = None) -> None:
        wanted = [self._prefix + k for k in keys if k]
        if wanted:
            await self._redis.delete(*wanted)


@dataclass(frozen=True, slots=True)
class RedisChallengeStore(ChallengeStore):
    """:class:`.ChallengeStore` with each challenge a Redis hash, plus a set per user and kind
    (for ``void_for_user``)."""

    _redis: Redis
    _prefix: str

    def _key(self, handle: str) -> str:
        return f"{self._prefix}ch:{digest(handle)}"

    def _user_key(self, user_id: str, kind: str) -> str:
        return f"{self._prefix}chu:{user_id}:{kind}"

    async def create(self, kind: str, *, user_id: str | None, ttl: float, binding: str = "",
                     data: dict[str, Any] | None = None, session: AsyncSession | None = None,
                     handle: str | None = None) -> Challenge:
        now = self._clock()
        handle = handle or random_token(32)
        row = AuthChallenge(id=digest(handle), kind=kind, user_id=user_id,
                            binding=digest(binding) if binding else "", data=dict(data or {}),
                            created_at=now, expires_at=now + ttl, attempts=0)
        keep = int(ttl) + GRACE
        async with self._redis.pipeline(transaction=True) as multi:
            multi.hset(self._key(handle), mapping={
                "kind": kind, "user_id": user_id or "", "binding": row.binding,
                "data": json.dumps(row.data), "created_at": repr(now),
                "expires_at": repr(row.expires_at), "attempts": 0})
            multi.expire(self._key(handle), keep)
            if user_id:
                multi.sadd(self._user_key(user_id, kind), self._key(handle))
                multi.expire(self._user_key(user_id, kind), keep, gt=True)
                multi.expire(self._user_key(user_id, kind), keep, nx=True)
            await multi.execute()
        return Challenge(handle, row)

    async def get(self, handle: str, kind: str, *, binding: str = "", max_attempts: int = 5,
                  session: AsyncSession | None = None) -> AuthChallenge:
        found = cast(dict[str, str], await self._redis.hgetall(self._key(handle)))
        if (not found or found["kind"] != kind or int(found["attempts"]) >= max_attempts
                or found["binding"] != (digest(binding) if binding else "")):
            raise TokenInvalid(INVALID)
        row = _row(handle, found)
        if row.expires_at <= self._clock():
            raise TokenExpired(EXPIRED)
        return row

    async def reserve_attempt(self, handle: str, kind: str, *, binding: str = "",
                              max_attempts: int = 5) -> AuthChallenge:
        return await self._take(handle, kind, binding, max_attempts)

    async def consume(self, handle: str, kind: str, *, binding: str = "",
                      session: AsyncSession | None = None) -> AuthChallenge:
        row = await self._take(handle, kind, binding, -1)
        row.consumed_at = self._clock()
        return row

    async def void_for_user(self, user_id: str, kind: str, session: AsyncSession | None = None
                            ) -> None:
        await self._redis.eval(_VOID, 1, self._user_key(user_id, kind))

    async def _take(self, handle: str, kind: str, binding: str, max_attempts: int
                    ) -> AuthChallenge:
        reply = await self._redis.eval(
            _TAKE, 1, self._key(handle), kind, digest(binding) if binding else "",
            repr(self._clock()), max_attempts, f"{self._prefix}chu:")
        if reply[0] == "expired":
            raise TokenExpired(EXPIRED)
        if reply[0] != "ok":
            raise TokenInvalid(INVALID)
        return _row(handle, dict(zip(reply[1::2], reply[2::2], strict=True)))


def _row(handle: str, found: dict[str, str]) -> AuthChallenge:
    """A detached AuthChallenge holding what Redis stored."""
    return AuthChallenge(id=digest(handle), kind=found["kind"], user_id=found["user_id"] or None,
                         binding=found["binding"], data=json.loads(found["data"]),
                         created_at=float(found["created_at"]),
                         expires_at=float(found["expires_at"]),
                         attempts=int(found["attempts"]), consumed_at=None)

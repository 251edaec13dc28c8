"""Password policy (checked before hashing) and peppered bcrypt hashing off the event loop."""

from __future__ import annotations

import asyncio
import base64
import functools
import gzip
import hashlib
import hmac
import importlib.resources
import os
import re
import string
import threading
import unicodedata
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import TypeVar

import bcrypt

from quart_authtuna.core.errors import PasswordRejected
from quart_authtuna.core.settings import Settings
from quart_authtuna.core.types import FieldError

from ..i18n import gettext

PARAM = "password"
DEFAULT_ROUNDS = 12
_HASH_RE = re.compile(r"^\$2[aby]\$(\d{2})\$[./A-Za-z0-9]{53}$")
_TRAILING = string.digits + string.punctuation + " "
_DUMMY_SECRET = b"quart-authtuna dummy password for constant-cost verification"


def normalize(password: str) -> str:
    """NFKC-normalise a password; used identically when setting and when verifying."""
    return unicodedata.normalize("NFKC", password)


def _utf8(text: str) -> bytes:
    # surrogatepass: a lone surrogate never raises here; it just hashes as its own bytes.
    return text.encode("utf-8", "surrogatepass")


def _key(pepper: str | bytes) -> bytes:
    return pepper if isinstance(pepper, bytes) else _utf8(pepper)


@functools.cache
def common_passwords() -> frozenset[str]:
    """The bundled common-password list (lower-case), loaded once per process."""
    resource = importlib.resources.files("quart_authtuna.core.crypto") / "data"
    raw = gzip.decompress((resource / "common-passwords.txt.gz").read_bytes())
    return frozenset(
        line.strip() for line in raw.decode("utf-8").splitlines() if line.strip()
    )


def _is_repetition(text: str) -> bool:
    """One character, or one unit of at most three characters, repeated throughout."""
    for size in range(1, 4):
        unit = text[:size]
        if len(text) > size and (unit * (len(text) // size + 1))[: len(text)] == text:
            return True
    return False


def _is_common(folded: str) -> bool:
    words = common_passwords()
    if folded in words or _is_repetition(folded):
        return True
    base = folded.rstrip(_TRAILING)
    return base != folded and len(base) >= 4 and base in words


@dataclass(frozen=True, slots=True)
class PasswordPolicy:
    """Length, common-password and similarity rules; no composition rules."""

    min_length: int = 12
    max_length: int = 1024

    @classmethod
    def from_settings(cls, settings: Settings) -> PasswordPolicy:
        return cls(settings.password_min_length, settings.password_max_length)

    def check(
        self, password: str, *, username: str | None = None, email: str | None = None
    ) -> list[FieldError]:
        """Every rule the password breaks (empty when accepted); never hashes anything."""
        too_long = FieldError(
            "too_long",
            gettext("Password must be at most %(n)s characters.") % {"n": self.max_length}, PARAM
        )
        byte_limit = 4 * self.max_length
        # Cheap bounds first: never normalise or scan an oversized input.
        if len(password) > byte_limit or len(_utf8(password)) > byte_limit:
            return [too_long]
        text = normalize(password)
        if len(text) > self.max_length:
            return [too_long]
        errors: list[FieldError] = []
        if len(text) < self.min_length:
            errors.append(FieldError(
                "too_short",
                gettext("Password must be at least %(n)s characters.") % {"n": self.min_length},
                PARAM))
        folded = text.casefold()
        if folded and _is_common(folded):
            errors.append(FieldError(
                "too_common",
                gettext("This password is too common. Choose something less predictable."),
                PARAM))
        if _is_similar(folded, username, email):
            errors.append(FieldError(
                "too_similar",
                gettext("Password is too similar to your username or email address."),
                PARAM))
        return errors

    def enforce(
        self, password: str, *, username: str | None = None, email: str | None = None
    ) -> None:
        """Raise PasswordRejected listing every broken rule."""
        errors = self.check(password, username=username, email=email)
        if errors:
            raise PasswordRejected(errors)


def _is_similar(folded: str, username: str | None, email: str | None) -> bool:
    if not folded:
        return False
    name = normalize(username or "").casefold().strip()
    if len(name) >= 3 and name in folded:
        return True
    address = normalize(email or "").casefold().strip()
    if not address:
        return False
    local = address.rpartition("@")[0] if "@" in address else address
    return folded == address or (len(local) >= 3 and local in folded)


# ---- hashing ---------------------------------------------------------------------------


def _prehash(password: str, pepper: str | bytes) -> bytes:
    """Base64 HMAC-SHA384 of the normalised password: 64 bytes, under bcrypt's 72-byte limit."""
    digest = hmac.new(_key(pepper), _utf8(normalize(password)), hashlib.sha384).digest()
    return base64.b64encode(digest)


@functools.cache
def _dummy_hash(rounds: int) -> bytes:
    return bcrypt.hashpw(_DUMMY_SECRET, bcrypt.gensalt(rounds))


def hash_password_blocking(password: str, pepper: str | bytes, rounds: int = DEFAULT_ROUNDS) -> str:
    """bcrypt hash of the peppered pre-hash (blocking: run it in a worker thread)."""
    return bcrypt.hashpw(_prehash(password, pepper), bcrypt.gensalt(rounds)).decode("ascii")


def verify_password_blocking(
    password: str,
    stored_hash: str | None,
    pepper: str | bytes,
    dummy_hash: bytes | None = None,
) -> bool:
    """Constant-time check; False (never an exception) for a missing or malformed hash.

    A missing or malformed hash is still checked against a dummy hash, so it costs about
    as much as a real verification.
    """
    prehash = _prehash(password, pepper)
    rounds = hash_rounds(stored_hash) if stored_hash is not None else None
    if stored_hash is None or rounds is None:
        bcrypt.checkpw(prehash, dummy_hash or _dummy_hash(DEFAULT_ROUNDS))
        return False
    try:
        return bcrypt.checkpw(prehash, stored_hash.encode("ascii"))
    except (ValueError, TypeError):
        return False


def hash_rounds(stored_hash: str | None) -> int | None:
    """The cost of a ``$2b$12$...`` bcrypt hash, or None if it is not one."""
    if not isinstance(stored_hash, str):
        return None
    match = _HASH_RE.match(stored_hash)
    return int(match.group(1)) if match else None


def constant_time_equals(a: str | bytes, b: str | bytes) -> bool:
    """Compare two secrets in time independent of where they differ."""
    left = _utf8(a) if isinstance(a, str) else a
    right = _utf8(b) if isinstance(b, str) else b
    return hmac.compare_digest(left, right)


T = TypeVar("T")
_pool: ThreadPoolExecutor | None = None
_pool_lock = threading.Lock()


def hashing_threads() -> int:
    """How many bcrypt computations may run at once: every CPU this process may use but one.

    bcrypt keeps a core busy for its whole cost. With Python's default executor (CPUs + 4
    threads) a burst of logins takes every core, and unrelated requests wait for CPU time;
    leaving one core to the event loop keeps their latency flat, while logins queue.
    """
    try:
        cpus = len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        cpus = os.cpu_count() or 1
    return max(1, cpus - 1)


def _hashing_pool() -> ThreadPoolExecutor:
    global _pool
    with _pool_lock:
        if _pool is None:
            _pool = ThreadPoolExecutor(hashing_threads(), thread_name_prefix="authtuna-bcrypt")
        return _pool


async def _off_loop(func: Callable[..., T], *args: object) -> T:
    """Run blocking bcrypt work in the bounded hashing pool."""
    return await asyncio.get_running_loop().run_in_executor(
        _hashing_pool(), functools.partial(func, *args))


class PasswordHasher:
    """Peppered bcrypt hashing whose blocking work always runs in a worker thread.

    The threads are a process-wide pool of :func:`hashing_threads` workers, so logins never
    take every CPU from the event loop.
    """

    constant_time_equals = staticmethod(constant_time_equals)

    def __init__(self, settings: Settings) -> None:
        if settings.password_pepper is None:
            raise ValueError("password_pepper is required")
        self._pepper = _utf8(settings.password_pepper.reveal())
        self.rounds = settings.bcrypt_rounds
        self.policy = PasswordPolicy.from_settings(settings)
        self._dummy: bytes | None = None

    async def hash(self, password: str) -> str:
        return await _off_loop(hash_password_blocking, password, self._pepper, self.rounds)

    async def verify(self, password: str, stored_hash: str | None) -> bool:
        if hash_rounds(stored_hash) is None:
            await self.dummy_verify(password)
            return False
        return await _off_loop(verify_password_blocking, password, stored_hash, self._pepper)

    def needs_rehash(self, stored_hash: str | None) -> bool:
        """True when the hash was made with a different cost (or is not a bcrypt hash)."""
        return hash_rounds(stored_hash) != self.rounds

    async def dummy_verify(self, password: str) -> None:
        """Spend one verification's worth of time, e.g. for an unknown user."""
        if self._dummy is None:
            self._dummy = await _off_loop(_dummy_hash, self.rounds)
        await _off_loop(verify_password_blocking, password, None, self._pepper, self._dummy)

    def hmac_digest(self, value: str) -> str:
        """Hex HMAC-SHA256 of ``value`` under the pepper (API keys, recovery codes)."""
        return hmac.new(self._pepper, _utf8(value), hashlib.sha256).hexdigest()

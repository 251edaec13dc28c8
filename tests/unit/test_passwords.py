"""Unit tests for the password policy and peppered bcrypt hashing (no database, no Quart)."""

from __future__ import annotations

import asyncio
import hashlib
import time
import unicodedata

import pytest

from quart_authtuna.core.crypto import passwords
from quart_authtuna.core.crypto.passwords import (
    PasswordHasher,
    PasswordPolicy,
    constant_time_equals,
    hash_password_blocking,
    hash_rounds,
    normalize,
    verify_password_blocking,
)
from quart_authtuna.core.errors import PasswordRejected
from quart_authtuna.core.settings import Settings

PEPPER = "x" * 40


def make_settings(**overrides: object) -> Settings:
    return Settings.from_sources(
        overrides={"PASSWORD_PEPPER": PEPPER, "BCRYPT_ROUNDS": 4, **overrides}
    )


@pytest.fixture
def hasher() -> PasswordHasher:
    return PasswordHasher(make_settings())


@pytest.fixture
def policy() -> PasswordPolicy:
    return PasswordPolicy.from_settings(make_settings())


def codes(policy: PasswordPolicy, password: str, **kw: str) -> list[str]:
    return [e.code for e in policy.check(password, **kw)]


# ---- hashing ---------------------------------------------------------------------------


async def test_long_passwords_differ_beyond_72_bytes(hasher: PasswordHasher) -> None:
    first, second = "k" * 72 + "A" * 28, "k" * 72 + "B" * 28
    assert len(first.encode()) == len(second.encode()) == 100
    stored = await hasher.hash(first)
    assert await hasher.verify(first, stored)
    assert not await hasher.verify(second, stored)


async def test_multibyte_character_straddling_byte_72(hasher: PasswordHasher) -> None:
    password = "k" * 71 + "é" + "tail"  # é occupies bytes 72 and 73
    assert password.encode()[70:74] == b"k\xc3\xa9t"
    stored = await hasher.hash(password)
    assert await hasher.verify(password, stored)
    assert not await hasher.verify("k" * 71 + "è" + "tail", stored)
    assert not await hasher.verify("k" * 71, stored)


async def test_nfc_and_nfd_forms_verify(hasher: PasswordHasher) -> None:
    nfc = "caf\u00e9-tuna-river"
    nfd = unicodedata.normalize("NFD", nfc)
    assert nfc != nfd
    assert normalize(nfc) == normalize(nfd)
    assert await hasher.verify(nfd, await hasher.hash(nfc))


async def test_emoji_password_round_trips(hasher: PasswordHasher) -> None:
    password = "🐟🔐 tuna in the 🌊 sea"
    stored = await hasher.hash(password)
    assert await hasher.verify(password, stored)
    assert not await hasher.verify("🐟🔐 tuna in the 🌊 lake", stored)


def test_wrong_pepper_does_not_verify() -> None:
    stored = hash_password_blocking("a fine long passphrase", "A" * 40, 4)
    assert verify_password_blocking("a fine long passphrase", stored, "A" * 40)
    assert not verify_password_blocking("a fine long passphrase", stored, "B" * 40)


async def test_none_and_malformed_hashes_return_false(hasher: PasswordHasher) -> None:
    assert await hasher.verify("anything at all", None) is False
    assert await hasher.verify("anything at all", "not-a-hash") is False
    assert await hasher.verify("anything at all", "$2b$04$" + "!" * 53) is False
    assert verify_password_blocking("x", None, PEPPER, passwords._dummy_hash(4)) is False
    assert verify_password_blocking("x", "garbage", PEPPER, passwords._dummy_hash(4)) is False
    assert await hasher.dummy_verify("anything at all") is None


def test_hash_rounds_and_needs_rehash() -> None:
    stored = hash_password_blocking("a fine long passphrase", PEPPER, 4)
    assert stored.startswith("$2b$04$")
    assert hash_rounds(stored) == 4
    assert hash_rounds("$2b$12$" + "a" * 53) == 12
    assert hash_rounds("nope") is None
    assert hash_rounds(None) is None
    assert PasswordHasher(make_settings(BCRYPT_ROUNDS=5)).needs_rehash(stored)
    assert not PasswordHasher(make_settings(BCRYPT_ROUNDS=4)).needs_rehash(stored)


def test_pepper_is_required() -> None:
    with pytest.raises(ValueError, match="password_pepper is required"):
        PasswordHasher(Settings.from_sources(overrides={"BCRYPT_ROUNDS": 4}))


def test_hmac_digest_and_constant_time_equals(hasher: PasswordHasher) -> None:
    digest = hasher.hmac_digest("sk_live_abc")
    assert len(digest) == 64 and digest == hasher.hmac_digest("sk_live_abc")
    assert digest != hasher.hmac_digest("sk_live_abd")
    other = PasswordHasher(make_settings(PASSWORD_PEPPER="y" * 40))
    assert digest != other.hmac_digest("sk_live_abc")
    assert constant_time_equals(digest, hasher.hmac_digest("sk_live_abc"))
    assert not constant_time_equals("é", "e")
    assert hasher.constant_time_equals(b"abc", b"abc")


# ---- policy ----------------------------------------------------------------------------


@pytest.mark.parametrize("password", ["Zq8!vT3", "Zq8!vT3#pLm"])
def test_short_passwords_rejected(policy: PasswordPolicy, password: str) -> None:
    assert "too_short" in codes(policy, password)
    with pytest.raises(PasswordRejected) as info:
        policy.enforce(password)
    assert info.value.errors[0].message == "Password must be at least 12 characters."
    assert info.value.errors[0].param == "password"


def test_accepted_lengths(policy: PasswordPolicy) -> None:
    assert policy.check("Zq8!vT3#pLmw") == []
    assert policy.check(hashlib.sha256(b"seed").hexdigest()) == []  # 64 characters
    assert policy.check(hashlib.sha512(b"seed").hexdigest()) == []  # 128 characters
    policy.enforce("Zq8!vT3#pLmw")


def test_too_long_rejected(policy: PasswordPolicy) -> None:
    password = (hashlib.sha512(b"seed").hexdigest() * 9)[:1025]
    assert codes(policy, password) == ["too_long"]


def test_megabyte_password_rejected_without_hashing(policy: PasswordPolicy) -> None:
    huge = "z" * 1_000_000
    start = time.perf_counter()
    assert codes(policy, huge) == ["too_long"]
    check_time = time.perf_counter() - start
    start = time.perf_counter()
    hash_password_blocking("Zq8!vT3#pLmw", PEPPER, 12)
    hash_time = time.perf_counter() - start
    assert check_time < hash_time / 10


def test_multibyte_bytes_bound(policy: PasswordPolicy) -> None:
    assert codes(policy, "🐟" * 1025) == ["too_long"]  # 4100 bytes > 4 * 1024
    assert codes(policy, "🐟" * 1000) == ["too_common"]  # one repeated character


@pytest.mark.parametrize(
    "password",
    ["password1234", "qwertyuiop12", "Password1234!", "aaaaaaaaaaaaaaaa", "abcabcabcabcabc"],
)
def test_common_passwords_rejected(policy: PasswordPolicy, password: str) -> None:
    assert codes(policy, password) == ["too_common"]


def test_passphrase_without_digits_or_symbols_accepted(policy: PasswordPolicy) -> None:
    assert policy.check("correct horse battery staple") == []


def test_common_list_loaded_once() -> None:
    words = passwords.common_passwords()
    assert isinstance(words, frozenset) and len(words) > 19_000
    assert passwords.common_passwords() is words


def test_similar_to_email_or_username(policy: PasswordPolicy) -> None:
    email = "hello@example.com"
    assert codes(policy, "hello@example.com12345", email=email) == ["too_similar"]
    assert "too_similar" in codes(policy, "HELLO@example.com", email=email)
    assert codes(policy, "my Tunafan river song", username="tunafan") == ["too_similar"]
    assert policy.check("my Tunafan river song", username="tu", email="ab@x.io") == []


# ---- event loop ------------------------------------------------------------------------


@pytest.mark.slow
async def test_event_loop_stays_responsive_at_real_cost() -> None:
    settings = Settings.from_sources(overrides={"PASSWORD_PEPPER": PEPPER})
    assert settings.bcrypt_rounds == 12
    start = time.perf_counter()
    hash_password_blocking("Zq8!vT3#pLmw", PEPPER, 12)
    one_hash = time.perf_counter() - start

    hasher = PasswordHasher(settings)
    done = asyncio.Event()
    gaps: list[float] = []

    async def ticker() -> None:
        last = time.perf_counter()
        while not done.is_set():
            await asyncio.sleep(0.01)
            now = time.perf_counter()
            gaps.append(now - last)
            last = now

    tick = asyncio.create_task(ticker())
    await asyncio.sleep(0)
    try:
        hashes = await asyncio.gather(*(hasher.hash(f"passphrase {i}") for i in range(10)))
    finally:
        done.set()
        await tick
    assert len(set(hashes)) == 10 and all(hash_rounds(h) == 12 for h in hashes)
    assert gaps and max(gaps) < one_hash / 2, (max(gaps), one_hash)

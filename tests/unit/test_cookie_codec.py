"""CookieCodec: a signed JWT around a Fernet-encrypted payload, with key fallback and a memo."""

from __future__ import annotations

import json
import time
import warnings
from typing import Any

import jwt
import pytest
from cryptography.fernet import Fernet
from jwt.warnings import InsecureKeyLengthWarning

from quart_authtuna.core import Settings
from quart_authtuna.core.crypto.cookie_codec import CookieCodec
from quart_authtuna.core.crypto.fernet import Encryptor
from tests.conftest import TEST_SETTINGS

K1 = TEST_SETTINGS["JWT_SECRET_KEY"]
K2 = "second-jwt-secret-" + "k" * 40
NOW = 1_800_000_000.0
CLAIMS = {"sid": "raw-session-id", "uid": "user-1", "rs": "random", "chk": NOW}


def codec(**overrides: Any) -> CookieCodec:
    settings = Settings.from_sources(overrides={**TEST_SETTINGS, **overrides}).checked()
    return CookieCodec(settings, Encryptor(settings))


def outer(token: str) -> dict[str, Any]:
    return jwt.decode(token, options={"verify_signature": False, "verify_exp": False})


def test_round_trip() -> None:
    c = codec()
    token = c.encode(CLAIMS, NOW + 60)
    claims = c.decode(token, NOW)
    assert claims is not None
    assert {k: claims[k] for k in CLAIMS} == CLAIMS
    assert claims["_exp"] == NOW + 60
    assert set(outer(token)) == {"session", "exp"}
    assert jwt.get_unverified_header(token)["alg"] == "HS256"


def test_a_fresh_codec_decodes_too() -> None:
    """Nothing but the keys is needed: another process (no memo) reads the same cookie."""
    token = codec().encode(CLAIMS, NOW + 60)
    assert codec().decode(token, NOW)["uid"] == "user-1"  # type: ignore[index]


def test_expiry() -> None:
    c = codec()
    token = c.encode(CLAIMS, NOW + 60)
    assert codec().decode(token, NOW + 60) is None
    assert codec().decode(token, NOW + 59.5) is not None
    # The memo forgets an entry once it has expired.
    assert c.decode(token, NOW) is not None
    assert c.decode(token, NOW + 61) is None
    assert c.decode(token, NOW) is not None  # decoded again (the clock went back)


def test_other_signing_key_is_refused() -> None:
    token = codec(JWT_SECRET_KEY=K2).encode(CLAIMS, NOW + 60)
    assert codec().decode(token, NOW) is None


def test_fallback_key_verifies_and_new_cookies_use_the_primary() -> None:
    old = codec().encode(CLAIMS, NOW + 60)
    rotated = codec(JWT_SECRET_KEY=K2, JWT_FALLBACK_SECRET_KEYS=[K1])
    assert rotated.decode(old, NOW) is not None
    new = rotated.encode(CLAIMS, NOW + 60)
    jwt.decode(new, K2, algorithms=["HS256"])
    assert codec().decode(new, NOW) is None  # K1 alone cannot read K2 cookies
    assert codec(JWT_SECRET_KEY=K2).decode(old, NOW) is None  # without the fallback


def test_other_fernet_key_is_refused_and_multifernet_reads_old() -> None:
    [old_key] = TEST_SETTINGS["FERNET_KEYS"]
    new_key = Fernet.generate_key().decode()
    token = codec().encode(CLAIMS, NOW + 60)
    assert codec(FERNET_KEYS=[new_key]).decode(token, NOW) is None
    assert codec(FERNET_KEYS=[new_key, old_key]).decode(token, NOW) is not None


@pytest.mark.parametrize("algorithm", ["none", "HS384", "HS512"])
def test_other_algorithms_are_refused(algorithm: str) -> None:
    token = codec().encode(CLAIMS, NOW + 60)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", InsecureKeyLengthWarning)
        forged = jwt.encode(outer(token), None if algorithm == "none" else K1,
                            algorithm=algorithm)
    assert codec().decode(forged, NOW) is None


def test_configured_algorithm_is_the_only_one() -> None:
    c = codec(ALGORITHM="HS384", JWT_SECRET_KEY="k" * 64)
    token = c.encode(CLAIMS, NOW + 60)
    assert jwt.get_unverified_header(token)["alg"] == "HS384"
    assert codec(ALGORITHM="HS384", JWT_SECRET_KEY="k" * 64).decode(token, NOW) is not None
    assert codec(JWT_SECRET_KEY="k" * 64).decode(token, NOW) is None  # HS256 codec


@pytest.mark.parametrize("cut", [1, 10, 0.5])
def test_truncated_is_refused(cut: float) -> None:
    token = codec().encode(CLAIMS, NOW + 60)
    size = int(len(token) * cut) if isinstance(cut, float) else len(token) - cut
    assert codec().decode(token[:size], NOW) is None


@pytest.mark.parametrize("value", ["", "x", "a.b.c", "..", "eyJhbGciOiJIUzI1NiJ9..", "ä.ö.ü"])
def test_garbage_is_refused(value: str) -> None:
    assert codec().decode(value, NOW) is None


def test_valid_signature_over_bad_payloads_is_refused() -> None:
    """A correctly signed JWT whose inner part is missing, not Fernet, or not a dict."""
    c = codec()
    fernet = Fernet(TEST_SETTINGS["FERNET_KEYS"][0].encode())
    bad_payloads: list[dict[str, Any]] = [
        {"exp": int(NOW + 60)},
        {"session": "not-a-fernet-token", "exp": int(NOW + 60)},
        {"session": 42, "exp": int(NOW + 60)},
        {"session": fernet.encrypt(b"[1, 2]").decode(), "exp": int(NOW + 60)},
        {"session": fernet.encrypt(b"not json").decode(), "exp": int(NOW + 60)},
        {"session": fernet.encrypt(json.dumps(CLAIMS).encode()).decode()},
    ]
    for payload in bad_payloads:
        assert c.decode(jwt.encode(payload, K1, algorithm="HS256"), NOW) is None, payload


def test_oversized_is_refused() -> None:
    c = codec()
    token = c.encode({**CLAIMS, "pad": "p" * 3500}, NOW + 60)
    assert len(token) > 4096
    assert c.decode(token, NOW) is None
    small = c.encode({**CLAIMS, "pad": "p" * 100}, NOW + 60)
    assert len(small) <= 4096 and c.decode(small, NOW) is not None


def test_memo_returns_the_same_claims_without_decoding_again() -> None:
    c = codec()
    token = c.encode(CLAIMS, NOW + 60)
    first = c.decode(token, NOW)
    assert first is not None
    assert c.decode(token, NOW) is first  # the very same object: no second decode
    rounds = 200
    start = time.perf_counter()
    for _ in range(rounds):
        codec_without_memo = c._decode(token, NOW)  # noqa: SLF001 - the uncached path
    uncached = time.perf_counter() - start
    start = time.perf_counter()
    for _ in range(rounds):
        c.decode(token, NOW)
    cached = time.perf_counter() - start
    assert codec_without_memo is not None
    assert cached * 5 < uncached, (cached, uncached)


def test_memo_follows_the_session_cache_size() -> None:
    c = codec(SESSION_CACHE_SIZE=100)
    first = c.encode(CLAIMS, NOW + 60)
    claims = c.decode(first, NOW)
    for n in range(99):  # the cache size, with ``first``: all still memoised
        c.decode(c.encode({**CLAIMS, "n": n}, NOW + 60), NOW)
    assert c.decode(first, NOW) is claims
    tokens = [c.encode({**CLAIMS, "n": n}, NOW + 60) for n in range(100, 201)]
    for token in tokens:
        c.decode(token, NOW)
    again = c.decode(first, NOW)
    assert again is not None and again is not claims  # evicted, decoded afresh

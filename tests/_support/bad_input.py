"""The bad-input classes of security-checklist.md §2.3 as HTTP probes, and a state snapshot.

A :class:`Probe` is one request shape (values for every field of every authtuna form, a raw
body, headers, cookies or a query string). ``walk`` in the tests sends each one to every
route and method of the authtuna blueprints. Classes 11 (OAuth callbacks) has no route yet;
class 20 (concurrency) is a burst of parallel copies, sent by the test.
"""

from __future__ import annotations

import base64
import hashlib
import json
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote, urlencode

from sqlalchemy import func, select

from quart_authtuna.core import AuthService
from quart_authtuna.core.db.base import Base
from quart_authtuna.core.db.models import User, UserSession

#: Every field name an authtuna form or JSON body reads.
FIELDS = ("username_or_email", "password", "username", "email", "token", "new_password",
          "current_password", "code", "mfa_token", "next", "nickname")
#: Bookkeeping a refused attempt may legitimately write (failure counters, audit rows,
#: WebAuthn ceremony challenges); every other table must keep its row count.
BOOKKEEPING = frozenset({"throttle_counters", "audit_events", "auth_challenges"})


@dataclass(frozen=True)
class Probe:
    """One request shape; ``fields`` are encoded as ``encoding`` with a valid CSRF token."""

    klass: int
    name: str
    fields: Any = None
    encoding: str = "json"  # json, form, multipart or raw
    body: bytes = b""
    content_type: str | None = None
    headers: tuple[tuple[str, str], ...] = ()
    cookies: str | None = None  # replaces the client's Cookie header
    query: str = ""
    path_value: str | None = None  # for <credential_id> and <path:filename>

    @property
    def label(self) -> str:
        return f"§2.3.{self.klass} {self.name} ({self.encoding})"


# Values put into every field at once (each class with a few representative members).
VALUES: list[tuple[int, str, Any]] = [
    (1, "empty", ""), (1, "whitespace", "   \t "), (1, "nul", "pass\x00word1234567"),
    (1, "72 bytes", "a" * 72), (1, "73 bytes", "a" * 73),
    (1, "multibyte at 72", "a" * 71 + "é" + "b"), (1, "rtl override", "abc\u202eexe.gpj1234"),
    (1, "zero width", "pa\u200dss\u200bword123456"), (1, "over max length", "p" * 5000),
    (2, "dotless i", "mıke@example.org"), (2, "kelvin", "\u212aate@example.org"),
    (2, "eszett", "straße"), (2, "fullwidth", "ｍｉｋｅ@example.org"),
    (2, "nfd", "e\u0301lodie@example.org"), (2, "cyrillic", "аlice"),
    (2, "plus tag", "mike+tag@example.org"), (2, "quoted", '"mi ke"@example.org'),
    (2, "idn", "mike@bücher.example"), (2, "upper domain", "mike@EXAMPLE.ORG"),
    (2, "trailing dot", "mike@example.org."),
    (3, "arabic digits", "١٢٣٤٥٦"), (3, "fullwidth digits", "１２３４５６"),
    (3, "spaces", " 123456 "), (3, "underscore", "12_3456"), (3, "five", "12345"),
    (3, "seven", "1234567"), (3, "plus", "+123456"), (3, "zeros", "000000"),
    (4, "or true", "' OR '1'='1"), (4, "comment", "admin'--"),
    (4, "drop", '"; DROP TABLE users;--'), (4, "like wildcards", "%_%"),
    (5, "array", ["x"]), (5, "object", {"$ne": None}), (5, "null", None), (5, "true", True),
    (5, "number", 123456), (5, "float", 1e308), (5, "negative", -1),
    (9, "truncated token", "AbCdEf"), (9, "token with space", "tok-en value "),
    (12, "protocol relative", "//evil.example/phish"), (12, "backslash", "/\\evil.example"),
    (12, "scheme only", "https:evil.example"), (12, "tab", "\t//evil.example"),
    (12, "javascript", "javascript:alert(1)"), (12, "crlf", "/x\r\nLocation: https://evil"),
    (13, "traversal", "../../etc/passwd"), (13, "encoded traversal", "..%2f..%2fetc%2fpasswd"),
    (13, "ssti", "{{7*7}}{{config}}"), (13, "jinja block", "{% for x in range(9**9) %}"),
    (14, "mail header", "a@b.example\r\nBcc: x@evil.example"),
    (16, "mass assignment", "admin"),
    (17, "script", "<script>alert(1)</script>"), (17, "attribute", '"><img src=x onerror=1>'),
    (18, "newline", "alice\n2026-01-01 INFO forged"), (18, "ansi", "alice\x1b[31mred"),
    (19, "redos email", "a" * 15000 + "@"), (19, "redos dots", "a." * 7000 + "@x"),
]
#: Fields sent in the ReDoS class (each long value in every field would exceed the limit).
_REDOS_FIELDS = ("username_or_email", "username", "email")
_EXTRA = {"is_admin": "true", "roles": "Admin", "email_verified": "true", "id": "1",
          "created_at": "0", "scope_id": "global", "mfa_enabled": "false"}
_WEBAUTHN = [
    {"id": "AAAA", "rawId": "!!notbase64!!", "type": "public-key",
     "response": {"clientDataJSON": "A" * 20000, "authenticatorData": "%%%",
                  "signature": "", "userHandle": None}},
    {"id": None, "rawId": 5, "type": "other", "response": []},
    {"id": "AAAA", "rawId": "AAAA", "type": "public-key",
     "response": {"clientDataJSON": base64.urlsafe_b64encode(b'{"type":"webauthn.get",'
                                                              b'"challenge":"x","origin":'
                                                              b'"https://evil.example"}').decode(),
                  "authenticatorData": "AAAA", "signature": "AAAA",
                  "attestationObject": "v2NmbXRkbm9uZQ"}},
]


def _fields(value: Any, klass: int) -> dict[str, Any]:
    names = _REDOS_FIELDS if klass == 19 else FIELDS
    data = {name: value for name in names}
    if klass == 16:
        data.update(_EXTRA)
    return data


def value_probes() -> list[Probe]:
    """Each value as JSON and as a form post; forms only carry strings."""
    probes: list[Probe] = []
    for klass, name, value in VALUES:
        probes.append(Probe(klass, name, _fields(value, klass), "json"))
        if isinstance(value, str):
            probes.append(Probe(klass, name, _fields(value, klass), "form"))
    for klass, name, value in VALUES[:9:2] + VALUES[-6::2]:
        if isinstance(value, str):
            probes.append(Probe(klass, name, _fields(value, klass), "multipart"))
    for index, credential in enumerate(_WEBAUTHN):
        probes.append(Probe(10, f"credential {index}", {"credential": credential,
                                                       "nickname": "x" * 300}, "json"))
    return probes


def _raw(klass: int, name: str, body: bytes, content_type: str | None) -> Probe:
    return Probe(klass, name, encoding="raw", body=body, content_type=content_type)


JSON_TYPE = "application/json"
FORM_TYPE = "application/x-www-form-urlencoded"


def raw_probes() -> list[Probe]:
    """Bodies no serialiser would produce."""
    many_parts = "&".join(f"f{i}=x" for i in range(1100)).encode()
    return [
        _raw(1, "invalid utf-8 json", b'{"password": "\xff\xfe\xed\xa0\x80"}', JSON_TYPE),
        _raw(1, "lone surrogate json", b'{"password": "\\ud800", "username": "\\udfff"}',
             JSON_TYPE),
        _raw(1, "nul escape json", b'{"username_or_email": "a\\u0000b", "password": "x"}',
             JSON_TYPE),
        _raw(1, "surrogate form", b"password=%ED%A0%80&username=%C0%AF", FORM_TYPE),
        _raw(1, "nul form", b"username_or_email=a%00b&password=x%00y", FORM_TYPE),
        _raw(5, "deep nesting", b"[" * 50000, JSON_TYPE),
        _raw(5, "deep objects", b'{"a":' * 20000, JSON_TYPE),
        _raw(5, "nan", b'{"password": NaN, "code": Infinity}', JSON_TYPE),
        _raw(5, "huge integer", b'{"code": ' + b"9" * 6000 + b"}", JSON_TYPE),
        _raw(5, "duplicate keys", b'{"password": "a", "password": ["b"], "code": "1"}',
             JSON_TYPE),
        _raw(5, "top-level array", b'["password", "code"]', JSON_TYPE),
        _raw(5, "truncated json", b'{"password": "abc', JSON_TYPE),
        _raw(5, "json as text/plain", b'{"password": "abc"}', "text/plain"),
        _raw(5, "json with charset", b'{"code": "1"}', "application/json; charset=latin-1"),
        _raw(6, "over the body limit", b"a=" + b"x" * (100 * 1024), FORM_TYPE),
        _raw(6, "too many form parts", many_parts, FORM_TYPE),
        _raw(6, "multipart without boundary", b"--x\r\n\r\n", "multipart/form-data"),
        _raw(6, "broken multipart", b"--x\r\nContent-Disposition: form-data\r\n\r\nv",
             "multipart/form-data; boundary=x"),
        _raw(6, "no content type", b"password=x", None),
        _raw(6, "unknown content type", b"\x00\x01\x02", "application/octet-stream"),
    ]


def header_probes() -> list[Probe]:
    """Headers (class 6 sizes, 14 injection, 15 method override and origins)."""
    def probe(klass: int, name: str, *headers: tuple[str, str], fields: Any = None) -> Probe:
        return Probe(klass, name, fields if fields is not None else {"code": "1"}, "json",
                     headers=headers)

    return [
        probe(6, "64 KiB header", ("X-Padding", "p" * 65536)),
        probe(6, "long accept-language", ("Accept-Language", "en;q=0.9," * 2000)),
        probe(14, "poisoned host", ("Host", "evil.example"),
              ("X-Forwarded-Host", "evil.example")),
        probe(14, "spoofed forwarded-for", ("X-Forwarded-For", "1.2.3.4, 10.0.0.1")),
        probe(15, "method override", ("X-HTTP-Method-Override", "DELETE")),
        probe(15, "origin null", ("Origin", "null")),
        probe(15, "cross-site fetch", ("Sec-Fetch-Site", "cross-site")),
        probe(15, "evil origin", ("Origin", "https://evil.example")),
        probe(18, "log injection in user agent", ("User-Agent", "x\x1b[2J\tforged")),
        probe(6, "gzip body claimed", ("Content-Encoding", "gzip")),
    ]


def _signed_garbage() -> str:
    header = base64.urlsafe_b64encode(b'{"alg":"none","typ":"JWT"}').rstrip(b"=").decode()
    payload = base64.urlsafe_b64encode(b'{"sub":"1","sid":"x"}').rstrip(b"=").decode()
    return f"{header}.{payload}."


def cookie_probes(session_name: str, valid_session: str | None) -> list[Probe]:
    """Class 7 (cookies) and 8 (self-contained tokens) for every cookie authtuna reads."""
    real = valid_session or "eyJhbGciOiJIUzI1NiJ9.e30.c2ln"
    flipped = real[:-3] + ("A" if real[-3] != "A" else "B") + real[-2:]
    forged = "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxIn0." + base64.urlsafe_b64encode(
        hashlib.sha256(b"other key").digest()).rstrip(b"=").decode()
    values = {"empty": "", "random": base64.b64encode(b"\x01" * 48).decode(),
              "truncated": real[: len(real) // 2], "bit flipped": flipped,
              "alg none": _signed_garbage(), "other key": forged, "huge": "x" * 5000}
    probes = [Probe(7, f"session {name}", {"code": "1"}, "json",
                    cookies=f"{session_name}={quote(value, safe='')}")
              for name, value in values.items()]
    probes += [Probe(7, "two session cookies", {"code": "1"}, "json",
                     cookies=f"{session_name}={values['random']}; {session_name}={real}"),
               Probe(7, "mfa handle garbage", {"code": "123456"}, "json",
                     cookies="authtuna_mfa=" + "%00" * 3 + "x" * 300),
               Probe(7, "csrf seed huge", {"code": "1"}, "form",
                     cookies="authtuna_csrf=" + "s" * 4000),
               Probe(7, "many cookies", {"code": "1"}, "json",
                     cookies="; ".join(f"c{i}=v" for i in range(300)))]
    return probes


def query_probes() -> list[Probe]:
    """Query strings (open redirects, tokens, traversal, injection) and path parameters."""
    values = [(12, "next evil", "//evil.example"), (12, "next encoded", "%2F%2Fevil.example"),
              (12, "next crlf", "/%0d%0aLocation:%20https://evil"),
              (12, "next userinfo", "http://evil%23@localhost"),
              (9, "token garbage", "x" * 300), (13, "traversal", "../../etc/passwd"),
              (13, "ssti", "{{7*7}}"), (4, "injection", "' OR 1=1--")]
    probes = [Probe(k, name, None, "json",
                    query=urlencode({"next": v, "token": v, "code": v}, safe="%/:@"),
                    path_value=v)
              for k, name, v in values]
    probes.append(Probe(13, "nul in path", None, "json", path_value="%00"))
    return probes


def state_snapshot_query() -> list[tuple[str, Any]]:
    """(label, select) pairs whose results must not change under bad input."""
    queries: list[tuple[str, Any]] = [
        (table.name, select(func.count()).select_from(table))
        for table in Base.metadata.sorted_tables if table.name not in BOOKKEEPING]
    queries.append(("active sessions", select(func.count()).select_from(UserSession)
                    .where(UserSession.active.is_(True))))
    queries.append(("account fields", select(User.id, User.password_hash, User.mfa_enabled,
                                    User.email_verified, User.is_active, User.email,
                                    User.username).order_by(User.id)))
    return queries


async def snapshot(svc: AuthService) -> dict[str, Any]:
    """Row counts of every table but the bookkeeping ones, active sessions, account fields."""
    state: dict[str, Any] = {}
    async with svc.transaction() as tx:
        for label, query in state_snapshot_query():
            rows = (await tx.execute(query)).all()
            state[label] = json.dumps([list(r) for r in rows], default=str)
    return state

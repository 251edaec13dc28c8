"""Every bad-input class of security-checklist.md §2.3, sent to every route and method of the
authtuna blueprints (walked from the app's url_map), anonymously and signed in.

Each walk asserts: no 5xx, no traceback in a body, nothing logged at ERROR, no state change
(row counts of every table but the failure bookkeeping, active sessions, account fields) and
no mail. Both databases.
"""

from __future__ import annotations

import asyncio
import json
import logging
import re
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode

import pyotp
import pytest
from werkzeug.routing import Rule

from quart_authtuna.core import AuthService
from tests._support.bad_input import (
    Probe,
    cookie_probes,
    header_probes,
    query_probes,
    raw_probes,
    snapshot,
    value_probes,
)
from tests._support.clock import FakeClock
from tests._support.web import CSRF_RE
from tests.conftest import PASSWORD

pytestmark = pytest.mark.settings(MAX_LOGIN_ATTEMPTS_PER_IP=1_000_000,
                                  MAX_LOGIN_ATTEMPTS_PER_USER=1_000_000)
WRITES = ("POST", "PUT", "PATCH", "DELETE")
PARAM = re.compile(r"<(?:[^:<>]+:)?([^<>]+)>")
#: Actions whose JSON face needs no input: sending them signed in is not bad input.
INPUTLESS_ACTIONS = {"authtuna_auth.logout"}
#: Routes where a well-formed value is a legitimate change (a new username, a new address to
#: confirm): walked for crashes and errors only, after the walk that asserts nothing changed.
VALUE_ACCEPTING = {"authtuna_ui.profile", "authtuna_ui.change_email"}


@dataclass
class Browser:
    """The cookies and CSRF token of one browser, managed by hand so probes can replace them."""

    cookies: dict[str, str] = field(default_factory=dict)
    csrf: str = ""

    def header(self) -> str:
        return "; ".join(f"{k}={v}" for k, v in self.cookies.items())

    def keep(self, response: Any) -> None:
        for line in response.headers.getlist("Set-Cookie"):
            name, _, rest = line.partition("=")
            self.cookies[name] = rest.split(";", 1)[0]


@dataclass
class Walk:
    """What a walk saw: the requests sent and the answers that broke a rule."""

    sent: int = 0
    failures: list[str] = field(default_factory=list)


def authtuna_rules(app: Any) -> list[Rule]:
    rules = [r for r in app.url_map.iter_rules() if r.endpoint.startswith("authtuna")]
    assert {r.endpoint.split(".")[0] for r in rules} >= {
        "authtuna", "authtuna_auth", "authtuna_mfa", "authtuna_passkeys", "authtuna_ui"}
    return rules


def url_for_probe(rule: Rule, probe: Probe) -> str:
    value = probe.path_value if probe.path_value is not None else "AAAA"
    path = PARAM.sub(lambda _m: value.replace("?", "%3F").replace("#", "%23"), rule.rule)
    return f"{path}?{probe.query}" if probe.query else path


def encode(probe: Probe, csrf: str) -> tuple[bytes, str | None]:
    """The probe's body and Content-Type."""
    if probe.encoding == "raw":
        return probe.body, probe.content_type
    fields = probe.fields or {}
    if probe.encoding == "json":
        return json.dumps(fields).encode(), "application/json"
    strings = {k: v for k, v in fields.items() if isinstance(v, str)}
    if probe.encoding == "form":
        return urlencode({**strings, "csrf_token": csrf}).encode(), \
            "application/x-www-form-urlencoded"
    boundary = uuid.uuid4().hex
    parts = [f'--{boundary}\r\nContent-Disposition: form-data; name="{k}"\r\n\r\n{v}\r\n'
             for k, v in {**strings, "csrf_token": csrf}.items()]
    body = "".join(parts) + f"--{boundary}--\r\n"
    return body.encode("utf-8", "surrogatepass"), f"multipart/form-data; boundary={boundary}"


def plan(rules: list[Rule], probes: list[Probe]) -> Iterator[tuple[Rule, str, Probe]]:
    """Every probe on every write; query, header and cookie probes on reads; a few each on
    OPTIONS and on methods the route does not allow (405)."""
    bodiless = [p for p in probes if p.encoding != "raw" and p.fields in (None, {"code": "1"})
                or p.query or p.cookies]
    for rule in rules:
        for method in sorted(rule.methods or ()):
            if method in WRITES:
                yield from ((rule, method, p) for p in probes)
            elif method in ("GET", "HEAD"):
                yield from ((rule, method, p) for p in bodiless)
            else:
                yield rule, method, probes[0]
        for method in ("PUT", "DELETE", "PATCH"):
            if method not in (rule.methods or ()):
                yield from ((rule, method, p) for p in probes[:3])


async def send(client: Any, browser: Browser, rule: Rule, method: str, probe: Probe) -> Any:
    headers = {"Accept": "text/html,application/json;q=0.9", **dict(probe.headers)}
    cookie = probe.cookies if probe.cookies is not None else browser.header()
    if cookie:
        headers["Cookie"] = cookie
    data = b""
    if method in WRITES:
        data, content_type = encode(probe, browser.csrf)
        if content_type:
            headers["Content-Type"] = content_type
    return await client.open(url_for_probe(rule, probe), method=method, data=data,
                             headers=headers)


async def walk(app: Any, browser: Browser, probes: list[Probe],
               skip: set[str] = frozenset()) -> Walk:  # type: ignore[assignment]
    client, seen = app.app.test_client(use_cookies=False), Walk()
    rules = [r for r in authtuna_rules(app.app) if r.endpoint not in skip]
    for rule, method, probe in plan(rules, probes):
        response = await send(client, browser, rule, method, probe)
        seen.sent += 1
        body = await response.get_data(as_text=True)
        if response.status_code >= 500 or "Traceback" in body:
            seen.failures.append(f"{method} {rule.rule} {probe.label}: {response.status_code}")
    writes = [r for r in rules if set(r.methods or ()) & set(WRITES)]
    burst = [send(client, browser, rule, "POST", probe) for rule in writes
             for probe in probes[:2] for _ in range(5)]  # class 20: parallel copies
    for response in await asyncio.gather(*burst):
        seen.sent += 1
        if response.status_code >= 500:
            seen.failures.append(f"burst: {response.status_code}")
    return seen


def all_probes(session_cookie: str, valid: str | None, fingerprint: tuple[str, ...] = ()
               ) -> list[Probe]:
    headers = [p for p in header_probes()
               if not {name.lower() for name, _ in p.headers} & {h.lower() for h in fingerprint}]
    return [*value_probes(), *raw_probes(), *headers,
            *cookie_probes(session_cookie, valid), *query_probes()]


async def start_browser(app: Any, page: str, browser: Browser | None = None) -> Browser:
    browser = browser or Browser()
    client = app.app.test_client(use_cookies=False)
    response = await client.get(page, headers={"Cookie": browser.header()})
    browser.keep(response)
    match = CSRF_RE.search(await response.get_data(as_text=True))
    assert match, page
    browser.csrf = match.group(1) or match.group(2)
    return browser


async def sign_in(app: Any, browser: Browser, identifier: str) -> Any:
    response = await app.app.test_client(use_cookies=False).post(
        "/auth/login", json={"username_or_email": identifier, "password": PASSWORD},
        headers={"Cookie": browser.header()})
    browser.keep(response)
    return await response.get_json()


def assert_clean(seen: Walk, caplog: pytest.LogCaptureFixture, before: dict[str, Any],
                 after: dict[str, Any], mail: list[Any]) -> None:
    errors = [f"{r.name}: {r.getMessage()}" for r in caplog.records if r.levelno >= logging.ERROR]
    changed = {k: (before[k], after[k]) for k in before if before[k] != after[k]}
    assert seen.sent > 1000
    assert not seen.failures, f"{len(seen.failures)} of {seen.sent}:\n" + "\n".join(
        seen.failures[:60])
    assert not errors, "\n".join(errors[:20])
    assert not changed, changed
    assert mail == []


async def test_anonymous_bad_input_on_every_route_is_refused_without_a_trace(
        app: Any, svc: AuthService, make_user: Any, clock: FakeClock,
        caplog: pytest.LogCaptureFixture) -> None:
    await make_user("walker")
    enrolled = await make_user("mfawalker")
    secret = (await svc.mfa.setup_totp(enrolled.id)).secret
    await svc.mfa.verify_and_enable_totp(enrolled.id, pyotp.TOTP(secret).at(clock.now))
    await svc.mail.drain()
    svc.mail.outbox.messages.clear()
    browser = await start_browser(app, "/auth/login")
    pending = await sign_in(app, browser, "mfawalker")
    assert pending["data"]["mfa_required"] is True  # the challenge routes see a live handle
    caplog.set_level(logging.ERROR)
    before = await snapshot(svc)
    seen = await walk(app, browser, all_probes(svc.settings.session_token_name, None))
    await svc.mail.drain()
    assert_clean(seen, caplog, before, await snapshot(svc), list(svc.mail.outbox.messages))


async def test_signed_in_bad_input_on_every_route_is_refused_without_a_trace(
        app: Any, svc: AuthService, make_user: Any, caplog: pytest.LogCaptureFixture) -> None:
    await make_user("walker")
    browser = Browser()
    await start_browser(app, "/auth/login", browser)
    await sign_in(app, browser, "walker")
    session = browser.cookies[svc.settings.session_token_name]
    await start_browser(app, "/mfa/setup", browser)  # enrolment started once, before the count
    await svc.mail.drain()
    svc.mail.outbox.messages.clear()
    caplog.set_level(logging.ERROR)
    before = await snapshot(svc)
    probes = all_probes(svc.settings.session_token_name, session,
                        svc.settings.fingerprint_headers)
    seen = await walk(app, browser, probes, skip=INPUTLESS_ACTIONS | VALUE_ACCEPTING)
    await svc.mail.drain()
    assert_clean(seen, caplog, before, await snapshot(svc), list(svc.mail.outbox.messages))
    others = {r.endpoint for r in authtuna_rules(app.app)} - VALUE_ACCEPTING
    accepting = await walk(app, browser, probes, skip=others)
    assert accepting.sent > 100 and not accepting.failures, accepting.failures[:20]
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR]
    still = await app.app.test_client(use_cookies=False).get(
        "/auth/user-info", headers={"Cookie": browser.header(), "Accept": "application/json"})
    assert still.status_code == 200, "the walk must not have ended the signed-in session"


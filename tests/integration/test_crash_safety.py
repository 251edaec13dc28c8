"""Nothing acknowledged is lost: a real Hypercorn process is SIGKILLed at random moments while
16 clients sign up, request password resets and complete them, and invite people to an
organization as its owner; after each kill it is started again. Every action answered 2xx
must then have all its rows, its audit row and its mail at the real SMTP server, on
PostgreSQL and on a SQLite file.

Figures (kills, acknowledged actions, losses) are printed with ``-s``.
"""

from __future__ import annotations

import asyncio
import random
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx2
from quart import Quart
from sqlalchemy import func, select

from quart_authtuna import AuthTuna
from quart_authtuna.core import AuthService, Settings
from quart_authtuna.core.db.models import (
    AuditEvent,
    Invitation,
    OutboxMail,
    PendingSignup,
    Token,
    User,
)
from quart_authtuna.core.types import RequestMeta
from quart_authtuna.testing import SessionCookie, service_of, session_cookie
from tests._support.crash_server import CrashServer
from tests._support.databases import database_overrides
from tests._support.orgs import allow_org_creation
from tests._support.smtp import SmtpServer, free_port, smtp_server  # noqa: F401
from tests.conftest import PASSWORD, TEST_SETTINGS

KILLS = 6
CLIENTS = 16
NEW_PASSWORD = "a quite different passphrase 42"
RESET_REQUESTERS = 250  # accounts that ask for a reset link (one request each)
RESETTERS = 150  # accounts holding a reset link, redeemed once each


@dataclass
class Run:
    """What the clients sent and what the server acknowledged."""

    acked: dict[str, list[str]] = field(default_factory=lambda: {
        "signup": [], "reset_request": [], "reset": [], "invitation": []})
    unanswered: int = 0
    server_errors: list[int] = field(default_factory=list)


@dataclass
class Seed:
    """What the clients use up: accounts that ask for a reset, accounts holding a reset link,
    and the organization its owner invites people to (one signed-in session per client)."""

    requesters: list[str]
    resetters: list[tuple[str, str]]
    org_id: str
    owner_sessions: list[SessionCookie]


async def seed(settings: dict[str, Any]) -> Seed:
    app = Quart(__name__)
    app.config.update({f"AUTHTUNA_{k}": v for k, v in settings.items()})
    AuthTuna(app)
    async with app.test_app():
        svc = service_of(app)
        requesters, resetters = [], []
        for n in range(RESET_REQUESTERS):
            user = await svc.users.create(f"req{n}@example.com", f"req{n}", PASSWORD,
                                          email_verified=True)
            requesters.append(user.email)
        for n in range(RESETTERS):
            user = await svc.users.create(f"rst{n}@example.com", f"rst{n}", PASSWORD,
                                          email_verified=True)
            issued = await svc.tokens.create(user.id, "password_reset", 86400)
            resetters.append((user.email, issued.raw))
        owner = await svc.users.create("owner@example.com", "owner", PASSWORD,
                                       email_verified=True)
        await allow_org_creation(svc, owner.id)
        org = (await svc.flows.organizations.create_organization(
            owner.id, "Acme", RequestMeta(ip_address="127.0.0.1"))).organization
        sessions = [await session_cookie(app, owner) for _ in range(CLIENTS)]
        await svc.mail.drain()
    return Seed(requesters, resetters, org.id, sessions)


async def client(base: str, run: Run, stop: asyncio.Event, n: int, seeded: Seed) -> None:
    headers = {"Origin": base, "Accept": "application/json"}
    requesters, resetters = seeded.requesters, seeded.resetters
    counter = 0
    async with httpx2.AsyncClient(base_url=base, timeout=20) as http:
        owner = seeded.owner_sessions[n]
        http.cookies.set(owner.name, owner.value)  # this client's own session of the owner
        while not stop.is_set():
            counter += 1
            roll = random.random()
            if roll < 0.2:
                kind, key = "invitation", f"inv{n}x{counter}@example.com"
                path, body = f"/ui/organizations/{seeded.org_id}/invite", {
                    "email": key, "role_name": "OrgMember"}
            elif roll < 0.6 or not (requesters or resetters):
                kind, key = "signup", f"c{n}x{counter}@example.com"
                path, body = "/auth/signup", {"username": f"c{n}x{counter}", "email": key,
                                              "password": PASSWORD}
            elif roll < 0.8 and requesters:
                kind = "reset_request"
                key = requesters.pop()
                path, body = "/auth/forgot-password", {"email": key}
            elif resetters:
                kind = "reset"
                key, raw = resetters.pop()
                path, body = "/auth/reset-password", {"token": raw,
                                                      "new_password": NEW_PASSWORD}
            else:
                continue
            token = body.get("token", "")
            try:
                response = await http.post(path, json=body, headers=headers)
            except httpx2.ConnectError:  # never reached the server: the item is still unused
                if kind == "reset_request":
                    requesters.append(key)
                elif kind == "reset":
                    resetters.append((key, token))
                await asyncio.sleep(0.05)
                continue
            except httpx2.HTTPError:  # sent, and cut off with the server: not acknowledged
                run.unanswered += 1
                await asyncio.sleep(0.05)
                continue
            if 200 <= response.status_code < 300:
                run.acked[kind].append(key)
            elif response.status_code >= 500:
                run.server_errors.append(response.status_code)


async def busy_for_a_while(run: Run) -> None:
    """Until 10 to 40 more actions were acknowledged (at most 20 s: a loaded machine), then
    up to 0.3 s more, so the kill lands at a random moment of a busy server."""
    def total() -> int:
        return sum(len(v) for v in run.acked.values())

    target, deadline = total() + random.randint(10, 40), time.monotonic() + 20
    while total() < target and time.monotonic() < deadline:
        await asyncio.sleep(0.02)
    await asyncio.sleep(random.uniform(0, 0.3))


async def settle(svc: AuthService, smtp: SmtpServer, timeout: float) -> None:
    """Wait until the outbox is empty (the server's sender delivered everything)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        async with svc.transaction() as tx:
            left = await tx.scalar(select(func.count()).select_from(OutboxMail))
        if not left:
            return
        await asyncio.sleep(0.5)
    raise AssertionError(f"{left} mail(s) still in the outbox after {timeout}s")


def mailed(smtp: SmtpServer, marker: str) -> set[str]:
    """Recipients of delivered messages whose text contains ``marker``."""
    found = set()
    for message in smtp.messages:
        body = message.get_body(preferencelist=("plain",))
        if body is not None and marker in str(body.get_content()) + str(message["Subject"]):
            found.add(str(message["To"]))
    return found


async def losses(svc: AuthService, smtp: SmtpServer, run: Run) -> dict[str, list[str]]:
    """Acknowledged actions missing a row, an audit row or a mail."""
    lost: dict[str, list[str]] = {}
    signups = set(run.acked["signup"])
    requests = set(run.acked["reset_request"])
    resets = set(run.acked["reset"])
    invited = set(run.acked["invitation"])
    async with svc.transaction() as tx:
        held = set((await tx.scalars(select(PendingSignup.email))).all())
        users = {u.email: u for u in (await tx.scalars(select(User))).all()}
        tokens = set((await tx.scalars(select(Token.user_id).where(
            Token.purpose == "password_reset"))).all())
        events = {(row[0], row[1]) for row in (await tx.execute(
            select(AuditEvent.event_type, AuditEvent.user_id))).all()}
        pending_audits = await tx.scalar(select(func.count()).where(
            AuditEvent.event_type == "USER_SIGNUP_PENDING"))
        invitations = {i.email: i.id for i in (await tx.scalars(select(Invitation))).all()}
        invite_audits = {str(e.details["invitation_id"]) for e in (await tx.scalars(
            select(AuditEvent).where(AuditEvent.event_type == "INVITATION_SENT"))).all()}
    lost["signup rows"] = sorted(signups - held)
    lost["signup audit"] = ["missing"] if (pending_audits or 0) < len(signups) else []
    lost["signup mail"] = sorted(signups - mailed(smtp, "/auth/verify?token="))
    lost["reset request rows"] = sorted(e for e in requests if users[e].id not in tokens)
    lost["reset request audit"] = sorted(
        e for e in requests if ("PASSWORD_RESET_REQUESTED", users[e].id) not in events)
    lost["reset request mail"] = sorted(requests - mailed(smtp, "/auth/reset-password?token="))
    lost["reset rows"] = sorted(
        [e for e in resets if not await svc.passwords.verify(NEW_PASSWORD,
                                                             users[e].password_hash)])
    lost["reset audit"] = sorted(
        e for e in resets if ("PASSWORD_RESET_COMPLETED", users[e].id) not in events)
    lost["reset mail"] = sorted(resets - mailed(smtp, "password was changed"))
    lost["invitation rows"] = sorted(invited - set(invitations))
    lost["invitation audit"] = sorted(
        e for e in invited & set(invitations) if invitations[e] not in invite_audits)
    lost["invitation mail"] = sorted(invited - mailed(smtp, "/join?token="))
    return {k: v for k, v in lost.items() if v}


async def test_nothing_acknowledged_is_lost_when_the_server_is_killed(
        backend: str, tmp_path: Path, smtp_server: SmtpServer) -> None:  # noqa: F811
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    async with database_overrides(backend, tmp_path) as db:
        settings: dict[str, Any] = {
            **TEST_SETTINGS, **db, "FERNET_KEYS": list(TEST_SETTINGS["FERNET_KEYS"]),
            "EMAIL_ENABLED": True, "SMTP_HOST": "127.0.0.1", "SMTP_PORT": smtp_server.port,
            "MAIL_STARTTLS": False, "API_BASE_URL": base, "SESSION_SECURE": False,
            "MAIL_MAX_PER_ADDRESS_PER_HOUR": 1000, "MAIL_MAX_PER_IP_PER_HOUR": 1_000_000,
            "MAX_TOKEN_REQUESTS_PER_IP_PER_HOUR": 1_000_000, "MAIL_RETRY_BACKOFF_SECONDS": 1}
        seeded = await seed(settings)
        server = CrashServer(port, settings, lease=3.0, log=tmp_path / "server.log")
        await server.start()
        run, stop = Run(), asyncio.Event()
        clients = [asyncio.create_task(client(base, run, stop, n, seeded))
                   for n in range(CLIENTS)]
        try:
            for _ in range(KILLS):
                await busy_for_a_while(run)
                await server.kill()
                await server.start()
            await busy_for_a_while(run)
            stop.set()
            await asyncio.gather(*clients)
            async with AuthService(Settings.from_sources(overrides={
                    **settings, "EMAIL_ENABLED": False})) as check:
                assert check.mail.queue is not None
                await check.mail.queue.stop()  # only the killed-and-restarted server sends
                await settle(check, smtp_server, timeout=60)
                lost = await losses(check, smtp_server, run)
        finally:
            stop.set()
            await server.kill()
    acked = {k: len(v) for k, v in run.acked.items()}
    print(f"\n{backend}: {KILLS} kills, {server.starts} starts, acknowledged {acked} "
          f"({sum(acked.values())} in all), {run.unanswered} requests cut off, "
          f"{len(run.server_errors)} 5xx, {len(smtp_server.messages)} mails delivered, "
          f"losses: {sum(len(v) for v in lost.values())}")
    assert sum(acked.values()) >= 60, acked
    assert all(acked.values()), acked
    assert lost == {}, lost
    assert run.server_errors == [], run.server_errors

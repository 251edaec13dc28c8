"""Cleanup removes exactly what has expired (fake clock), batch by batch, on both databases."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any

import pytest
from sqlalchemy import func, select

from quart_authtuna.core import AuthService
from quart_authtuna.core.cleanup import Cleanup
from quart_authtuna.core.db.models import (
    AuditEvent,
    AuthChallenge,
    PendingSignup,
    ThrottleCounter,
    Token,
    User,
    UserSession,
)
from quart_authtuna.core.types import RequestMeta
from tests._support.clock import FakeClock
from tests.conftest import PASSWORD

DAY = 86400.0


async def counts(service: AuthService) -> dict[str, int]:
    tables: dict[str, Any] = {"user_sessions": UserSession, "tokens": Token,
                              "pending_signups": PendingSignup,
                              "auth_challenges": AuthChallenge,
                              "throttle_counters": ThrottleCounter, "audit_events": AuditEvent}
    async with service.transaction() as tx:
        return {name: int(await tx.scalar(select(func.count()).select_from(model)) or 0)
                for name, model in tables.items()}


async def fill(service: AuthService, user: User, clock: FakeClock) -> None:
    """Rows of every prunable kind: some already spent or expired, some still live."""
    ended = await service.sessions.create(user.id)
    await service.sessions.terminate(ended.session_id)
    await service.sessions.create(user.id)  # live for SESSION_LIFETIME_SECONDS (7 days)
    used = await service.tokens.create(user.id, "password_reset")
    await service.tokens.consume(used.raw, "password_reset")
    await service.tokens.create(user.id, "email_verification", 3600)
    await service.challenges.create("mfa_login", user_id=user.id, ttl=300)
    await service.throttle.reserve(["ip:203.0.113.9"])
    await service.flows.signup("pending", "pending@example.com", PASSWORD,
                               RequestMeta(ip_address="203.0.113.9"))


@pytest.mark.settings(AUDIT_RETENTION_DAYS=30)
async def test_cleanup_removes_expired_rows_and_keeps_live_ones(
        service: AuthService, user_factory: Callable[..., Awaitable[User]],
        clock: FakeClock) -> None:
    user = await user_factory()
    await fill(service, user, clock)
    first = await service.cleanup.run()  # now: only the spent rows go
    assert first.removed["user_sessions"] == 1
    assert first.removed["tokens"] == 1
    assert first.removed["audit_events"] == 0
    left = await counts(service)
    assert left["user_sessions"] == 1 and left["tokens"] == 1
    assert left["auth_challenges"] == 1 and left["throttle_counters"] >= 1
    assert left["pending_signups"] == 1
    audit_rows = left["audit_events"]

    clock.advance(2 * DAY)  # tokens, challenges, counters and the sign-up have expired
    second = await service.cleanup.run()
    assert second.removed["tokens"] == 1
    assert second.removed["auth_challenges"] == 1
    assert second.removed["pending_signups"] == 1
    assert second.removed["throttle_counters"] == left["throttle_counters"]
    assert second.removed["user_sessions"] == 0  # still within its 7 days

    await service.audit.log_event("RECENT_EVENT", user.id)
    clock.advance(29 * DAY)  # the session expired; the first audit rows are 31 days old
    third = await service.cleanup.run()
    assert third.removed["user_sessions"] == 1
    assert third.removed["audit_events"] == audit_rows
    assert await counts(service) == {"user_sessions": 0, "tokens": 0, "pending_signups": 0,
                                     "auth_challenges": 0, "throttle_counters": 0,
                                     "audit_events": 1}


@pytest.mark.settings(AUDIT_RETENTION_DAYS=1)
async def test_cleanup_deletes_in_small_batches(service: AuthService, clock: FakeClock) -> None:
    for n in range(10):
        await service.audit.log_event("OLD_EVENT", None, f"198.51.100.{n}")
    clock.advance(2 * DAY)
    statements: list[str] = []
    from tests._support.queries import count_queries

    with count_queries(service.engine) as log:
        report = await Cleanup(service.db, clock, service.settings, batch_size=3).run()
        statements = [s for s in log.data if s.lstrip().upper().startswith("DELETE")
                      and "audit_events" in s]
    assert report.removed["audit_events"] >= 10
    assert len(statements) == report.removed["audit_events"] // 3 + 1  # 3 rows at a time


@pytest.mark.settings(AUDIT_RETENTION_DAYS=0)
async def test_a_retention_of_zero_keeps_every_audit_row(service: AuthService,
                                                         clock: FakeClock) -> None:
    await service.audit.log_event("OLD_EVENT", None)
    clock.advance(3650 * DAY)
    report = await service.cleanup.run()
    assert "audit_events" not in report.removed
    assert (await counts(service))["audit_events"] >= 1


@pytest.mark.settings(CLEANUP_ENABLED=True, CLEANUP_INTERVAL_SECONDS=0.2)
async def test_the_serving_schedule_runs_cleanup_by_itself(
        service: AuthService, user_factory: Callable[..., Awaitable[User]],
        clock: FakeClock) -> None:
    user = await user_factory()
    ended = await service.sessions.create(user.id)
    await service.sessions.terminate(ended.session_id)
    service.serve_background()
    for _ in range(100):  # jittered between 0.15 and 0.25 s
        if (await counts(service))["user_sessions"] == 0:
            break
        await asyncio.sleep(0.05)
    assert (await counts(service))["user_sessions"] == 0

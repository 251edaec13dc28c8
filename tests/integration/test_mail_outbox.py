"""The persisted mail outbox: mail commits (or rolls back) with its flow, waits while the mail
server is down, is retried with capped exponential backoff (fake clock), survives a restart,
and is stored encrypted. Real SMTP server, both databases."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from sqlalchemy import select

from quart_authtuna.core import AuthService, Settings
from quart_authtuna.core.db.models import OutboxMail
from quart_authtuna.core.types import RequestMeta
from tests._support.clock import FakeClock
from tests._support.databases import database_overrides
from tests._support.smtp import SmtpServer, free_port, smtp_server  # noqa: F401
from tests.conftest import PASSWORD


async def outbox_rows(svc: AuthService) -> list[OutboxMail]:
    async with svc.transaction() as tx:
        return list((await tx.scalars(select(OutboxMail))).all())


def smtp(port: int) -> dict[str, object]:
    return {"EMAIL_ENABLED": True, "SMTP_HOST": "127.0.0.1", "SMTP_PORT": port,
            "MAIL_STARTTLS": False, "MAIL_RETRY_BACKOFF_SECONDS": 10,
            "MAIL_RETRY_MAX_SECONDS": 40}


async def test_mail_waits_for_a_server_that_is_down_and_survives_a_restart(
        backend: str, tmp_path: Path, clock: FakeClock, smtp_server: SmtpServer,  # noqa: F811
        settings_for: Callable[..., Settings]) -> None:
    async with database_overrides(backend, tmp_path) as db:
        down = AuthService(settings_for(**db, **smtp(free_port())), clock=clock)
        await down.start()
        assert down.mail.queue is not None
        await down.mail.queue.stop()  # driven by hand below
        user = await down.users.create("rae@example.com", "rae", PASSWORD, email_verified=True)
        issued = await down.flows.passwords.request_reset("rae@example.com",
                                                          RequestMeta(ip_address="192.0.2.1"))
        assert issued is not None
        delays = []
        for _ in range(4):
            assert await down.mail.queue.drain() == 0  # refused: the row stays
            [row] = await outbox_rows(down)
            assert row.last_error and row.kind == "password_reset"
            delays.append(row.next_attempt_at - clock.now)
            assert await down.mail.queue.drain() == 0  # not due yet: not even tried
            assert (await outbox_rows(down))[0].attempts == row.attempts
            clock.advance(row.next_attempt_at - clock.now)
        assert delays == [10, 20, 40, 40]  # doubling, capped at MAIL_RETRY_MAX_SECONDS
        assert issued.raw not in row.payload and user.email not in row.payload  # encrypted
        await down.close()  # the process goes away with the mail unsent

        up = AuthService(settings_for(**db, **smtp(smtp_server.port)), clock=clock)
        await up.start()  # its sender finds the mail and delivers it
        try:
            [message] = await smtp_server.wait_for(1)
            assert message["To"] == "rae@example.com"
            body = message.get_body(preferencelist=("plain",))
            assert body is not None and issued.raw in str(body.get_content())
            await up.mail.drain()
            assert await outbox_rows(up) == []
        finally:
            await up.close()


async def test_mail_rolls_back_with_its_flow(service: AuthService) -> None:
    with pytest.raises(RuntimeError):
        async with service.transaction() as tx:
            await service.mail.enqueue("password_change", "gil@example.com", session=tx,
                                       username="gil", login_url="x")
            raise RuntimeError("the flow failed after queueing its mail")
    await service.mail.drain()
    assert await outbox_rows(service) == []
    assert list(service.mail.outbox.messages) == []


async def test_mail_is_sent_once_its_flow_commits(service: AuthService) -> None:
    async with service.transaction() as tx:
        await service.mail.enqueue("password_change", "ivy@example.com", session=tx,
                                   username="ivy", login_url="x")
        assert service.mail.outbox.last() is None  # not before commit
    await service.mail.drain()
    sent = service.mail.outbox.last("password_change", "ivy@example.com")
    assert sent is not None and "ivy" in sent.text
    assert await outbox_rows(service) == []

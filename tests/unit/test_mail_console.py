"""With EMAIL_ENABLED off, development prints each whole mail as a WARNING (shown by a plain
app); production logs only that a mail of some kind was not sent, never its link."""

from __future__ import annotations

import logging

import pytest

from quart_authtuna.core.links import PrefixLinks
from quart_authtuna.core.mail import Mailer, Message, Outbox
from quart_authtuna.core.settings import Settings

MESSAGE = Message("verification", "ada@example.com", "Confirm your email",
                  "Open http://localhost:5000/auth/verify?token=SECRET-TOKEN\n", "<p>html</p>")


async def test_development_prints_the_whole_mail_at_warning(
        caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.WARNING, logger="quart_authtuna.mail"):
        await Outbox().deliver(MESSAGE)
    (record,) = caplog.records
    assert record.levelno == logging.WARNING
    text = record.getMessage()
    assert "Development email (not sent: EMAIL_ENABLED is off)" in text
    assert "To: ada@example.com" in text and "Subject: Confirm your email" in text
    assert "auth/verify?token=SECRET-TOKEN" in text


async def test_production_logs_the_kind_only(caplog: pytest.LogCaptureFixture) -> None:
    outbox = Outbox(show_bodies=False)
    with caplog.at_level(logging.DEBUG, logger="quart_authtuna.mail"):
        await outbox.deliver(MESSAGE)
    (record,) = caplog.records
    assert record.levelno == logging.WARNING
    assert record.getMessage() == "the verification email was not sent: EMAIL_ENABLED is off"
    assert list(outbox.messages) == [MESSAGE]


def test_the_mailer_picks_by_mode() -> None:
    development = Mailer(Settings(), PrefixLinks(Settings()))
    production = Mailer(Settings(production=True), PrefixLinks(Settings()))
    assert development.outbox._show_bodies and not production.outbox._show_bodies
    assert development.transport is development.outbox

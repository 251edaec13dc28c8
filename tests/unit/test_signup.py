"""The sign-up flow in the core, on the real database: held sign-ups, and the direct path."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import select

from quart_authtuna.core import AuthService, RequestMeta
from quart_authtuna.core.db.models import PendingSignup
from tests._support.clock import FakeClock
from tests._support.web import token_from_link
from tests.conftest import PASSWORD

META = RequestMeta(ip_address="192.0.2.7")


async def held(service: AuthService) -> list[PendingSignup]:
    async with service.transaction() as tx:
        return list((await tx.scalars(select(PendingSignup))).all())


async def mailed_token(service: AuthService, email: str) -> str:
    await service.mail.drain()
    mail = service.mail.outbox.last("verification", email)
    assert mail is not None
    return token_from_link(mail.text, "/auth/verify")


async def test_a_held_signup_keeps_only_hashes_and_becomes_a_verified_account(
        service: AuthService) -> None:
    accepted = await service.flows.signup("heldback", "heldback@example.com", PASSWORD, META)
    assert accepted.user is None
    token = await mailed_token(service, "heldback@example.com")
    [row] = await held(service)
    values = [str(getattr(row, c.name)) for c in PendingSignup.__table__.columns]
    assert token not in values and PASSWORD not in values
    assert await service.passwords.verify(PASSWORD, row.password_hash)

    done = await service.flows.email_verification.verify(token, META)
    assert done.user.username == "heldback" and done.user.email_verified
    assert await held(service) == []
    user, _ = await service.login("heldback", PASSWORD)
    assert user.id == done.user.id


async def test_expired_signups_are_purged_by_later_ones(service: AuthService,
                                                        clock: FakeClock) -> None:
    await service.flows.signup("early", "early@example.com", PASSWORD, META)
    clock.advance(service.settings.tokens_expiry_seconds)
    await service.flows.signup("later", "later@example.com", PASSWORD, META)
    assert [row.username for row in await held(service)] == ["later"]


@pytest.mark.settings(REQUIRE_EMAIL_VERIFICATION=False)
async def test_without_verification_the_account_is_created_at_once(
        service: AuthService, user_factory: Any) -> None:
    accepted = await service.flows.signup("direct", "direct@example.com", PASSWORD, META)
    assert accepted.user is not None and accepted.user.email_verified
    assert await held(service) == []
    owner = await user_factory("owner")
    again = await service.flows.signup("another", owner.email, PASSWORD, META)
    assert again.user is None and await service.users.get_by_username("another") is None

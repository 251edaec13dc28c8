"""Password change and reset: policy first, tokens spent once, sessions revoked."""

from __future__ import annotations

import pytest

from quart_authtuna.core import (
    AuthService,
    InvalidCredentials,
    PasswordRejected,
    TokenInvalid,
)
from tests.conftest import PASSWORD

NEW = "a brand new passphrase"


async def test_reset_revokes_all_sessions_and_does_not_log_in(
    service: AuthService, user_factory
) -> None:
    user = await user_factory("hana")
    await service.login("hana", PASSWORD)
    await service.login("hana@example.com", PASSWORD)
    token = await service.request_password_reset("HANA@example.com", "10.0.0.2")
    assert token is not None
    await service.reset_password(token.id, NEW, "10.0.0.2")
    assert await service.sessions.get_all_for_user(user.id) == []
    with pytest.raises(InvalidCredentials):
        await service.login("hana", PASSWORD)
    await service.login("hana", NEW)
    with pytest.raises(TokenInvalid):
        await service.reset_password(token.id, "yet another passphrase")


async def test_rejected_password_leaves_the_reset_token_usable(
    service: AuthService, user_factory
) -> None:
    await user_factory("ivan")
    token = await service.request_password_reset("ivan@example.com")
    with pytest.raises(PasswordRejected) as info:
        await service.reset_password(token.id, "password1234")
    assert info.value.errors[0].code == "too_common"
    await service.reset_password(token.id, NEW)


async def test_reset_request_for_unknown_email_returns_nothing_but_is_audited(
    service: AuthService,
) -> None:
    assert await service.request_password_reset("nobody@example.com") is None
    events = await service.audit.get_events_by_type("PASSWORD_RESET_REQUESTED")
    assert [e.details["matched"] for e in events] == [False]


async def test_change_password_needs_the_current_one(service: AuthService, user_factory) -> None:
    user = await user_factory("judy")
    before = (await service.users.get_by_id(user.id)).password_hash
    with pytest.raises(InvalidCredentials):
        await service.change_password(user, "not my password", NEW)
    assert (await service.users.get_by_id(user.id)).password_hash == before
    with pytest.raises(PasswordRejected):
        await service.change_password(user, PASSWORD, "short")
    assert (await service.users.get_by_id(user.id)).password_hash == before


async def test_change_password_ends_other_sessions_only(
    service: AuthService, user_factory
) -> None:
    user = await user_factory("kim")
    _, keep = await service.login("kim", PASSWORD)
    await service.login("kim", PASSWORD)
    await service.change_password(user.id, PASSWORD, NEW, current_session_id=keep.session_id)
    remaining = await service.sessions.get_all_for_user(user.id)
    assert [s.session_id for s in remaining] == [keep.session_id]
    await service.login("kim", NEW)


async def test_common_and_short_passwords_are_refused_at_signup(
    service: AuthService, user_factory
) -> None:
    for password in ("password1234", "qwertyuiop12", "shorty", "x" * 1025):
        with pytest.raises(PasswordRejected):
            await user_factory(password=password)
    assert await service.users.get_by_username("user1") is None

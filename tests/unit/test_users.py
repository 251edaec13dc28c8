"""UserManager: creation, audit in the same transaction, suspension, deletion."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from quart_authtuna.core import AuthService, InvalidCredentials
from quart_authtuna.core.db.models import AuditEvent, DeletedUser, User
from tests.conftest import PASSWORD


async def test_new_user_holds_user_role_globally(service: AuthService, user_factory) -> None:
    user = await user_factory("lena")
    assert await service.roles.get_user_roles(user.id) == [("User", "global")]
    events = await service.audit.get_events_for_user(user.id)
    assert "USER_CREATED" in [e.event_type for e in events]


async def test_user_and_audit_row_commit_or_roll_back_together(service: AuthService) -> None:
    with pytest.raises(RuntimeError):
        async with service.transaction() as tx:
            await service.users.create("mia@example.com", "mia", PASSWORD, session=tx)
            raise RuntimeError("crash before commit")
    assert await service.users.get_by_username("mia") is None
    assert await service.audit.get_events_by_type("USER_CREATED") == []


async def test_suspended_user_cannot_log_in_and_loses_sessions(
    service: AuthService, user_factory
) -> None:
    user = await user_factory("nora")
    await service.login("nora", PASSWORD)
    await service.users.suspend_user(user.id, "default-admin", "spam")
    assert await service.sessions.get_all_for_user(user.id) == []
    with pytest.raises(InvalidCredentials):
        await service.login("nora", PASSWORD)
    await service.users.unsuspend_user(user.id, "default-admin", "appeal")
    await service.login("nora", PASSWORD)
    types = [e.event_type for e in await service.audit.get_events_for_user(user.id)]
    assert {"USER_SUSPENDED", "USER_UNSUSPENDED", "SESSIONS_TERMINATED_ALL"} <= set(types)


async def test_audit_rows_survive_user_deletion(service: AuthService, user_factory) -> None:
    user = await user_factory("otto")
    await service.login("otto", PASSWORD)
    await service.users.delete(user.id, "default-admin")
    assert await service.users.get_by_id(user.id) is None
    async with service.transaction() as tx:
        rows = (await tx.scalars(select(AuditEvent).where(
            AuditEvent.event_type.in_(["USER_CREATED", "LOGIN_SUCCESS", "USER_DELETED"])))).all()
        archive = await tx.get(DeletedUser, user.id)
    assert {r.event_type for r in rows} == {"USER_CREATED", "LOGIN_SUCCESS", "USER_DELETED"}
    assert all(r.user_id is None for r in rows)
    assert archive is not None and "password_hash" not in archive.data
    assert user.password_hash not in str(archive.data)


async def test_list_count_and_search(service: AuthService, user_factory) -> None:
    await user_factory("pia")
    await user_factory("paul")
    assert await service.users.count() == 5  # three system users + two
    found = await service.users.list(search="PA")
    assert [u.username for u in found] == ["paul"]
    page = await service.users.list(skip=1, limit=2)
    assert len(page) == 2


async def test_update_changes_profile_and_resets_verification_on_email_change(
    service: AuthService, user_factory
) -> None:
    user = await user_factory("quinn", email_verified=True)
    await service.users.update(user.id, {"first_name": "Quinn", "email": "q@example.org"})
    async with service.transaction() as tx:
        row = await tx.get(User, user.id)
    assert (row.first_name, row.email, row.email_verified) == ("Quinn", "q@example.org", False)


async def test_an_address_change_voids_links_sent_to_the_old_address(
        service: AuthService, user_factory) -> None:
    """Reset and sign-in links and sign-ins waiting at their second factor end with the
    old address; other profile changes leave them alone."""
    from quart_authtuna.core.challenges import MFA_LOGIN
    from quart_authtuna.core.errors import TokenInvalid

    user = await user_factory()
    reset = await service.tokens.create(user.id, "password_reset")
    link = await service.tokens.create(user.id, "passwordless_login")
    pending = await service.challenges.create(MFA_LOGIN, user_id=user.id, ttl=300)
    await service.users.update(user.id, {"first_name": "Same Address"})
    assert (await service.tokens.peek(reset.raw, "password_reset")).user_id == user.id
    await service.users.update(user.id, {"email": "moved@example.org"})
    for raw, purpose in ((reset.raw, "password_reset"), (link.raw, "passwordless_login")):
        with pytest.raises(TokenInvalid):
            await service.tokens.peek(raw, purpose)
    with pytest.raises(TokenInvalid):
        await service.challenges.get(pending.handle, MFA_LOGIN)

"""The transactional outbox for the last three senders: an invitation, a social sign-in and a
flagged session each write their mail in the flow's own transaction. When the database refuses
the mail (a trigger on the outbox, a real fault), nothing of the flow is left; when it commits,
exactly one outbox row per mail is there, addressed to the right person. Both databases."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from quart_authtuna.core import AuthService
from quart_authtuna.core.db.models import Invitation, SocialAccount, ThrottleCounter, User
from quart_authtuna.core.types import RequestMeta
from tests._support.orgs import allow_org_creation
from tests._support.outbox_faults import audit_count, outbox_kinds, outbox_refuses
from tests._support.sso import _dev_provider, _sso_app, round_trip  # noqa: F401
from tests.integration.test_session_hook import get_with, jar_cookie, session_rows

META = RequestMeta(ip_address="203.0.113.9")
ADA = {"email": "ada@example.com", "name": "Ada Lovelace", "username": "ada"}


async def _hold_mail(svc: AuthService) -> None:
    """Stop the background sender, so what a flow queued stays visible until drained."""
    assert svc.mail.queue is not None
    await svc.mail.queue.stop()


async def _delivered(svc: AuthService) -> list[tuple[str, str]]:
    await svc.mail.drain()
    return sorted((m.kind, m.to) for m in svc.mail.outbox.messages)


async def _count(svc: AuthService, model: Any, *where: Any) -> int:
    async with svc.transaction() as tx:
        return int(await tx.scalar(select(func.count()).select_from(model).where(*where)) or 0)


async def test_an_invitation_its_audit_row_its_quota_and_its_mail_commit_together(
        service: AuthService, user_factory: Any) -> None:
    owner = await user_factory("owner")
    await allow_org_creation(service, owner.id)
    org = (await service.flows.organizations.create_organization(owner.id, "Acme", META)
           ).organization
    await _hold_mail(service)
    counted = ThrottleCounter.key == "mailip:203.0.113.9"

    async with outbox_refuses(service):
        with pytest.raises(IntegrityError):
            await service.flows.invitations.invite(owner.id, org.id, "gil@example.com",
                                                   "OrgMember", META)
    assert await _count(service, Invitation) == 0
    assert await audit_count(service, "INVITATION_SENT") == 0
    assert await _count(service, ThrottleCounter, counted) == 0  # the mail was not counted
    assert await outbox_kinds(service) == []

    await service.flows.invitations.invite(owner.id, org.id, "gil@example.com", "OrgMember",
                                           META)
    assert await _count(service, Invitation) == 1
    assert await audit_count(service, "INVITATION_SENT") == 1
    assert await outbox_kinds(service) == ["org_invite"]
    async with service.transaction() as tx:
        assert (await tx.scalar(select(ThrottleCounter.failures).where(counted))) == 1
    assert await _delivered(service) == [("org_invite", "gil@example.com")]
    assert await outbox_kinds(service) == []


async def test_a_social_sign_up_and_its_mails_commit_together(sso_app: Any) -> None:  # noqa: F811
    svc: AuthService = sso_app.app.extensions["authtuna"].service
    client = sso_app.test_client()
    await _hold_mail(svc)

    async with outbox_refuses(svc):
        failed = await round_trip(client, "github", **ADA)
    assert failed.status_code >= 500
    assert await _count(svc, User, User.email == ADA["email"]) == 0
    assert await _count(svc, SocialAccount) == 0
    assert await audit_count(svc, "SOCIAL_ACCOUNT_CONNECTED") == 0
    assert await outbox_kinds(svc) == []

    done = await round_trip(client, "github", **ADA)
    assert done.status_code == 302 and done.headers["Location"] == "/"
    assert await _count(svc, SocialAccount) == 1
    assert await audit_count(svc, "SOCIAL_ACCOUNT_CONNECTED") == 1
    assert await outbox_kinds(svc) == ["new_login", "new_social_account_connected", "welcome"]
    assert await _delivered(svc) == [(kind, ADA["email"]) for kind in
                                     ("new_login", "new_social_account_connected", "welcome")]


async def test_a_flagged_session_and_its_mail_commit_together(
        app: Any, client: Any, svc: AuthService, make_user: Any, login: Any) -> None:
    user = await make_user("owner")
    await login("owner")
    await _hold_mail(svc)
    await svc.mail.drain()
    svc.mail.outbox.messages.clear()  # the sign-in notice
    stolen = jar_cookie(client)
    assert stolen
    evil = {"User-Agent": "Evil/1.0 (another device)", "Accept": "application/json"}

    async with outbox_refuses(svc):
        failed = await get_with(app, "/protected", stolen, headers=evil)
    assert failed.status_code >= 500
    [row] = await session_rows(svc, user.id)
    assert row.active and row.flagged_at is None
    assert await audit_count(svc, "SESSION_FLAGGED") == 0
    assert await outbox_kinds(svc) == []

    refused = await get_with(app, "/protected", stolen, headers=evil)
    assert refused.status_code == 401
    [row] = await session_rows(svc, user.id)
    assert row.flagged_at is not None
    assert await audit_count(svc, "SESSION_FLAGGED") == 1
    assert await outbox_kinds(svc) == ["session_flagged"]
    assert await _delivered(svc) == [("session_flagged", "owner@example.com")]

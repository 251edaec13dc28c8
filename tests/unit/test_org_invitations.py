"""Invitations through the core, on SQLite and PostgreSQL: the offered role, the bound address,
single use, expiry, resend and revoke, and signing up from a link."""

from __future__ import annotations

import asyncio

import pytest
from sqlalchemy import select

from quart_authtuna.core import AuthService
from quart_authtuna.core.db.models import Invitation
from quart_authtuna.core.errors import (
    AccountExists,
    ConflictError,
    EscalationDenied,
    InputError,
    NotFound,
    PermissionDenied,
    TokenExpired,
    TokenInvalid,
)
from quart_authtuna.core.types import RequestMeta
from tests._support.orgs import allow_org_creation, invite_link

META = RequestMeta(ip_address="203.0.113.9")


@pytest.fixture(name="org")
async def _org(service: AuthService, user_factory):
    owner = await user_factory("owner")
    await allow_org_creation(service, owner.id)
    org = (await service.flows.organizations.create_organization(owner.id, "Acme", META)
           ).organization
    return owner, org


async def test_invitation_adds_nobody_until_accepted(service: AuthService, org,
                                                     user_factory) -> None:
    owner, o = org
    guest = await user_factory("guest")
    sent = await service.flows.invitations.invite(owner.id, o.id, "GUEST@example.com",
                                                  "OrgMember", META)
    assert not await service.rbac.has_role(guest.id, "OrgMember", f"org:{o.id}")
    async with service.transaction() as tx:
        row = await tx.get(Invitation, sent.invitation.id)
        assert row is not None and len(row.token_hash) == 64
    token = await invite_link(service, "GUEST@example.com")
    assert row.token_hash != token
    done = await service.flows.invitations.accept(token, guest.id, META)
    assert done.role == "OrgMember"
    assert await service.rbac.has_role(guest.id, "OrgMember", f"org:{o.id}")


@pytest.mark.parametrize("role", ["OrgOwner", "Admin", "SuperAdmin", "TeamLead", "Nope"])
async def test_role_injection_is_refused(service: AuthService, org, role: str) -> None:
    owner, o = org
    with pytest.raises(InputError):
        await service.flows.invitations.invite(owner.id, o.id, "x@example.com", role, META)


async def test_an_org_admin_cannot_offer_org_admin(service: AuthService, org,
                                                   user_factory) -> None:
    _, o = org
    admin = await user_factory("orgadmin", roles=[("OrgAdmin", f"org:{o.id}")])
    with pytest.raises(EscalationDenied):
        await service.flows.invitations.invite(admin.id, o.id, "x@example.com", "OrgAdmin",
                                               META)
    await service.flows.invitations.invite(admin.id, o.id, "x@example.com", "OrgMember", META)


async def test_members_without_invite_permission_cannot_invite(service: AuthService, org,
                                                               user_factory) -> None:
    _, o = org
    plain = await user_factory("plain", roles=[("OrgMember", f"org:{o.id}")])
    with pytest.raises(PermissionDenied):
        await service.flows.invitations.invite(plain.id, o.id, "x@example.com", "OrgMember",
                                               META)


async def test_another_account_cannot_use_the_invitation(service: AuthService, org,
                                                         user_factory) -> None:
    owner, o = org
    await user_factory("guest")
    thief = await user_factory("thief")
    await service.flows.invitations.invite(owner.id, o.id, "guest@example.com", "OrgMember",
                                           META)
    token = await invite_link(service, "guest@example.com")
    with pytest.raises(PermissionDenied):
        await service.flows.invitations.accept(token, thief.id, META)
    assert not await service.rbac.has_role(thief.id, "OrgMember", f"org:{o.id}")
    with pytest.raises(AccountExists):  # nor can a stranger sign up with the link
        await service.flows.invitations.sign_up(token, "newname", "a long good passphrase",
                                                META)


async def test_a_used_or_expired_invitation_is_refused(service: AuthService, org,
                                                       user_factory, clock) -> None:
    owner, o = org
    guest = await user_factory("guest")
    await service.flows.invitations.invite(owner.id, o.id, guest.email, "OrgMember", META)
    token = await invite_link(service, guest.email)
    await service.flows.invitations.accept(token, guest.id, META)
    with pytest.raises(TokenInvalid):
        await service.flows.invitations.accept(token, guest.id, META)
    late = await user_factory("late")
    await service.flows.invitations.invite(owner.id, o.id, late.email, "OrgMember", META)
    token = await invite_link(service, late.email)
    clock.advance(service.settings.invitation_expiry_seconds + 1)
    with pytest.raises(TokenExpired):
        await service.flows.invitations.accept(token, late.id, META)
    with pytest.raises(TokenInvalid):
        await service.flows.invitations.accept("not-a-real-token", late.id, META)


async def test_concurrent_acceptances_join_once(service: AuthService, org,
                                                user_factory) -> None:
    owner, o = org
    guest = await user_factory("guest")
    await service.flows.invitations.invite(owner.id, o.id, guest.email, "OrgMember", META)
    token = await invite_link(service, guest.email)
    results = await asyncio.gather(
        *(service.flows.invitations.accept(token, guest.id, META) for _ in range(10)),
        return_exceptions=True)
    assert sum(not isinstance(r, BaseException) for r in results) == 1


async def test_resend_replaces_the_link_and_revoke_ends_it(service: AuthService, org,
                                                           user_factory) -> None:
    owner, o = org
    guest = await user_factory("guest")
    sent = await service.flows.invitations.invite(owner.id, o.id, guest.email, "OrgMember",
                                                  META)
    first = await invite_link(service, guest.email)
    await service.flows.invitations.resend(owner.id, sent.invitation.id, META)
    second = await invite_link(service, guest.email)
    assert first != second
    with pytest.raises(TokenInvalid):
        await service.flows.invitations.preview(first)
    assert [i.id for i in await service.flows.invitations.pending(owner.id, o.id)] == [
        sent.invitation.id]
    await service.flows.invitations.revoke(owner.id, sent.invitation.id, META)
    assert await service.flows.invitations.pending(owner.id, o.id) == []
    with pytest.raises(TokenInvalid):
        await service.flows.invitations.accept(second, guest.id, META)
    with pytest.raises(NotFound):
        await service.flows.invitations.revoke(owner.id, sent.invitation.id, META)


async def test_inviting_again_replaces_the_pending_invitation(service: AuthService,
                                                              org) -> None:
    owner, o = org
    await service.flows.invitations.invite(owner.id, o.id, "new@example.com", "OrgMember", META)
    await service.flows.invitations.invite(owner.id, o.id, "new@example.com", "OrgAdmin", META)
    pending = await service.flows.invitations.pending(owner.id, o.id)
    assert [(i.email, i.role_name) for i in pending] == [("new@example.com", "OrgAdmin")]


async def test_members_are_not_invited_again(service: AuthService, org) -> None:
    owner, o = org
    with pytest.raises(ConflictError):
        await service.flows.invitations.invite(owner.id, o.id, owner.email, "OrgMember", META)


async def test_a_new_person_signs_up_from_the_link_verified_and_joined(
        service: AuthService, org) -> None:
    owner, o = org
    await service.flows.invitations.invite(owner.id, o.id, "newbie@example.com", "OrgAdmin",
                                           META)
    token = await invite_link(service, "newbie@example.com")
    preview = await service.flows.invitations.preview(token)
    assert (preview.organization.name, preview.account_exists) == ("Acme", False)
    done = await service.flows.invitations.sign_up(token, "newbie", "a long good passphrase",
                                                   META)
    assert done.user.email_verified and done.signed_in is not None
    assert done.signed_in.grants.has_role("OrgAdmin", f"org:{o.id}")
    with pytest.raises(TokenInvalid):
        await service.flows.invitations.preview(token)


async def test_an_inviter_who_lost_the_right_cannot_have_the_role_given(
        service: AuthService, org, user_factory) -> None:
    owner, o = org
    admin = await user_factory("orgadmin", roles=[("OrgAdmin", f"org:{o.id}")])
    guest = await user_factory("guest")
    await service.flows.invitations.invite(admin.id, o.id, guest.email, "OrgMember", META)
    token = await invite_link(service, guest.email)
    await service.flows.organizations.remove_member_from_organization(owner.id, o.id, admin.id,
                                                                      META)
    with pytest.raises(EscalationDenied):
        await service.flows.invitations.accept(token, guest.id, META)
    assert not await service.rbac.has_role(guest.id, "OrgMember", f"org:{o.id}")


async def test_team_invitation_for_an_org_member(service: AuthService, org,
                                                 user_factory) -> None:
    owner, o = org
    member = await user_factory("member", roles=[("OrgMember", f"org:{o.id}")])
    team = (await service.flows.teams.create_team(owner.id, o.id, "Core", META)).team
    await service.flows.invitations.invite(owner.id, o.id, member.email, "TeamMember", META,
                                           team_id=team.id)
    token = await invite_link(service, member.email)
    done = await service.flows.invitations.accept(token, member.id, META)
    assert done.team is not None and done.team.id == team.id
    assert [(t.id, r) for t, r in await service.flows.teams.get_user_teams(member.id)] == [
        (team.id, "TeamMember")]
    async with service.transaction() as tx:
        assert (await tx.scalars(select(Invitation.accepted_by_id))).all() == [member.id]

"""Organizations and teams through the core, on SQLite and PostgreSQL: the rules of
membership (stored only as role rows), ownership, leads and removal."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from quart_authtuna.core import AuthService
from quart_authtuna.core.db.models import Invitation, Team, UserRole
from quart_authtuna.core.errors import ConflictError, NotFound, PermissionDenied
from quart_authtuna.core.types import RequestMeta
from tests._support.orgs import allow_org_creation, invite_link

META = RequestMeta(ip_address="203.0.113.5")


@pytest.fixture(name="org_setup")
async def _org_setup(service: AuthService, user_factory):
    owner = await user_factory("owner")
    member = await user_factory("member")
    await allow_org_creation(service, owner.id)
    org = (await service.flows.organizations.create_organization(owner.id, "Acme", META)
           ).organization
    await service.flows.invitations.invite(owner.id, org.id, member.email, "OrgMember", META)
    await service.flows.invitations.accept(await invite_link(service, member.email), member.id,
                                           META)
    return owner, member, org


async def test_creating_needs_org_create_and_makes_the_creator_owner(
        service: AuthService, user_factory) -> None:
    nobody = await user_factory()
    with pytest.raises(PermissionDenied):
        await service.flows.organizations.create_organization(nobody.id, "Nope", META)
    await allow_org_creation(service, nobody.id)
    org = (await service.flows.organizations.create_organization(nobody.id, " Big  Co ", META)
           ).organization
    assert org.name == "Big Co"
    assert await service.rbac.has_role(nobody.id, "OrgOwner", f"org:{org.id}")
    with pytest.raises(ConflictError):
        await service.flows.organizations.create_organization(nobody.id, "Big Co", META)


async def test_membership_is_the_role_rows_only(service: AuthService, org_setup) -> None:
    owner, member, org = org_setup
    details = await service.flows.organizations.get_organization_details(owner.id, org.id)
    assert {(m.username, m.roles) for m in details.members} == {
        ("owner", ("OrgOwner",)), ("member", ("OrgMember",))}
    assert [(o.id, r) for o, r in await service.flows.organizations.get_user_organizations(
        member.id)] == [(org.id, "OrgMember")]


async def test_org_roles_apply_in_its_teams_but_not_in_a_sibling(
        service: AuthService, org_setup) -> None:
    owner, _, org = org_setup
    team = (await service.flows.teams.create_team(owner.id, org.id, "Core", META)).team
    grants = await service.rbac.grants_for(owner.id, fresh=True)
    assert grants.has_permission("team:manage", f"org:{org.id}/team:{team.id}")
    assert grants.has_role("TeamLead", f"org:{org.id}/team:{team.id}")
    assert not grants.has_permission("team:manage", f"org:{org.id}x/team:{team.id}")


async def test_the_last_owner_cannot_leave_until_ownership_is_transferred(
        service: AuthService, org_setup) -> None:
    owner, member, org = org_setup
    with pytest.raises(ConflictError):
        await service.flows.organizations.leave_organization(owner.id, org.id, META)
    with pytest.raises(PermissionDenied):
        await service.flows.organizations.transfer_ownership(member.id, org.id, owner.id, META)
    await service.flows.organizations.transfer_ownership(owner.id, org.id, member.id, META)
    assert await service.rbac.has_role(member.id, "OrgOwner", f"org:{org.id}")
    grants = await service.rbac.grants_for(owner.id)
    assert not grants.has_role("OrgOwner", f"org:{org.id}")
    assert grants.has_role("OrgAdmin", f"org:{org.id}")
    done = await service.flows.organizations.leave_organization(owner.id, org.id, META)
    assert done.roles_removed == 1
    assert not await service.flows.organizations.get_user_organizations(owner.id)


async def test_an_owner_cannot_be_removed_and_admins_cannot_remove_admins(
        service: AuthService, org_setup, user_factory) -> None:
    owner, member, org = org_setup
    admin = await user_factory("orgadmin", roles=[("OrgAdmin", f"org:{org.id}")])
    other = await user_factory("otheradmin", roles=[("OrgAdmin", f"org:{org.id}")])
    with pytest.raises(ConflictError):
        await service.flows.organizations.remove_member_from_organization(
            admin.id, org.id, owner.id, META)
    with pytest.raises(PermissionDenied):
        await service.flows.organizations.remove_member_from_organization(
            member.id, org.id, admin.id, META)
    from quart_authtuna.core.errors import EscalationDenied

    with pytest.raises(EscalationDenied):
        await service.flows.organizations.remove_member_from_organization(
            admin.id, org.id, other.id, META)
    assert await service.rbac.has_role(other.id, "OrgAdmin", f"org:{org.id}")


async def test_removing_a_member_drops_org_and_team_roles_at_once(
        service: AuthService, org_setup) -> None:
    owner, member, org = org_setup
    team = (await service.flows.teams.create_team(owner.id, org.id, "Core", META)).team
    scope = f"org:{org.id}/team:{team.id}"
    await service.flows.teams.add_team_member(owner.id, team.id, member.id, "TeamMember", META)
    assert await service.rbac.has_role(member.id, "TeamMember", scope)  # now cached
    done = await service.flows.organizations.remove_member_from_organization(
        owner.id, org.id, member.id, META)
    assert done.roles_removed == 2
    cached = await service.rbac.grants_for(member.id)  # revocation dropped the cache entry
    assert not cached.has_role("TeamMember", scope)
    assert not cached.has_role("OrgMember", f"org:{org.id}")


async def test_a_team_keeps_a_lead(service: AuthService, org_setup) -> None:
    owner, member, org = org_setup
    team = (await service.flows.teams.create_team(owner.id, org.id, "Core", META)).team
    await service.flows.teams.add_team_member(owner.id, team.id, member.id, "TeamMember", META)
    with pytest.raises(ConflictError):
        await service.flows.teams.leave_team(owner.id, team.id, META)
    with pytest.raises(ConflictError):
        await service.flows.teams.add_team_member(owner.id, team.id, owner.id, "TeamMember",
                                                  META)
    await service.flows.teams.add_team_member(owner.id, team.id, member.id, "TeamLead", META)
    await service.flows.teams.add_team_member(owner.id, team.id, owner.id, "TeamMember", META)
    details = await service.flows.teams.get_team_details(member.id, team.id)
    assert {(m.username, m.roles) for m in details.members} == {
        ("owner", ("TeamMember",)), ("member", ("TeamLead",))}
    await service.flows.teams.leave_team(owner.id, team.id, META)
    with pytest.raises(NotFound):
        await service.flows.teams.leave_team(owner.id, team.id, META)
    # the only member may leave: nobody is left without a lead
    await service.flows.teams.leave_team(member.id, team.id, META)


async def test_only_org_members_join_its_teams(service: AuthService, org_setup,
                                               user_factory) -> None:
    owner, _, org = org_setup
    outsider = await user_factory("outsider")
    team = (await service.flows.teams.create_team(owner.id, org.id, "Core", META)).team
    from quart_authtuna.core.errors import InputError

    with pytest.raises(InputError):
        await service.flows.teams.add_team_member(owner.id, team.id, outsider.id, "TeamMember",
                                                  META)
    with pytest.raises(InputError):
        await service.flows.invitations.invite(owner.id, org.id, outsider.email, "TeamMember",
                                               META, team_id=team.id)


async def test_deleting_an_org_removes_teams_invitations_and_every_role(
        service: AuthService, org_setup, user_factory) -> None:
    owner, member, org = org_setup
    team = (await service.flows.teams.create_team(owner.id, org.id, "Core", META)).team
    await service.flows.teams.add_team_member(owner.id, team.id, member.id, "TeamLead", META)
    await service.flows.invitations.invite(owner.id, org.id, "later@example.com", "OrgMember",
                                           META)
    with pytest.raises(PermissionDenied):
        await service.flows.organizations.delete_organization(member.id, org.id, META)
    assert (await service.rbac.grants_for(member.id)).has_role("TeamLead",
                                                               f"org:{org.id}/team:{team.id}")
    done = await service.flows.organizations.delete_organization(owner.id, org.id, META)
    assert done.members == 2
    async with service.transaction() as tx:
        left = await tx.scalar(select(func.count()).select_from(UserRole).where(
            UserRole.scope.like(f"org:{org.id}%")))
        assert left == 0
        assert await tx.scalar(select(func.count()).select_from(Team)) == 0
        assert await tx.scalar(select(func.count()).select_from(Invitation)) == 0
    assert not (await service.rbac.grants_for(member.id)).has_role(
        "TeamLead", f"org:{org.id}/team:{team.id}")


async def test_deleting_a_team_drops_its_roles_only(service: AuthService, org_setup) -> None:
    owner, member, org = org_setup
    team = (await service.flows.teams.create_team(owner.id, org.id, "Core", META)).team
    await service.flows.teams.add_team_member(owner.id, team.id, member.id, "TeamMember", META)
    with pytest.raises(PermissionDenied):
        await service.flows.teams.delete_team(member.id, team.id, META)
    await service.flows.teams.delete_team(owner.id, team.id, META)
    grants = await service.rbac.grants_for(member.id)
    assert grants.has_role("OrgMember", f"org:{org.id}")
    assert [t for t, _ in await service.flows.teams.get_user_teams(member.id)] == []


async def test_details_are_hidden_from_outsiders(service: AuthService, org_setup,
                                                 user_factory) -> None:
    _, _, org = org_setup
    outsider = await user_factory("outsider")
    with pytest.raises(NotFound):
        await service.flows.organizations.get_organization_details(outsider.id, org.id)


async def test_grants_of_a_user_in_many_orgs_and_teams_load_in_one_statement(
        service: AuthService, user_factory) -> None:
    from quart_authtuna.core.db.models import Role
    from quart_authtuna.core.rbac.checker import load_grants
    from tests._support.queries import count_queries

    user = await user_factory("busy")
    async with service.transaction() as tx:
        ids = {r.name: r.id for r in (await tx.scalars(select(Role))).all()}
        for o in range(30):
            tx.add(UserRole(user_id=user.id, role_id=ids["OrgMember"], scope=f"org:o{o}",
                            given_by_id="system", given_at=0.0))
            for t in range(5):
                tx.add(UserRole(user_id=user.id, role_id=ids["TeamLead"],
                                scope=f"org:o{o}/team:t{t}", given_by_id="system",
                                given_at=0.0))
    with count_queries(service.engine) as log:
        async with service.transaction() as tx:
            grants = await load_grants(tx, user.id)
    assert len(log.data) == 1, log
    assert grants.has_permission("team:manage", "org:o29/team:t4")
    assert not grants.has_permission("team:manage", "org:o29/team:t5")


async def test_upstream_names_on_service_organizations(service: AuthService,
                                                       user_factory) -> None:
    owner, member = await user_factory("owner"), await user_factory("member")
    await allow_org_creation(service, owner.id)
    orgs = service.organizations
    org = (await orgs.create_organization("Upstream Co", owner.id)).organization
    await orgs.invite_to_organization(org.id, owner.id, member.email)
    await orgs.accept_organization_invite(await invite_link(service, member.email), member.id)
    team = (await orgs.create_team("Core", org.id, owner.id)).team
    await orgs.invite_to_team(team.id, owner.id, member.email)
    await orgs.accept_team_invite(await invite_link(service, member.email), member.id)
    assert [r for _, r in await orgs.get_user_teams(member.id)] == ["TeamMember"]
    assert len((await orgs.get_team_details(team.id, member.id)).members) == 2
    assert len((await orgs.get_organization_details(org.id, member.id)).members) == 2
    await orgs.leave_team(team.id, member.id)
    await orgs.remove_member_from_organization(org.id, member.id, owner.id)
    assert await orgs.get_user_organizations(member.id) == []
    await orgs.delete_team(team.id, owner.id)
    await orgs.delete_organization(org.id, owner.id)
    assert await orgs.get_user_organizations(owner.id) == []

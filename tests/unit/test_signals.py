"""Every declared signal fires from some flow, after commit, with the service as sender."""

from __future__ import annotations

from typing import Any

from quart_authtuna.core import AuthService, InvalidCredentials, signals
from quart_authtuna.core.types import RequestMeta
from tests._support.orgs import allow_org_creation, invite_link
from tests.conftest import PASSWORD


async def _org_journey(service: AuthService, user_id: str) -> None:
    """Organization signals: create, invite, join, transfer, teams, remove, delete."""
    meta, orgs = RequestMeta(), service.flows.organizations
    await allow_org_creation(service, user_id)
    org = (await orgs.create_organization(user_id, "Signals Inc", meta)).organization
    other = await service.users.create("sig@example.com", "sig", PASSWORD, email_verified=True)
    await service.flows.invitations.invite(user_id, org.id, other.email, "OrgMember", meta)
    await service.flows.invitations.accept(await invite_link(service, other.email), other.id,
                                           meta)
    team = (await service.flows.teams.create_team(user_id, org.id, "T", meta)).team
    await service.flows.teams.delete_team(user_id, team.id, meta)
    await orgs.transfer_ownership(user_id, org.id, other.id, meta)
    await orgs.leave_organization(user_id, org.id, meta)
    await orgs.delete_organization(other.id, org.id, meta)


async def test_every_declared_signal_fires(service: AuthService, user_factory) -> None:
    received: list[tuple[str, dict[str, Any]]] = []

    def record(name: str):
        def receiver(sender: object, **kwargs: Any) -> None:
            assert sender is service
            received.append((name, kwargs))
        return receiver

    receivers = [record(signal.name) for signal in signals.ALL]
    for signal, receiver in zip(signals.ALL, receivers, strict=True):
        signal.connect(receiver, sender=service)

    user = await user_factory("rita")
    await service.users.update(user.id, {"first_name": "Rita"})
    _, issued = await service.login("rita", PASSWORD)
    try:
        await service.login("rita", "wrong password entirely")
    except InvalidCredentials:
        pass
    await service.change_password(user.id, PASSWORD, "another good passphrase")
    token = await service.request_password_reset("rita@example.com")
    await service.reset_password(token.id, "a third good passphrase")
    await service.roles.assign_to_user(user.id, "OrgMember", "system", scope="org:x")
    await service.roles.remove_from_user(user.id, "OrgMember", "system", scope="org:x")
    await _org_journey(service, user.id)
    await service.users.suspend_user(user.id, "system", "test")
    await service.users.unsuspend_user(user.id, "system", "test")
    await service.users.delete(user.id, "system")

    # The social sign-in signals fire over HTTP, against the dev provider:
    # tests/integration/test_sso_linking.py and test_sso_connections.py.
    social = {signals.social_account_connected.name, signals.social_account_disconnected.name,
              signals.social_signed_in.name}
    assert {name for name, _ in received} == {s.name for s in signals.ALL} - social
    reset = [kw for name, kw in received if name == "password-reset-requested"]
    assert reset[0]["token"] == token.raw


async def test_signals_do_not_fire_when_the_transaction_rolls_back(
    service: AuthService,
) -> None:
    fired: list[object] = []
    signals.user_created.connect(lambda sender, **kw: fired.append(kw), sender=service, weak=False)
    try:
        async with service.transaction() as tx:
            await service.users.create("sam@example.com", "sam", PASSWORD, session=tx)
            raise LookupError
    except LookupError:
        pass
    assert fired == []

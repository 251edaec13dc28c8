"""Organizations in tests: a founder who may create them, and invitation links from mail."""

from __future__ import annotations

import re
from urllib.parse import unquote

from quart_authtuna.core import AuthService

FOUNDER_ROLE = "Founder"


async def allow_org_creation(svc: AuthService, user_id: str) -> None:
    """Give ``user_id`` ``org:create`` in ``global`` (through a role, as an admin would)."""
    if await svc.roles.get_by_name(FOUNDER_ROLE) is None:
        await svc.roles.create(FOUNDER_ROLE, "May create organizations")
        await svc.roles.add_permission_to_role(FOUNDER_ROLE, "org:create")
    await svc.roles.assign_to_user(user_id, FOUNDER_ROLE, "system", scope="global")


async def invite_link(svc: AuthService, to: str) -> str:
    """The raw token of the newest invitation mailed to ``to`` (outbox)."""
    await svc.mail.drain()
    message = svc.mail.outbox.last(to=to)
    assert message is not None and message.kind.endswith("_invite"), f"no invitation to {to}"
    return token_in(message.text)


def token_in(text: str) -> str:
    match = re.search(r"/join\?token=([A-Za-z0-9_\-%]+)", text)
    assert match, "no join link in the message"
    return unquote(match.group(1))

"""The user's pages under ``/ui``: for now the settings page and its security section."""

from __future__ import annotations

from datetime import UTC, datetime

from quart.typing import ResponseReturnValue

from ...core.service import AuthService
from ...decorators import login_required
from .. import current
from ..guards import EVERY_ROUTE, authtuna_blueprint
from ..journey import service
from ..request_state import request_state
from ..respond import render_page
from .passkeys import passkey_json

ui = authtuna_blueprint("authtuna_ui", __name__, account_management=EVERY_ROUTE)


@ui.app_template_filter("authtuna_datetime")
def format_datetime(epoch: float | None) -> str:
    if not epoch:
        return ""
    return datetime.fromtimestamp(epoch, UTC).strftime("%d %b %Y, %H:%M UTC")


def svc() -> AuthService:
    return service()


@ui.get("/settings")
@login_required
async def settings() -> ResponseReturnValue:
    """The ways in (password, passkeys, authenticator app, recovery codes) and the rest."""
    service, config = svc(), current.settings()
    user = await service.users.get_by_id(request_state().signed_in_user())
    assert user is not None
    keys = [passkey_json(row) for row in await service.passkeys.list(user.id)] \
        if config.passkeys_enabled else []
    has_password = user.password_hash is not None
    left = await service.mfa.remaining_recovery_codes(user.id) \
        if user.mfa_enabled or not has_password else 0
    return await render_page("account/settings.html", mfa_available=config.mfa_enabled,
                             mfa_enabled=user.mfa_enabled, recovery_codes_left=left,
                             passkeys=keys, has_password=has_password)

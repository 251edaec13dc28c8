"""The quart-authtuna demo: a public page, a signed-in page, a per-project page, a team board
guarded by a nested organization/team scope, an admin page.

Run it with ``make demo``. It stores everything in ``instance/`` (SQLite and its dev keys).
"""

from __future__ import annotations

import ipaddress
import json
import logging
import os
import secrets
from pathlib import Path
from typing import Any

from cryptography.fernet import Fernet
from quart import Quart, abort, current_app, render_template, request

from quart_authtuna import (
    AuthTuna,
    current_user,
    login_required,
    permission_required,
    role_required,
)

INSTANCE = Path("instance")


def demo_port() -> int:
    """The port the demo serves on: $PORT, default 5000."""
    return int(os.environ.get("PORT", "5000"))


def dev_config() -> dict[str, Any]:
    """SQLite plus secrets kept in instance/ so sessions and passwords survive restarts.

    Links in mails and the passkey origin follow $PORT (set AUTHTUNA_API_BASE_URL to override).
    """
    INSTANCE.mkdir(exist_ok=True)
    keys_file = INSTANCE / "dev-secrets.json"
    if not keys_file.exists():
        keys_file.write_text(json.dumps({
            "AUTHTUNA_JWT_SECRET_KEY": secrets.token_urlsafe(48),
            "AUTHTUNA_ENCRYPTION_PRIMARY_KEY": secrets.token_urlsafe(48),
            "AUTHTUNA_PASSWORD_PEPPER": secrets.token_urlsafe(48),
            "AUTHTUNA_FERNET_KEYS": [Fernet.generate_key().decode()],
        }))
        keys_file.chmod(0o600)
    return {
        **json.loads(keys_file.read_text()),
        "AUTHTUNA_DEFAULT_DATABASE_URI": f"sqlite+aiosqlite:///{INSTANCE.resolve()}/demo.db",
        "AUTHTUNA_APP_NAME": "Tuna Projects",
        "AUTHTUNA_API_BASE_URL": os.environ.get("AUTHTUNA_API_BASE_URL",
                                                f"http://localhost:{demo_port()}"),
        "AUTHTUNA_SESSION_SECURE": False,  # the demo is served over plain http on localhost
    }


#: Headers a reverse proxy adds: behind one, every client's TCP peer is the proxy itself.
FORWARDING_HEADERS = ("Forwarded", "X-Forwarded-For", "X-Real-IP", "X-Forwarded-Host")


def from_this_machine() -> bool:
    """The TCP peer is a loopback address and no proxy forwarded the request (a proxy on
    this machine would make every client look local)."""
    if any(name in request.headers for name in FORWARDING_HEADERS):
        return False
    try:
        peer = ipaddress.ip_address(request.remote_addr or "")
    except ValueError:
        return False
    mapped = getattr(peer, "ipv4_mapped", None)
    return (mapped or peer).is_loopback


def create_app(config: dict[str, Any] | None = None) -> Quart:
    app = Quart(__name__)
    app.config.update(dev_config())
    app.config.update(config or {})
    auth = AuthTuna(app)
    logging.getLogger("quart_authtuna.mail").setLevel(logging.INFO)

    @app.before_serving
    async def seed_demo_permissions() -> None:
        """A role that may read projects; give it with
        ``quart --app example_app.app:create_app authtuna assign-role NAME ProjectViewer
        --scope project:apollo``."""
        svc = auth.service
        await svc.permissions.get_or_create("projects:read", {"description": "Read a project"})
        if await svc.roles.get_by_name("ProjectViewer") is None:
            await svc.roles.create("ProjectViewer", "Can read projects", level=10)
            await svc.roles.add_permission_to_role("ProjectViewer", "projects:read")
        if await svc.roles.get_by_name("Founder") is None:  # assign-role NAME Founder
            await svc.roles.create("Founder", "May create organizations")
            await svc.roles.add_permission_to_role("Founder", "org:create")
        if not await svc.users.count() > 3:
            print("\nNo users yet. Create the first admin with:\n  .venv/bin/quart --app "
                  "example_app.app:create_app authtuna create-user --superadmin\n", flush=True)

    outbox_served = auth.settings is not None and not auth.settings.production

    @app.get("/")
    async def index() -> str:
        return await render_template("index.html", outbox=outbox_served and from_this_machine())

    @app.get("/dashboard")
    @login_required
    async def dashboard() -> str:
        return await render_template("page.html", title=f"Hello, {current_user.username}",
                                     text="Only signed-in users see this page.")

    @app.get("/projects/<project_id>")
    @permission_required("projects:read", scope_from_path="project_id")
    async def read_project(project_id: str) -> str:
        return await render_template("page.html", title=f"Project {project_id}",
                                     text="You hold projects:read in this project's scope.")

    @app.get("/orgs/<org_id>/teams/<team_id>/board")
    @role_required("TeamLead", "TeamMember", "OrgAdmin", "OrgOwner",
                   scope="org:{org_id}/team:{team_id}")
    async def team_board(org_id: str, team_id: str) -> str:
        """Members of the team, and the organization's admins and owners (their roles at
        ``org:<org_id>`` cover its teams); everyone else gets 403."""
        return await render_template("page.html", title="Team board",
                                     text=f"You may see team {team_id} of organization {org_id}.")

    @app.get("/admin-area")
    @role_required("Admin", "SuperAdmin")
    async def admin_area() -> str:
        return await render_template("page.html", title="Admin area",
                                     text="Admins and super admins only.")

    @app.get("/dev/outbox")
    async def outbox() -> str:
        """The mails the demo would have sent, with their sign-in and reset links: served only
        in development mode and only to this machine, else 404."""
        if not (outbox_served and from_this_machine()):
            abort(404)
        messages = list(current_app.extensions["authtuna"].service.mail.outbox.messages)
        return await render_template("outbox.html", messages=reversed(messages))

    return app

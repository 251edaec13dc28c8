"""AuthTuna(app): resolve settings, build the service, register hooks, pages and commands."""

from __future__ import annotations

import gc
import logging
import os
from pathlib import Path
from typing import Any

from quart import Quart, Response, has_request_context, request, url_for
from quart.typing import ResponseReturnValue

from .core.broadcast.choice import make_broadcaster
from .core.revocation import Broadcaster
from .core.service import AuthService
from .core.settings import Settings
from .web import handlers, i18n, security_headers, session_hook, step_up
from .web.blueprints.assets import assets
from .web.links import UrlMapLinks
from .web.request_state import existing_request_state

logger = logging.getLogger("quart_authtuna")


class AuthTuna:
    """The Quart extension.

    Arguments:
        app: the application, or None to call :meth:`init_app` later.
        overrides: settings that win over ``AUTHTUNA_*`` app config and environment,
            e.g. ``AuthTuna(app, SESSION_DB_VERIFICATION_INTERVAL=30)``.
    """

    def __init__(self, app: Quart | None = None, **overrides: Any) -> None:
        self._overrides = overrides
        self.settings: Settings | None = None
        self.service: AuthService | None = None
        self._locale_selector: i18n.LocaleSelector | None = None
        self._apps: list[Quart] = []
        if app is not None:
            self.init_app(app)

    def init_app(self, app: Quart) -> None:
        """Attach to ``app``; nothing touches the database until the app starts serving."""
        settings = Settings.from_sources(app.config, os.environ, self._overrides)
        name = settings.dev_secrets_file  # development secrets live in the instance folder
        settings = settings.checked(logger, Path(app.instance_path, name) if name else None)
        self.settings = settings
        links = None if settings.only_middleware else UrlMapLinks(app, settings.api_base_url)
        self.service = AuthService(settings, links=links,
                                   broadcaster=self.make_broadcaster(settings))
        app.extensions["authtuna"] = self
        app.before_serving(self._start)
        app.after_serving(self.service.close)
        _register_hooks(app, settings, self.service)
        i18n.install(app, settings)
        self._apps.append(app)
        if self._locale_selector is not None:
            i18n.use_selector(app, self._locale_selector)
        handlers.register(app)
        app.register_blueprint(assets)
        if settings.healthz_enabled:
            from .web.blueprints.health import health

            app.register_blueprint(health, url_prefix=settings.healthz_path)
        app.context_processor(self._template_context)
        if not settings.only_middleware:
            from .web.blueprints import register_blueprints

            register_blueprints(app, settings)
            if settings.openapi_enabled:
                from .web.openapi import install

                install(app, settings)
        from .cli import cli

        app.cli.add_command(cli)

    def locale_selector(self, func: i18n.LocaleSelector) -> i18n.LocaleSelector:
        """Decorate the function that picks each request's locale (None: Accept-Language)."""
        self._locale_selector = func
        for app in self._apps:
            i18n.use_selector(app, func)
        return func

    async def _start(self) -> None:
        assert self.service is not None
        await self.service.start()
        self.service.serve_background()

    def make_broadcaster(self, settings: Settings) -> Broadcaster:
        """What carries revocations to the other processes (REVOCATION_BROADCASTER's choice);
        override it to bring another broker."""
        return make_broadcaster(settings)

    async def _template_context(self) -> dict[str, Any]:
        from .globals import current_user
        from .web import csrf, user_nav
        from .web.redirects import safe_next

        return {
            "current_user": current_user,
            "authtuna_static": lambda path: url_for("authtuna.static", filename=f"authtuna/{path}"),
            "authtuna_theme_url": url_for("authtuna.theme_css"),
            "authtuna_csrf_token": csrf.generate_token,
            "app_name": self.settings.app_name if self.settings else "AuthTuna",
            "passkeys_enabled": bool(self.settings and self.settings.passkeys_enabled),
            "passkeys_prefix": self.settings.passkeys_prefix if self.settings else "/passkeys",
            "authtuna_safe_next": safe_next,
            "authtuna_referrer_policy": _referrer_policy(),
            "authtuna_user_nav": user_nav.entries,
        }


def _register_hooks(app: Quart, settings: Settings, service: AuthService) -> None:
    """One hook before and one after every request; both close over this app's settings and
    service, so an anonymous request does not even look the extension up."""

    unfrozen = [settings.gc_freeze_after_startup]
    loader = session_hook.SessionLoader(settings, service)

    async def authtuna_load_session() -> ResponseReturnValue | None:
        if unfrozen and unfrozen.pop():  # start-up is over when the first request arrives
            _freeze_startup_heap()
        state = await loader.load()
        if state is not None and state.needs_step_up:  # another device presented this cookie
            return step_up.require_step_up()
        return None

    async def authtuna_finish_response(response: Response) -> Response:
        state = existing_request_state()
        if state is None:
            req = request._get_current_object()  # type: ignore[attr-defined]
        else:
            req = state.request or request._get_current_object()  # type: ignore[attr-defined]
            if state.response_work():
                session_hook.save_session(response, state, settings, service.now())
        return security_headers.secure_response(response, req, state, settings)

    app.before_request(authtuna_load_session)
    if settings.mfa_required_roles and settings.mfa_enabled:
        from .web.mfa_policy import enforce_enrolment

        app.before_request(enforce_enrolment)
    app.after_request(authtuna_finish_response)


_heap_frozen = False


def _freeze_startup_heap() -> None:
    """``gc.freeze()`` once per process: the heap built by imports and start-up (about
    115,000 objects with SQLAlchemy's) lives as long as the process, and each full collection
    would rescan it. Later apps in the same process (a test suite) freeze nothing more."""
    global _heap_frozen
    if not _heap_frozen:
        _heap_frozen = True
        gc.freeze()


def _referrer_policy() -> str:
    """``no-referrer`` on authtuna's pages and on any URL carrying a token, else same-origin."""
    if not has_request_context():
        return "no-referrer"
    own_page = (request.blueprint or "").startswith("authtuna")
    return "no-referrer" if own_page or "token" in request.args else "same-origin"

"""The viewer's language: pick the locale per request, give templates gettext and dates.

The locale is the application's choice (``auth.locale_selector``), else the best match of
``Accept-Language`` among the offered locales (``LOCALES``, default every shipped one), else
``DEFAULT_LOCALE``. It is set in :mod:`..core.i18n`'s context variable, so flows, form errors
and mails of the request use it too.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from quart import Quart, request

from ..core import i18n
from ..core.settings import Settings

#: Returns the locale for the current request, or None to fall back to Accept-Language.
LocaleSelector = Callable[[], str | None | Awaitable[str | None]]


def offered(settings: Settings) -> list[str]:
    """The locales viewers may get, the default first."""
    names = list(settings.locales) or i18n.shipped_locales()
    return list(dict.fromkeys([settings.default_locale, *names]))


def install(app: Quart, settings: Settings, selector: Callable[[], LocaleSelector | None]
            ) -> None:
    """Jinja's i18n extension on the app's templates, the date filter and the locale hook."""
    i18n.add_catalog_dirs(settings.translation_dirs)
    env = app.jinja_env
    env.add_extension("jinja2.ext.i18n")
    env.install_gettext_callables(  # type: ignore[attr-defined]
        i18n.gettext, i18n.ngettext, newstyle=True)
    env.filters["authtuna_datetime"] = i18n.format_datetime
    env.filters["authtuna_translate"] = i18n.translate
    choices = offered(settings)

    async def authtuna_pick_locale() -> None:
        chosen: str | None = None
        hook = selector()
        if hook is not None:
            answer = hook()
            chosen = await answer if isinstance(answer, Awaitable) else answer
        if not chosen:
            chosen = request.accept_languages.best_match(choices, settings.default_locale)
        i18n.use_locale(chosen or settings.default_locale)

    app.before_request_funcs.setdefault(None, []).insert(0, authtuna_pick_locale)

    @app.context_processor
    def authtuna_locale() -> dict[str, str]:
        return {"authtuna_locale": i18n.current_locale()}

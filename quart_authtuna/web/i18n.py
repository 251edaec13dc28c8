"""The viewer's language: pick the locale per request, give templates gettext and dates.

The locale is the application's choice (``auth.locale_selector``), else the best match of
``Accept-Language`` among the offered locales (``LOCALES``, default every shipped one), else
``DEFAULT_LOCALE``. It is set in :mod:`..core.i18n`'s context variable, so flows, form errors
and mails of the request use it too.
"""

from __future__ import annotations

import functools
from collections.abc import Awaitable, Callable

from quart import Quart, has_request_context, request

from ..core import i18n
from ..core.settings import Settings
from . import current

#: Returns the locale for the current request, or None to fall back to Accept-Language.
LocaleSelector = Callable[[], str | None | Awaitable[str | None]]


def offered(settings: Settings) -> list[str]:
    """The locales viewers may get, the default first."""
    return list(_offered(settings.default_locale, settings.locales))


@functools.lru_cache(maxsize=16)
def _offered(default: str, locales: tuple[str, ...]) -> tuple[str, ...]:
    names = list(locales) or i18n.shipped_locales()
    return tuple(dict.fromkeys([default, *names]))


def install(app: Quart, settings: Settings) -> None:
    """Jinja's i18n extension on the app's templates, the date filter, and the locale picked
    from Accept-Language when something first needs it (a page, a mail, a message)."""
    i18n.add_catalog_dirs(settings.translation_dirs)
    env = app.jinja_env
    env.add_extension("jinja2.ext.i18n")
    env.install_gettext_callables(  # type: ignore[attr-defined]
        i18n.gettext, i18n.ngettext, newstyle=True)
    env.filters["authtuna_datetime"] = i18n.format_datetime
    env.filters["authtuna_translate"] = i18n.translate
    i18n.choose_locale_with(_accept_language)

    @app.context_processor
    def authtuna_locale() -> dict[str, str]:
        return {"authtuna_locale": i18n.current_locale()}


def _accept_language() -> str | None:
    """The best match of this request's Accept-Language among the offered locales."""
    if not has_request_context():
        return None
    settings = current.settings()
    return request.accept_languages.best_match(_offered(settings.default_locale,
                                                        settings.locales),
                                               settings.default_locale)


def use_selector(app: Quart, selector: LocaleSelector) -> None:
    """Ask ``selector`` first on every request of ``app`` (falling back to Accept-Language)."""

    async def authtuna_pick_locale() -> None:
        answer = selector()
        chosen = await answer if isinstance(answer, Awaitable) else answer
        if chosen:
            i18n.use_locale(chosen)

    app.before_request_funcs.setdefault(None, []).insert(0, authtuna_pick_locale)


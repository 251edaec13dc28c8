"""Translations: the viewer's locale in a context variable, gettext from the shipped catalogs.

The web layer picks the locale per request (:func:`use_locale`); everything rendered or raised
while it handles the request, mails sent in its background tasks included, speaks that
language. Core code marks user-facing text with :func:`gettext` (formatted now) or :func:`N_`
(a module-level constant, translated where it is shown); error messages are translated when
read (``AuthTunaError.message``). Catalogs are ``translations/<locale>/LC_MESSAGES/authtuna.mo``
inside the package; an app may put its own catalogs of the same domain first.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from contextvars import ContextVar, Token
from datetime import UTC, datetime
from functools import lru_cache
from pathlib import Path

from babel import Locale, UnknownLocaleError
from babel.dates import format_date, format_time, get_datetime_format
from babel.support import NullTranslations, Translations

DOMAIN = "authtuna"
DEFAULT_LOCALE = "en"
CATALOG_DIR = Path(__file__).resolve().parent.parent / "translations"

_locale: ContextVar[str | None] = ContextVar("authtuna_locale", default=None)
#: Picks the locale the first time a context needs one (the web layer's: per request).
_chooser: Callable[[], str | None] | None = None
_extra_dirs: tuple[str, ...] = ()


def N_(message: str) -> str:  # noqa: N802 - the conventional marker name
    """Mark ``message`` for extraction only; it is translated where it is shown."""
    return message


def shipped_locales() -> list[str]:
    """The locales with a compiled catalog in the package, English first."""
    found = sorted(p.parent.parent.name for p in CATALOG_DIR.glob(f"*/LC_MESSAGES/{DOMAIN}.mo"))
    return [DEFAULT_LOCALE, *[name for name in found if name != DEFAULT_LOCALE]]


def add_catalog_dirs(dirs: Iterable[str]) -> None:
    """Catalog folders of the application, searched before the shipped ones."""
    global _extra_dirs
    merged = tuple(dict.fromkeys([*dirs, *_extra_dirs]))
    if merged != _extra_dirs:
        _extra_dirs = merged
        translations.cache_clear()


@lru_cache(maxsize=32)
def translations(locale: str) -> NullTranslations:
    """The merged catalogs for ``locale`` (empty for English or an unknown locale)."""
    merged: NullTranslations = NullTranslations()
    for folder in [*_extra_dirs, str(CATALOG_DIR)]:
        found = Translations.load(folder, [locale], domain=DOMAIN)
        if isinstance(found, Translations):
            if isinstance(merged, Translations):
                merged.merge(found)
            else:
                merged = found
    return merged


def use_locale(locale: str) -> Token[str | None]:
    """Make ``locale`` current in this context; reset with ``reset_locale(token)``."""
    return _locale.set(locale or DEFAULT_LOCALE)


def reset_locale(token: Token[str | None]) -> None:
    _locale.reset(token)


def choose_locale_with(chooser: Callable[[], str | None]) -> None:
    """Install the function that picks a context's locale on first use (None: default)."""
    global _chooser
    _chooser = chooser


def current_locale() -> str:
    """The locale of the current request (``en`` outside one), picked on first use: a
    request that translates nothing never parses its Accept-Language."""
    locale = _locale.get()
    if locale is None:
        locale = _chooser() if _chooser is not None else None
        if locale is None:  # outside a request: nothing to remember
            return DEFAULT_LOCALE
        _locale.set(locale)  # the rest of this request (its own task) keeps it
    return locale


def gettext(message: str) -> str:
    """``message`` in the current locale."""
    if not message:
        return message
    return translations(current_locale()).ugettext(message)


def translate(value: object) -> object:
    """A message held in a variable (a page title, a flow's message), translated if it is
    one the catalogs know; anything else is returned unchanged."""
    if isinstance(value, str | LazyString) and str(value):
        return gettext(str(value))
    return value


def ngettext(singular: str, plural: str, n: int) -> str:
    """The singular or plural form for ``n`` in the current locale."""
    return translations(current_locale()).ungettext(singular, plural, n)


def _parsed(locale: str | None) -> Locale:
    try:
        return Locale.parse(locale or current_locale(), sep="-")
    except (UnknownLocaleError, ValueError):
        return Locale.parse(DEFAULT_LOCALE)


def format_day(epoch: float) -> str:
    """A day (epoch seconds, UTC) as "12 Jan" in the current locale."""
    return format_date(datetime.fromtimestamp(epoch, UTC), "d MMM", locale=_parsed(None))


def format_datetime(epoch: float | None, locale: str | None = None) -> str:
    """A moment (epoch seconds) as the viewer's locale writes it, in UTC."""
    if not epoch:
        return ""
    parsed = _parsed(locale)
    moment = datetime.fromtimestamp(epoch, UTC)
    day = format_date(moment, "medium", locale=parsed)
    clock = format_time(moment, "short", tzinfo=UTC, locale=parsed)
    pattern = str(get_datetime_format("medium", locale=parsed))
    return pattern.replace("{1}", day).replace("{0}", clock).replace("'", "") + " UTC"


class LazyString:
    """Text translated each time it is shown (form labels and messages built at import)."""

    __slots__ = ("_message",)

    def __init__(self, message: str) -> None:
        self._message = message

    def __str__(self) -> str:
        return gettext(self._message)

    def __html__(self) -> str:
        from markupsafe import escape

        return str(escape(str(self)))

    def __repr__(self) -> str:
        return f"lazy_gettext({self._message!r})"

    def __len__(self) -> int:
        return len(str(self))

    def __eq__(self, other: object) -> bool:
        return str(self) == str(other)

    def __hash__(self) -> int:
        return hash(self._message)

    def __add__(self, other: str) -> str:
        return str(self) + other

    def __radd__(self, other: str) -> str:
        return other + str(self)

    def __mod__(self, values: object) -> str:
        return str(self) % values

    def format(self, *args: object, **kwargs: object) -> str:
        return str(self).format(*args, **kwargs)


def lazy_gettext(message: str) -> str:
    """``message``, translated when shown; typed as ``str`` because it stands in for one."""
    return LazyString(message)  # type: ignore[return-value]

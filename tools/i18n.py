"""Extract, update and compile the translation catalogs (``make i18n``).

    python tools/i18n.py            # extract -> authtuna.pot, update every .po, compile .mo
    python tools/i18n.py init fr    # start a new locale from the template
    python tools/i18n.py compile    # compile only

Messages come from the templates (Jinja's extractor: ``{% trans %}``, ``_()``), from the
package's Python (``gettext``, ``ngettext``, ``N_``, ``_``) and from the docstrings of the
core errors, which are their default messages.
"""

from __future__ import annotations

import inspect
import sys
from pathlib import Path

from babel.messages.catalog import Catalog
from babel.messages.extract import extract_from_dir
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po, write_po

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
CATALOGS = ROOT / "quart_authtuna" / "translations"
POT = CATALOGS / "authtuna.pot"
KEYWORDS = {"_": None, "gettext": None, "ngettext": (1, 2), "N_": None, "_l": None,
            "lazy_gettext": None}
JINJA_OPTIONS = {"extensions": "jinja2.ext.i18n", "trimmed": "false"}


def _add(catalog: Catalog, found: object) -> None:
    filename, lineno, message, comments, context = found  # type: ignore[misc]
    catalog.add(message, locations=[(filename, lineno)], auto_comments=comments,
                context=context)


def extract() -> Catalog:
    catalog = Catalog(project="quart-authtuna", msgid_bugs_address="", charset="utf-8")
    templates = [("**.html", "jinja2"), ("**.txt", "jinja2")]
    for found in extract_from_dir(str(ROOT / "templates"), templates,
                                  options_map={"**.html": JINJA_OPTIONS,
                                               "**.txt": JINJA_OPTIONS},
                                  keywords=KEYWORDS):
        filename, *rest = found
        _add(catalog, (f"templates/{filename}", *rest))
    for found in extract_from_dir(str(ROOT / "quart_authtuna"), [("**.py", "python")],
                                  keywords=KEYWORDS):
        filename, *rest = found
        _add(catalog, (f"quart_authtuna/{filename}", *rest))
    from quart_authtuna.core import errors

    for name, cls in inspect.getmembers(errors, inspect.isclass):
        if issubclass(cls, errors.AuthTunaError) and cls.__doc__ and "``" not in cls.__doc__:
            catalog.add(cls.__doc__.strip(), locations=[("quart_authtuna/core/errors.py", 0)],
                        auto_comments=[f"message of {name}"])
    return catalog


def locales() -> list[Path]:
    return sorted(p for p in CATALOGS.glob("*/LC_MESSAGES/authtuna.po"))


def update(template: Catalog) -> None:
    for po in locales():
        with po.open("rb") as f:
            catalog = read_po(f, locale=po.parent.parent.name)
        catalog.update(template, no_fuzzy_matching=True)
        with po.open("wb") as f:
            write_po(f, catalog, width=100, omit_header=False, ignore_obsolete=True)


def compile_all() -> None:
    for po in locales():
        with po.open("rb") as f:
            catalog = read_po(f, locale=po.parent.parent.name)
        with po.with_suffix(".mo").open("wb") as f:
            write_mo(f, catalog, use_fuzzy=False)


def init(locale: str) -> None:
    with POT.open("rb") as f:
        template = read_po(f)
    po = CATALOGS / locale / "LC_MESSAGES" / "authtuna.po"
    po.parent.mkdir(parents=True, exist_ok=True)
    catalog = Catalog(locale=locale, charset="utf-8", project="quart-authtuna")
    catalog.update(template)
    with po.open("wb") as f:
        write_po(f, catalog, width=100)


def main(argv: list[str]) -> int:
    if argv[:1] == ["init"]:
        init(argv[1])
    elif argv[:1] == ["compile"]:
        compile_all()
    else:
        template = extract()
        CATALOGS.mkdir(parents=True, exist_ok=True)
        with POT.open("wb") as f:
            write_po(f, template, width=100, sort_output=False)
        update(template)
        compile_all()
        print(f"{len(template)} messages in {POT.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

"""Every template is translatable, the catalog template is current, and every shipped locale
translates every message with the same placeholders.

A failure names each template and its untranslated text, or each message and where it is
used, so whoever adds a template knows what to wrap and what to translate (see
docs/templates.md, "Translations").
"""

from __future__ import annotations

import importlib.util
import re
from pathlib import Path
from typing import Any

import pytest
from babel.messages.catalog import Catalog
from babel.messages.pofile import read_po
from babel.support import Translations

from tests._support.i18n_check import ROOT, TEMPLATES, every_template, untranslated


def _tool() -> Any:
    spec = importlib.util.spec_from_file_location("i18n_tool", ROOT / "tools" / "i18n.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


catalogs = _tool()

PLACEHOLDER = re.compile(r"%\((\w+)\)s")


def _po(path: Path) -> Catalog:
    with path.open("rb") as f:
        return read_po(f, locale=path.parent.parent.name)


LOCALES = catalogs.locales()


def test_every_template_marks_all_its_text() -> None:
    found = {str(p.relative_to(TEMPLATES)): untranslated(p) for p in every_template()}
    bare = {name: text for name, text in found.items() if text}
    assert len(found) >= 90
    assert not bare, "Wrap this text in {% trans %} or _() (tools/i18n_wrap.py helps):\n" + (
        "\n".join(f"  {name}: {text}" for name, text in sorted(bare.items())))


def test_catalog_template_lists_every_message() -> None:
    current = {m.id: m for m in catalogs.extract() if m.id}
    with catalogs.POT.open("rb") as f:
        shipped = {m.id for m in read_po(f) if m.id}
    new = {k: v for k, v in current.items() if k not in shipped}
    gone = shipped - set(current)
    assert not new and not gone, "Run `make i18n`, then translate. New messages:\n" + "\n".join(
        f"  {m.id!r} ({', '.join(f'{p}:{n}' for p, n in m.locations)})" for m in new.values()
    ) + f"\nGone: {sorted(map(str, gone))}"


def test_a_second_locale_ships() -> None:
    assert [p.parent.parent.name for p in LOCALES] == ["de"]


@pytest.mark.parametrize("po", LOCALES, ids=lambda p: p.parent.parent.name)
def test_every_message_is_translated_with_its_placeholders(po: Path) -> None:
    catalog = _po(po)
    missing, wrong = [], []
    for message in catalog:
        if not message.id:
            continue
        ids = message.id if isinstance(message.id, tuple) else (message.id,)
        strings = message.string if isinstance(message.string, tuple) else (message.string,)
        where = ", ".join(f"{p}:{n}" for p, n in message.locations)
        if message.fuzzy or not all(strings):
            missing.append(f"  {ids[0]!r} ({where})")
        elif any(set(PLACEHOLDER.findall(s)) != set(PLACEHOLDER.findall(ids[-1]))
                 for s in strings):
            wrong.append(f"  {ids[0]!r} -> {strings!r}")
    assert len(catalog) >= 700
    assert not missing, f"Untranslated in {po.parent.parent.name}:\n" + "\n".join(missing)
    assert not wrong, "Placeholders differ:\n" + "\n".join(wrong)


@pytest.mark.parametrize("po", LOCALES, ids=lambda p: p.parent.parent.name)
def test_the_compiled_catalog_matches_its_source(po: Path) -> None:
    with po.with_suffix(".mo").open("rb") as f:
        compiled = Translations(f, domain="authtuna")
    stale = [m.id for m in _po(po) if m.id and isinstance(m.id, str)
             and compiled.ugettext(m.id) != m.string]
    assert not stale, f"Run `python tools/i18n.py compile`: {stale[:5]}"

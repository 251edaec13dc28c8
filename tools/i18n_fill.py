"""Fill a locale's catalog from a tab-separated file of ``msgid<TAB>msgstr`` lines.

    python tools/i18n_fill.py de translations.tsv   # then: python tools/i18n.py compile

``\\n`` in either column stands for a line break. Entries already translated are kept
unless the file gives them again. Prints the msgids still untranslated afterwards.
"""

from __future__ import annotations

import sys
from pathlib import Path

from babel.messages.pofile import read_po, write_po

CATALOGS = Path(__file__).resolve().parents[1] / "quart_authtuna" / "translations"


def main(locale: str, source: str) -> int:
    path = CATALOGS / locale / "LC_MESSAGES" / "authtuna.po"
    with path.open("rb") as f:
        catalog = read_po(f, locale=locale)
    given: dict[str, str] = {}
    for line in Path(source).read_text(encoding="utf-8").splitlines():
        if line.strip():
            msgid, msgstr = line.split("\t")
            given[msgid.replace("\\n", "\n")] = msgstr.replace("\\n", "\n")
    for message in catalog:
        if not message.id:
            continue
        if isinstance(message.id, tuple):
            forms = [given.get(one) for one in message.id]
            if all(forms):
                message.string = tuple(forms)  # type: ignore[assignment]
        elif message.id in given:
            message.string = given[message.id]
    with path.open("wb") as f:
        write_po(f, catalog, width=100)
    for message in catalog:
        strings = message.string if isinstance(message.string, tuple) else (message.string,)
        if message.id and not all(strings):
            print("untranslated:", message.id)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1], sys.argv[2]))

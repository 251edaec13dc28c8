"""Finds text a person would read that is not marked for translation, template by template.

Used by ``tests/unit/test_i18n_catalogs.py``. A template passes when every visible word is
inside ``{% trans %}`` or ``_()`` (or is a name on :data:`ALLOWED`), and every sentence-like
string literal in an expression is wrapped in ``_()``.
"""

from __future__ import annotations

import re
from html.parser import HTMLParser
from pathlib import Path

from jinja2 import Environment

ROOT = Path(__file__).resolve().parents[2]
TEMPLATES = ROOT / "templates"
LETTER = re.compile(r"[A-Za-z]")
#: Attributes whose values a person reads (or hears, for aria-label).
READ_ATTRIBUTES = {"title", "placeholder", "aria-label", "alt", "data-label", "data-copied",
                   "data-copied-status", "data-copy-failed"}
#: Words that are the same in every language: names, codes and technical tokens.
ALLOWED = {
    "AuthTuna", "quart-authtuna", "AuthService", "Authorization: Bearer <key>",
    "admin:manage:permissions", "global, org:acme, org:acme/team:web", "UTC", "IP", "API",
    "JSON", "CSV", "2FA", "TOTP", "ID", "OK", "org:", "/team:",
}
SKIP_TAGS = {"script", "style"}
#: Blocks that hold class names or policy tokens, never prose.
MACHINE_BLOCKS = {"body_class", "referrer_policy", "lang"}
#: Macro arguments whose values are machine tokens (``autocomplete="username webauthn"``).
MACHINE_ARGS = {"autocomplete", "class_", "autocapitalize", "inputmode", "spellcheck", "kind",
                "type", "name", "value", "id"}
CSS = re.compile(r"^[\w-]+:.*;$")
_ENV = Environment(extensions=["jinja2.ext.i18n"])


def _sentence_like(text: str) -> bool:
    text = text.strip()
    if not LETTER.search(text) or text in ALLOWED:
        return False
    if text.startswith(("at-", "authtuna", "/", "#", "http", "js/", "css/")):
        return False
    if re.fullmatch(r"[A-Za-z]+", text) and re.search(r"[a-z][A-Z]", text):
        return False  # CamelCase names
    if re.fullmatch(r"[A-Z_]+|[a-z0-9_.\-:/ ]*[_.:/][a-z0-9_.\-:/]*", text):
        return False  # CONSTANTS, endpoints, paths
    return " " in text or text[:1].isupper()


class _Visible(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.found: list[str] = []
        self._skip = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in SKIP_TAGS:
            self._skip += 1
        shown = dict(attrs)
        for name, value in attrs:
            if name in READ_ATTRIBUTES and value:
                self._check(value)
        if tag == "input" and shown.get("type") in (None, "text", "submit", "button"):
            self._check(shown.get("value") or "")

    def handle_endtag(self, tag: str) -> None:
        if tag in SKIP_TAGS and self._skip:
            self._skip -= 1

    def handle_data(self, data: str) -> None:
        if not self._skip:
            self._check(data)

    def _check(self, text: str) -> None:
        for piece in text.split("\x00"):
            piece = " ".join(piece.split())
            if LETTER.search(piece) and piece not in ALLOWED:
                self.found.append(piece)


def untranslated(path: Path) -> list[str]:
    """The bare visible text and unwrapped sentence literals of one template."""
    source = path.read_text(encoding="utf-8")
    outside: list[str] = []
    literals: list[str] = []
    depth = 0
    tokens = list(_ENV.lex(source))
    meaningful = [t for t in tokens if t[1] not in ("whitespace",)]
    block_name = None
    block = ""
    for i, (_, kind, value) in enumerate(meaningful):
        if kind == "block_begin":
            nxt = meaningful[i + 1][2] if i + 1 < len(meaningful) else ""
            block_name = nxt
            if nxt == "block":
                block = meaningful[i + 2][2] if i + 2 < len(meaningful) else ""
            elif nxt in ("endblock", "trans", "endtrans"):
                block = block if nxt != "endblock" else ""
            if nxt == "trans":
                depth += 1
            elif nxt == "endtrans":
                depth -= 1
        if kind == "data":
            machine = block in MACHINE_BLOCKS or CSS.match(value.strip())
            outside.append(" \x00 " if depth or machine else value)
            continue
        outside.append(" \x00 ")
        if kind == "string" and depth == 0 and block_name not in (
                "extends", "from", "import", "include"):
            before = [t[2] for t in meaningful[max(0, i - 2):i]]
            after = meaningful[i + 1][2] if i + 1 < len(meaningful) else ""
            if before[-2:] == ["_", "("] or before[-1:] in (["=="], ["!="], ["in"]):
                continue
            if after in ("==", "!=", ":") or (before[-1:] == ["="] and before[0] in MACHINE_ARGS):
                continue
            if _sentence_like(value[1:-1]):
                literals.append(f"literal {value}")
        if kind == "block_end":
            block_name = None
    text = "".join(outside)
    if path.suffix == ".txt":
        bare = [" ".join(p.split()) for p in text.split("\x00")]
        found = [p for p in bare if LETTER.search(p) and p not in ALLOWED]
    else:
        parser = _Visible()
        parser.feed(text)
        found = parser.found
    return found + literals


def every_template() -> list[Path]:
    return sorted(p for p in TEMPLATES.rglob("*") if p.suffix in (".html", ".txt"))

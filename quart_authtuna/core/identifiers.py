"""Usernames and email addresses: validation and the canonical forms that must be unique.

Usernames also follow the spirit of UTS #39 (Unicode security mechanisms): letters of one
script (or a CJK combination "highly restrictive" allows), so ``аlice`` with a Cyrillic ``а``
is refused; and a non-Latin name spelt only with letters that look Latin (Cyrillic ``аррӏе``)
is refused as a whole-script confusable. The script of a letter comes from its Unicode name.
"""

from __future__ import annotations

import re
import unicodedata

from .errors import InputError
from .i18n import gettext
from .types import FieldError

USERNAME_MIN, USERNAME_MAX = 3, 32
_USERNAME_EXTRA = frozenset("_-.")
_EMAIL_LOCAL = re.compile(r"^[^\s@<>()\[\]\\,;:\"]{1,64}$")
#: "LATIN SMALL LETTER A" -> "LATIN", "CJK UNIFIED IDEOGRAPH-4E00" -> "CJK UNIFIED", ...
_SCRIPT_NAME = re.compile(r"^(.*?) (?:(?:SMALL |CAPITAL )?(?:LETTER|LIGATURE)|SYLLABLE|SYLLABICS"
                          r"|DIGIT|NUMBER|IDEOGRAPH|CHARACTER|VOWEL|CONSONANT|SIGN)\b")
_SCRIPT_ALIASES = {"CJK UNIFIED": "HAN", "CJK COMPATIBILITY": "HAN", "IDEOGRAPHIC": "HAN",
                   "ARABIC-INDIC": "ARABIC", "EXTENDED ARABIC-INDIC": "ARABIC",
                   "KATAKANA-HIRAGANA": "KATAKANA", "DIGIT": "COMMON"}
#: Scripts UTS #39 "highly restrictive" allows together; any one script alone is fine too.
_SCRIPT_SETS = (frozenset({"LATIN", "HAN", "HIRAGANA", "KATAKANA"}),
                frozenset({"LATIN", "HAN", "BOPOMOFO"}), frozenset({"LATIN", "HAN", "HANGUL"}))
#: Cyrillic, Greek and Armenian letters that pass for Latin ones (from confusables.txt).
_LOOK_LATIN = frozenset("аеорсухіјѕһԁԛԝӏүАВЕЗІЈКМНОРСТХУЅԚԜҮӀ"
                        "αοινρυχγϲϳκΑΒΕΖΗΙΚΜΝΟΡΤΥΧϹ" "օսոհզցՏՕՍ")


def canonical_username(username: str) -> str:
    """NFKC then casefold: ``Bob``, ``bob`` and fullwidth ``ｂｏｂ`` are one name."""
    return unicodedata.normalize("NFKC", unicodedata.normalize("NFKC", username).casefold())


def canonical_email(email: str) -> str:
    """NFKC then casefold of the whole address (lookups and the unique constraint use it)."""
    return unicodedata.normalize("NFKC", unicodedata.normalize("NFKC", email.strip()).casefold())


def username_problems(username: str) -> list[FieldError]:
    """Why ``username`` cannot be used: 3–32 letters, digits, ``_``, ``-`` or ``.`` after NFKC."""
    name = unicodedata.normalize("NFKC", username)
    if not USERNAME_MIN <= len(name) <= USERNAME_MAX:
        message = gettext("Username must be %(min)s to %(max)s characters long.")
        return [FieldError("invalid_username", message % {"min": USERNAME_MIN,
                                                          "max": USERNAME_MAX}, "username")]
    if not all(ch.isalnum() or ch in _USERNAME_EXTRA for ch in name):
        return [FieldError("invalid_username", gettext("Username may only contain letters, digits, "
                           "underscores, hyphens and dots."), "username")]
    if not any(ch.isalnum() for ch in name):
        return [FieldError("invalid_username", gettext("Username must contain a letter or digit."),
                           "username")]
    return _script_problems(name)


def script_of(ch: str) -> str:
    """The script of a username character: ``LATIN``, ``CYRILLIC``, ``HAN``, ... and
    ``COMMON`` for ASCII digits, ``_``, ``-`` and ``.``."""
    if ch.isascii() and not ch.isalpha():
        return "COMMON"
    name = unicodedata.name(ch, "")
    match = _SCRIPT_NAME.match(name)
    script = match.group(1) if match else name.partition(" ")[0]
    return _SCRIPT_ALIASES.get(script, script)


def _script_problems(name: str) -> list[FieldError]:
    letters = [ch for ch in name if script_of(ch) != "COMMON"]
    scripts = {script_of(ch) for ch in letters}
    if len(scripts) > 1 and not any(scripts <= allowed for allowed in _SCRIPT_SETS):
        return [FieldError("mixed_script_username", "Username must use letters of one alphabet "
                           f"(this one mixes {', '.join(sorted(scripts)).title()}).",
                           "username")]
    if scripts and scripts != {"LATIN"} and all(ch in _LOOK_LATIN for ch in letters):
        return [FieldError("confusable_username", gettext(
            "Username is spelt only with letters that look like Latin ones; add a letter that "
            "does not."), "username")]
    return []


def email_problems(email: str, allowed_domains: tuple[str, ...] = ("*",)) -> list[FieldError]:
    """Why ``email`` cannot be used: shape, control characters, or a domain not allowed."""
    address = unicodedata.normalize("NFKC", email.strip())
    local, _, domain = address.rpartition("@")
    too_long = len(address) > 254 or len(canonical_email(address)) > 254
    if (too_long or any(unicodedata.category(c)[0] in "CZ" for c in address)
            or not _EMAIL_LOCAL.match(local) or not _valid_domain(domain)
            or local.startswith(".") or local.endswith(".") or ".." in local):
        return [FieldError("invalid_email", gettext("Enter a valid email address."), "email")]
    if "*" not in allowed_domains and domain.casefold() not in {
            d.casefold() for d in allowed_domains}:
        return [FieldError("email_domain_not_allowed",
                           gettext("Sign-up is not open to this email domain."), "email")]
    return []


def _valid_domain(domain: str) -> bool:
    labels = domain.split(".")
    return len(labels) >= 2 and len(domain) <= 253 and not labels[-1].isdigit() and all(
        0 < len(label) <= 63 and label[0] != "-" and label[-1] != "-"
        and all(ch.isalnum() or ch == "-" for ch in label) for label in labels)


def clean_username(username: str) -> str:
    """The NFKC form to store, or InputError."""
    problems = username_problems(username)
    if problems:
        raise InputError(problems)
    return unicodedata.normalize("NFKC", username)


def clean_email(email: str, allowed_domains: tuple[str, ...] = ("*",)) -> str:
    """The NFKC form to store, or InputError."""
    problems = email_problems(email, allowed_domains)
    if problems:
        raise InputError(problems)
    return unicodedata.normalize("NFKC", email.strip())


def looks_like_email(identifier: str) -> bool:
    """Login identifiers containing ``@`` are emails; usernames can never contain it."""
    return "@" in unicodedata.normalize("NFKC", identifier)

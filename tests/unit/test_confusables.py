"""Look-alike usernames (issue 8.17): one script per name (UTS #39 "highly restrictive"), and
no non-Latin name spelt only with letters that pass for Latin ones."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

import pytest

from quart_authtuna.core import AuthService, InputError
from quart_authtuna.core.db.models import User
from quart_authtuna.core.identifiers import clean_username, script_of
from quart_authtuna.core.types import RequestMeta

PASSWORD = "correct horse battery staple"
CYRILLIC_A = "\u0430"  # CYRILLIC SMALL LETTER A, drawn like Latin "a"

MIXED = [
    f"{CYRILLIC_A}lice",           # Cyrillic а + Latin lice
    "alic\u0435",                  # Latin + Cyrillic е
    "p\u0430yp\u0430l",            # two Cyrillic а inside Latin
    "\u03bfscar",                  # Greek omicron + Latin
    "ivan\u0416",                  # Latin + a Cyrillic letter that looks like nothing Latin
    "bob\u02bcs",                  # MODIFIER LETTER APOSTROPHE is not Latin
    "a\u0663b",                    # ARABIC-INDIC DIGIT THREE inside Latin
    "\u0561lice",                  # Armenian ayb + Latin
    "\u5c71\u7530\uc218\u305f",    # Han + Hangul + Hiragana: no allowed set holds all three
]
WHOLE_SCRIPT_CONFUSABLE = [
    "\u0430\u0440\u0440\u04cf\u0435",  # Cyrillic "аррӏе" reads "apple"
    "\u0440\u043e\u0441",              # Cyrillic "рос" reads "poc"
    "\u0391\u0392\u0395",              # Greek capitals "ΑΒΕ" read "ABE"
    "\u03b1\u03bd\u03bd\u03b1_1",      # Greek "ανvα" + digits reads "avva_1"
    "\u0585\u057d\u0578",              # Armenian "օսո" reads "oun"
]
ACCEPTED = [
    "alice", "Zoë_99", "josé", "x1.y2-z3_", "007",
    "\u0410\u043b\u0451\u043d\u0430",  # Алёна
    "\u0395\u03bb\u03ad\u03bd\u03b7",  # Ελένη
    "\u65e5\u672c\u8a9e",              # 日本語
    "\u5c71\u7530\u305f\u308d\u3046",  # 山田たろう: Han + Hiragana (Japanese)
    "\u30bf\u30ca\u30ab\u30fc",        # タナカー: Katakana with the prolonged sound mark
    "tanaka\u7530\u4e2d",              # Latin + Han
    "\uae40\ubbfc\uc218",              # 김민수
    "\u5c71\u7530\uc218",              # Han + Hangul (Korean)
    "\u043c\u0430\u043c\u0430",        # мама: а passes for Latin, м does not
    "\uff42\uff4f\uff42",              # fullwidth bob: NFKC makes it Latin
]


def codes(exc: InputError) -> list[str]:
    return [e.code for e in exc.errors]


# ---- the rules (pure) ---------------------------------------------------------------------

@pytest.mark.parametrize("name", MIXED)
def test_mixed_script_usernames_are_refused(name: str) -> None:
    with pytest.raises(InputError) as info:
        clean_username(name)
    assert codes(info.value) == ["mixed_script_username"]
    error = info.value.errors[0]
    assert error.param == "username" and "one alphabet" in error.message


@pytest.mark.parametrize("name", WHOLE_SCRIPT_CONFUSABLE)
def test_names_spelt_only_with_latin_look_alikes_are_refused(name: str) -> None:
    with pytest.raises(InputError) as info:
        clean_username(name)
    assert codes(info.value) == ["confusable_username"]
    assert info.value.errors[0].param == "username"


@pytest.mark.parametrize("name", ACCEPTED)
def test_single_script_names_are_accepted(name: str) -> None:
    assert clean_username(name)


@pytest.mark.parametrize("char, script", [
    ("a", "LATIN"), ("é", "LATIN"), (CYRILLIC_A, "CYRILLIC"), ("\u03b1", "GREEK"),
    ("\u4e00", "HAN"), ("\u3005", "HAN"), ("\u3042", "HIRAGANA"), ("\u30a2", "KATAKANA"),
    ("\u30fc", "KATAKANA"), ("\uac00", "HANGUL"), ("\u3105", "BOPOMOFO"), ("7", "COMMON"),
    ("_", "COMMON"), ("\u0663", "ARABIC"), ("\u06f3", "ARABIC"), ("\u0967", "DEVANAGARI"),
    ("\u0e01", "THAI"), ("\u05d0", "HEBREW"), ("\u1200", "ETHIOPIC"), ("\u1401", "CANADIAN"),
])
def test_script_of_reads_the_unicode_name(char: str, script: str) -> None:
    assert script_of(char) == script


# ---- sign-up and rename, on the real database ---------------------------------------------

async def test_signup_refuses_a_look_alike_of_an_existing_user(
        service: AuthService, user_factory: Callable[..., Awaitable[User]]) -> None:
    await user_factory("alice")
    before = await service.users.count()
    for name in (f"{CYRILLIC_A}lice", "\u0430\u04cf\u0456\u0441\u0435"):  # mixed; all-Cyrillic
        with pytest.raises(InputError) as info:
            await service.flows.signup(name, "mallory@example.com", PASSWORD, RequestMeta())
        assert codes(info.value) in (["mixed_script_username"], ["confusable_username"])
    assert await service.users.get_by_email("mallory@example.com") is None
    assert await service.users.count() == before


async def test_rename_to_a_look_alike_is_refused(
        service: AuthService, user_factory: Callable[..., Awaitable[User]]) -> None:
    await user_factory("alice")
    mallory = await user_factory("mallory")
    with pytest.raises(InputError) as info:
        await service.users.update(mallory.id, {"username": f"{CYRILLIC_A}lice"})
    assert codes(info.value) == ["mixed_script_username"]
    stored = await service.users.get_by_id(mallory.id)
    assert stored is not None and stored.username == "mallory"
    renamed = await service.users.update(mallory.id, {"username": "\u0410\u043b\u0451\u043d\u0430"})
    assert renamed.username == "\u0410\u043b\u0451\u043d\u0430"


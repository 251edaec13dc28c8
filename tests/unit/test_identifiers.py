"""Usernames and emails: what is accepted, which variants collide, lookups and updates."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

import pytest
from sqlalchemy import inspect

from quart_authtuna.core import (
    AuthService,
    IdentifierTaken,
    InputError,
    InvalidCredentials,
)
from quart_authtuna.core.db.models import User
from quart_authtuna.core.identifiers import (
    canonical_email,
    canonical_username,
    clean_username,
    looks_like_email,
)

PASSWORD = "correct horse battery staple"
KELVIN = "\u212a"  # KELVIN SIGN: NFKC turns it into a plain "K"
DOTLESS_I = "\u0131"  # LATIN SMALL LETTER DOTLESS I: no compatibility or case fold to "i"

UserFactory = Callable[..., Awaitable[User]]


def field_codes(exc: InputError) -> list[str]:
    return [e.code for e in exc.errors]


async def snapshot(service: AuthService, user_id: str) -> dict[str, Any]:
    """Every stored column of the user, read in a fresh unit of work."""
    user = await service.users.get_by_id(user_id)
    assert user is not None
    return {attr.key: getattr(user, attr.key) for attr in inspect(User).column_attrs}


# ---- username validation (pure) --------------------------------------------------------


@pytest.mark.parametrize("name", [
    "bob", "abc", "a" * 32, "user_name", "user-name", "user.name", "Zoë_99", "josé",
    "Ελένη", "日本語", "Алёна", "x1.y2-z3_", "007",
    "\uff42\uff4f\uff42",  # fullwidth "bob", stored as its NFKC form
])
def test_valid_usernames_are_accepted(name: str) -> None:
    assert clean_username(name)


@pytest.mark.parametrize("name", [
    "<b>", "a b", "x@y.z", "bob@example.com", "ab", "a" * 33, "", "___", "bob\n",
    "bob\u200b", "bob!", "bob/x", "x\uff20y.z",  # fullwidth @ is @ after NFKC
])
def test_invalid_usernames_are_rejected_as_invalid_username(name: str) -> None:
    with pytest.raises(InputError) as info:
        clean_username(name)
    assert field_codes(info.value) == ["invalid_username"]
    assert info.value.errors[0].param == "username"


def test_username_length_is_counted_after_nfkc() -> None:
    assert clean_username("\ufb01" * 16) == "fi" * 16  # 16 ligatures, 32 letters
    with pytest.raises(InputError):
        clean_username("\ufb01" * 17)


def test_fullwidth_username_is_stored_in_its_nfkc_form() -> None:
    assert clean_username("\uff42\uff4f\uff42") == "bob"


def test_canonical_forms_fold_case_and_compatibility_variants() -> None:
    assert canonical_username("Bob") == canonical_username("\uff22\uff4f\uff42") == "bob"
    assert canonical_email("Alice@Example.com") == "alice@example.com"
    assert canonical_email(f"{KELVIN}ate@example.com") == "kate@example.com"
    assert canonical_email(f"m{DOTLESS_I}ke@example.org") != "mike@example.org"


def test_only_identifiers_with_an_at_sign_are_emails() -> None:
    assert looks_like_email("alice@example.com")
    assert not looks_like_email("alice")


async def test_create_rejects_an_invalid_username(service: AuthService) -> None:
    with pytest.raises(InputError) as info:
        await service.users.create("bad@example.com", "<b>", PASSWORD)
    assert not isinstance(info.value, IdentifierTaken)
    assert field_codes(info.value) == ["invalid_username"]
    assert await service.users.get_by_email("bad@example.com") is None


# ---- username collisions ---------------------------------------------------------------


@pytest.mark.parametrize("variant", ["bob", "BOB", "\uff42\uff4f\uff42", "bOb"])
async def test_username_variants_of_an_existing_name_are_taken(
        service: AuthService, user_factory: UserFactory, variant: str) -> None:
    await user_factory("Bob")
    before = await service.users.count()
    with pytest.raises(IdentifierTaken) as info:
        await user_factory(variant, email="someone.else@example.com")
    assert field_codes(info.value) == ["identifier_taken"]
    assert await service.users.count() == before
    assert await service.users.get_by_email("someone.else@example.com") is None


async def test_stored_username_keeps_its_display_form(
        service: AuthService, user_factory: UserFactory) -> None:
    created = await user_factory("Bob")
    stored = await service.users.get_by_id(created.id)
    assert stored is not None
    assert stored.username == "Bob"
    assert stored.username_canonical == "bob"
    found = await service.users.get_by_username("\uff42\uff4f\uff42")
    assert found is not None and found.id == created.id and found.username == "Bob"


async def test_kelvin_sign_username_collides_with_plain_k(user_factory: UserFactory) -> None:
    await user_factory("kate")
    with pytest.raises(IdentifierTaken):
        await user_factory(f"{KELVIN}ate", email="kelvin@example.com")


# ---- email collisions ------------------------------------------------------------------


@pytest.mark.parametrize("variant", [
    "alice@example.com", "ALICE@EXAMPLE.COM", "\uff41\uff4c\uff49\uff43\uff45@example.com",
    " alice@example.com ",
])
async def test_email_variants_of_an_existing_address_are_taken(
        service: AuthService, user_factory: UserFactory, variant: str) -> None:
    await user_factory("alice", email="Alice@Example.com")
    with pytest.raises(IdentifierTaken):
        await user_factory("alice2", email=variant)
    assert await service.users.get_by_username("alice2") is None


@pytest.mark.parametrize(("first", "second"), [
    ("kate@example.com", f"{KELVIN}ate@example.com"),
    (f"{KELVIN}ate@example.com", "kate@example.com"),
    ("Kate@example.com", f"{KELVIN}ATE@EXAMPLE.COM"),
], ids=["plain-then-kelvin", "kelvin-then-plain", "mixed-case"])
async def test_kelvin_sign_email_collides_with_plain_k(
        service: AuthService, user_factory: UserFactory, first: str, second: str) -> None:
    created = await user_factory("kate1", email=first)
    with pytest.raises(IdentifierTaken):
        await user_factory("kate2", email=second)
    found = await service.users.get_by_email(second)
    assert found is not None and found.id == created.id


async def test_stored_email_keeps_its_display_form(
        service: AuthService, user_factory: UserFactory) -> None:
    created = await user_factory("alice", email="Alice@Example.com")
    stored = await service.users.get_by_id(created.id)
    assert stored is not None
    assert stored.email == "Alice@Example.com"
    assert stored.email_canonical == "alice@example.com"


async def test_get_by_email_finds_case_and_compatibility_variants(
        service: AuthService, user_factory: UserFactory) -> None:
    created = await user_factory("alice", email="Alice@Example.com")
    for variant in ("alice@example.com", "ALICE@example.COM",
                    "\uff41\uff4c\uff49\uff43\uff45@example.com"):
        found = await service.users.get_by_email(variant)
        assert found is not None and found.id == created.id, variant


async def test_dotless_i_email_does_not_collide_with_plain_i(
        service: AuthService, user_factory: UserFactory) -> None:
    mike = await user_factory("mike", email="mike@example.org")
    other = await user_factory("dotless", email=f"m{DOTLESS_I}ke@example.org")
    assert other.id != mike.id
    found = await service.users.get_by_email(f"m{DOTLESS_I}ke@example.org")
    assert found is not None and found.id == other.id
    found = await service.users.get_by_email("mike@example.org")
    assert found is not None and found.id == mike.id


async def test_dotless_i_lookup_does_not_return_the_plain_i_account(
        service: AuthService, user_factory: UserFactory) -> None:
    await user_factory("mike", email="mike@example.org")
    assert await service.users.get_by_email(f"m{DOTLESS_I}ke@example.org") is None
    assert await service.users.get_by_identifier(f"m{DOTLESS_I}ke@example.org") is None


async def test_password_reset_for_dotless_i_variant_issues_nothing(
        service: AuthService, user_factory: UserFactory) -> None:
    await user_factory("mike", email="mike@example.org")
    assert await service.request_password_reset(f"m{DOTLESS_I}ke@example.org") is None
    issued = await service.request_password_reset("MIKE@example.org")
    assert issued is not None


async def test_username_and_email_namespaces_are_separate(
        service: AuthService, user_factory: UserFactory) -> None:
    """A username that reads like another user's email local part is fine."""
    await user_factory("alice", email="carol@example.com")
    carol = await user_factory("carol", email="alice@example.com")
    found = await service.users.get_by_identifier("carol")
    assert found is not None and found.id == carol.id


async def test_email_whose_canonical_form_is_too_long_is_rejected(
        service: AuthService) -> None:
    email = "ß" * 64 + "@" + "ß" * 63 + "." + "ß" * 63 + "." + "ß" * 58 + ".de"
    assert len(email) == 254
    with pytest.raises(InputError) as info:
        await service.users.create(email, "longmail", PASSWORD)
    assert field_codes(info.value) == ["invalid_email"]


# ---- login -----------------------------------------------------------------------------


@pytest.mark.parametrize("identifier", ["Bob", "bob", "BOB", "\uff42\uff4f\uff42", "  bob  "])
async def test_login_by_username_ignores_case_and_width(
        service: AuthService, user_factory: UserFactory, identifier: str) -> None:
    created = await user_factory("Bob", email="bob.smith@example.com")
    user, issued = await service.login(identifier, PASSWORD)
    assert user.id == created.id
    assert issued.raw_id


@pytest.mark.parametrize("identifier", [
    "Alice@Example.com", "alice@example.com", "ALICE@EXAMPLE.COM",
    "\uff41\uff4c\uff49\uff43\uff45@example.com",
])
async def test_login_by_email_ignores_case_and_width(
        service: AuthService, user_factory: UserFactory, identifier: str) -> None:
    created = await user_factory("alice", email="Alice@Example.com")
    user, _ = await service.login(identifier, PASSWORD)
    assert user.id == created.id


async def test_login_with_dotless_i_variant_of_an_email_fails(
        service: AuthService, user_factory: UserFactory) -> None:
    await user_factory("mike", email="mike@example.org")
    with pytest.raises(InvalidCredentials):
        await service.login(f"m{DOTLESS_I}ke@example.org", PASSWORD)


async def test_username_equal_to_another_users_email_is_rejected(
        service: AuthService, user_factory: UserFactory) -> None:
    await user_factory("alice", email="alice@example.com")
    with pytest.raises(InputError) as info:
        await user_factory("alice@example.com", email="mallory@example.com")
    assert not isinstance(info.value, IdentifierTaken)
    assert field_codes(info.value) == ["invalid_username"]
    with pytest.raises(InputError) as info:
        await user_factory("alice\uff20example.com", email="mallory@example.com")
    assert field_codes(info.value) == ["invalid_username"]
    user, _ = await service.login("alice@example.com", PASSWORD)
    assert user.username == "alice"


# ---- update ----------------------------------------------------------------------------


@pytest.mark.parametrize("new_name", ["bob", "BOB", "\uff42\uff4f\uff42"])
async def test_update_to_a_canonical_duplicate_username_is_taken(
        service: AuthService, user_factory: UserFactory, new_name: str) -> None:
    await user_factory("Bob")
    carol = await user_factory("carol")
    before = await snapshot(service, carol.id)
    with pytest.raises(IdentifierTaken):
        await service.users.update(carol.id, {"username": new_name})
    assert await snapshot(service, carol.id) == before


async def test_update_to_a_canonical_duplicate_email_is_taken(
        service: AuthService, user_factory: UserFactory) -> None:
    await user_factory("kate", email="kate@example.com")
    carol = await user_factory("carol")
    before = await snapshot(service, carol.id)
    with pytest.raises(IdentifierTaken):
        await service.users.update(carol.id, {"email": f"{KELVIN}ATE@example.com"})
    assert await snapshot(service, carol.id) == before


async def test_update_to_a_case_variant_of_ones_own_username_is_allowed(
        service: AuthService, user_factory: UserFactory) -> None:
    bob = await user_factory("bob")
    await service.users.update(bob.id, {"username": "BoB"})
    stored = await service.users.get_by_id(bob.id)
    assert stored is not None
    assert (stored.username, stored.username_canonical) == ("BoB", "bob")


async def test_update_rejects_an_invalid_username(
        service: AuthService, user_factory: UserFactory) -> None:
    bob = await user_factory("bob")
    before = await snapshot(service, bob.id)
    with pytest.raises(InputError) as info:
        await service.users.update(bob.id, {"username": "bob@example.com"})
    assert field_codes(info.value) == ["invalid_username"]
    assert await snapshot(service, bob.id) == before


@pytest.mark.parametrize(("name", "value"), [
    ("is_active", False),
    ("email_verified", True),
    ("password_hash", "$2b$04$" + "a" * 53),
    ("id", "hijacked-id"),
    ("username_canonical", "someone"),
    ("mfa_enabled", True),
])
async def test_update_refuses_fields_that_are_not_updatable(
        service: AuthService, user_factory: UserFactory, name: str, value: Any) -> None:
    user = await user_factory("bob")
    before = await snapshot(service, user.id)
    with pytest.raises(InputError) as info:
        await service.users.update(user.id, {name: value})
    assert field_codes(info.value) == ["not_updatable"]
    assert info.value.errors[0].param == name
    assert await snapshot(service, user.id) == before
    assert await service.users.get_by_id("hijacked-id") is None


async def test_update_with_one_forbidden_field_changes_nothing(
        service: AuthService, user_factory: UserFactory) -> None:
    user = await user_factory("bob", first_name="Robert")
    before = await snapshot(service, user.id)
    with pytest.raises(InputError) as info:
        await service.users.update(
            user.id, {"first_name": "Eve", "username": "eve", "is_active": False})
    assert field_codes(info.value) == ["not_updatable"]
    assert await snapshot(service, user.id) == before
    logged_in, _ = await service.login("bob", PASSWORD)
    assert logged_in.first_name == "Robert"


async def test_update_changes_allowed_profile_fields(
        service: AuthService, user_factory: UserFactory) -> None:
    user = await user_factory("bob")
    await service.users.update(user.id, {"first_name": "Robert", "last_name": "Smith"})
    stored = await service.users.get_by_id(user.id)
    assert stored is not None
    assert (stored.first_name, stored.last_name) == ("Robert", "Smith")

"""Passkeys follow API_BASE_URL unless WEBAUTHN_ORIGIN / WEBAUTHN_RP_ID are set (issue 8.18)."""

from __future__ import annotations

import pytest

from quart_authtuna.core import Settings
from quart_authtuna.core.relying_party import relying_party


@pytest.mark.parametrize("base_url, origin, rp_id", [
    ("http://localhost:5000", "http://localhost:5000", "localhost"),
    ("https://auth.example.com", "https://auth.example.com", "auth.example.com"),
    ("https://Auth.Example.com:443/app/", "https://auth.example.com", "auth.example.com"),
    ("http://localhost:80", "http://localhost", "localhost"),
    ("https://app.example:8443/x?y=1", "https://app.example:8443", "app.example"),
    ("HTTPS://user:pw@app.example:8443", "https://app.example:8443", "app.example"),
    ("http://[::1]:5000", "http://[::1]:5000", "::1"),
    (" http://localhost:5001 ", "http://localhost:5001", "localhost"),
])
def test_origin_and_rp_id_as_a_browser_serialises_them(base_url: str, origin: str,
                                                        rp_id: str) -> None:
    assert relying_party(base_url) == (origin, rp_id)


@pytest.mark.parametrize("base_url", ["", "localhost:5000", "/relative", "ftp://files.example",
                                      "http://", "http://host:99999"])
def test_no_origin_from_what_is_not_an_http_url(base_url: str) -> None:
    assert relying_party(base_url) == ("", "")


def test_defaults_follow_the_default_base_url() -> None:
    s = Settings()
    assert s.api_base_url == "http://localhost:5000"
    assert (s.webauthn_origin, s.webauthn_rp_id) == (("http://localhost:5000",), "localhost")


def test_derived_from_a_configured_base_url() -> None:
    s = Settings.from_sources(environ={"AUTHTUNA_API_BASE_URL": "https://auth.example.com:8443"})
    assert s.webauthn_origin == ("https://auth.example.com:8443",)
    assert s.webauthn_rp_id == "auth.example.com"


def test_explicit_values_win() -> None:
    s = Settings.from_sources(config={
        "AUTHTUNA_API_BASE_URL": "https://auth.example.com",
        "AUTHTUNA_WEBAUTHN_ORIGIN": "https://app.example.com,https://www.example.com",
        "AUTHTUNA_WEBAUTHN_RP_ID": "example.com"})
    assert s.webauthn_origin == ("https://app.example.com", "https://www.example.com")
    assert s.webauthn_rp_id == "example.com"
    only_origin = Settings.from_sources(overrides={"API_BASE_URL": "https://a.example.com",
                                                   "WEBAUTHN_ORIGIN": ["https://b.example.com"]})
    assert only_origin.webauthn_rp_id == "a.example.com"


def test_replace_moves_derived_values_with_the_base_url_and_keeps_explicit_ones() -> None:
    moved = Settings().replace(api_base_url="https://new.example")
    assert (moved.webauthn_origin, moved.webauthn_rp_id) == (("https://new.example",),
                                                             "new.example")
    pinned = Settings.from_sources(overrides={"WEBAUTHN_ORIGIN": ["https://pinned.example"],
                                              "WEBAUTHN_RP_ID": "pinned.example"})
    kept = pinned.replace(api_base_url="https://new.example")
    assert (kept.webauthn_origin, kept.webauthn_rp_id) == (("https://pinned.example",),
                                                           "pinned.example")

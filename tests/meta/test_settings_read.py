"""Every setting is read somewhere, or its doc says it is not yet built (or ignored) and it
warns when set. The list of unread settings is pinned, so it cannot grow unnoticed."""

from __future__ import annotations

import ast
import re
from dataclasses import fields
from pathlib import Path

from quart_authtuna.core.settings import Settings
from quart_authtuna.core.settings_values import INERT_MARKERS

PACKAGE = Path(__file__).resolve().parents[2] / "quart_authtuna"
#: The settings module itself only checks and coerces values; reading there does not count.
DEFINING = {PACKAGE / "core" / "settings.py", PACKAGE / "core" / "settings_values.py"}
#: ``settings.x``, ``self._settings.x``, ``current.settings().x``, ``s.x``, ``config.x``.
HOLDER = re.compile(r"(^|[._])settings(\(\))?$|^s$|^config$")
#: Read only by the settings module, where the setting is the check itself.
READ_BY_SETTINGS = {"production": "Settings.checked refuses problems in production"}
#: Read, but partly built: the doc says which part is not yet built, and it warns when set.
PARTLY_BUILT: set[str] = set()
UNREAD = {
    "dkim_private_key_path", "dkim_domain", "dkim_selector",  # DKIM signing
    "rpc_enabled", "rpc_autostart", "rpc_token", "rpc_tls_cert_file", "rpc_tls_key_file",
    "rpc_address",  # RPC server
    "database_use_async_engine", "tokens_max_count_per_day_per_user_per_action",  # ignored
    "html_template_dir", "dashboard_and_user_info_pages_template_dir", "webauthn_enabled",
    "api_key_prefix_other", "key_hash_algorithm",
}


def read_settings() -> set[str]:
    """Names of settings read as an attribute of a settings object in the package."""
    names = {f.name for f in fields(Settings)}
    found: set[str] = set()
    for path in PACKAGE.rglob("*.py"):
        if path in DEFINING:
            continue
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if (isinstance(node, ast.Attribute) and node.attr in names
                    and HOLDER.search(ast.unparse(node.value))):
                found.add(node.attr)
    return found


def test_the_reader_scan_finds_known_readers() -> None:
    read = read_settings()
    assert {"reauthentication_seconds", "encryption_secondary_keys", "jwt_fallback_secret_keys",
            "fernet_keys", "session_token_name", "passkeys_enabled"} <= read
    assert not read & UNREAD


def test_every_unread_setting_is_marked_and_the_list_is_pinned() -> None:
    unread = {f.name for f in fields(Settings)} - read_settings() - set(READ_BY_SETTINGS)
    by_name = {f.name: f for f in fields(Settings)}
    unmarked = sorted(n for n in unread if not by_name[n].metadata["inert"])
    assert not unmarked, f"read these settings, or mark them inert with a reason: {unmarked}"
    assert unread == UNREAD, (
        "the unread settings changed; update UNREAD here (and the docs) on purpose:\n"
        f"newly unread: {sorted(unread - UNREAD)}\nnow read: {sorted(UNREAD - unread)}")


def test_inert_marks_say_why_and_are_not_stale() -> None:
    inert = {f.name for f in fields(Settings) if f.metadata["inert"]}
    for fld in fields(Settings):
        if fld.name in inert:
            assert any(m in fld.metadata["doc"] for m in INERT_MARKERS), fld.name
    assert inert == UNREAD | PARTLY_BUILT, "a setting that is now read must lose its inert mark"

"""Development secrets kept in a file, so accounts and sessions survive a restart.

Made once (random, mode 0600, created atomically so two workers agree) in the folder the
web layer names, the app's instance folder; never used in production, where missing secrets
are an error (``Settings.checked``).
"""

from __future__ import annotations

import base64
import json
import logging
import os
import secrets
import stat
from collections.abc import Mapping
from pathlib import Path

from .errors import ConfigurationError

#: The secrets a development app needs, as ``AUTHTUNA_`` setting names.
NAMES = ("JWT_SECRET_KEY", "ENCRYPTION_PRIMARY_KEY", "FERNET_KEYS", "PASSWORD_PEPPER")
PACKAGE_DIR = Path(__file__).resolve().parents[1]


def fresh_secrets() -> dict[str, str]:
    """New random values for every secret (Fernet keys as one urlsafe-base64 key)."""
    return {
        "JWT_SECRET_KEY": secrets.token_urlsafe(48),
        "ENCRYPTION_PRIMARY_KEY": secrets.token_urlsafe(48),
        "FERNET_KEYS": base64.urlsafe_b64encode(secrets.token_bytes(32)).decode(),
        "PASSWORD_PEPPER": secrets.token_urlsafe(48),
    }


def load_or_create(path: Path) -> dict[str, str]:
    """The secrets stored at ``path``, written there first (mode 0600) when it is absent.

    Raises ConfigurationError when ``path`` lies inside the installed package, cannot be
    written or read, or holds something else than the four secrets.
    """
    path = path.absolute()
    if PACKAGE_DIR == path or PACKAGE_DIR in path.resolve().parents:
        raise ConfigurationError([f"development secrets must not live in the package: {path}"])
    if not path.exists():
        try:
            _create(path, fresh_secrets())
        except OSError as exc:
            raise ConfigurationError([
                f"cannot write development secrets to {path}: {exc.strerror}; configure the "
                "secrets, or set AUTHTUNA_DEV_SECRETS_FILE to empty for ephemeral ones"]) from None
    try:
        stored = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise ConfigurationError([f"cannot read development secrets {path}: {exc}"]) from None
    if not isinstance(stored, dict) or not all(isinstance(stored.get(n), str) for n in NAMES):
        raise ConfigurationError([f"{path} is not a development secrets file; delete it"])
    if stat.S_IMODE(path.stat().st_mode) & 0o077:
        path.chmod(0o600)
    return {name: stored[name] for name in NAMES}


def _create(path: Path, values: dict[str, str]) -> None:
    """Write to a private temporary file, then link it into place: a process that loses
    the race keeps the winner's file, and nobody ever reads a half-written one."""
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(f".{path.name}.{secrets.token_hex(8)}")
    fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as out:
            json.dump({"_comment": "quart-authtuna development secrets: never commit, "
                       "never use in production", **values}, out, indent=2)
        try:
            os.link(temporary, path)
        except FileExistsError:
            pass
    finally:
        temporary.unlink()


def stand_in_secrets(missing: list[str], path: Path | None, log: logging.Logger
                     ) -> Mapping[str, str] | None:
    """Warn loudly about the ``missing`` secrets; the stand-ins kept in ``path`` (made on
    first use), or None for ephemeral ones when there is no file."""
    stored = None
    if path is not None:
        stored = load_or_create(path)
        kept = (f"kept in {path.absolute()}\n(made on first start, mode 0600): they "
                "survive restarts; never commit that file or use it in production.")
    else:
        kept = ("EPHEMERAL: sessions, encrypted data and password hashes will not "
                "survive a restart.")
    log.warning(
        "\n%s\nquart-authtuna is running in DEVELOPMENT mode without these secrets:\n"
        "  - %s\nStand-in secrets are %s\nSet these settings (and AUTHTUNA_PRODUCTION=true) "
        "before serving real users; `quart authtuna init` writes a .env with fresh ones.\n%s",
        "!" * 78, "\n  - ".join(missing), kept, "!" * 78,
    )
    return stored

"""Setting values: the masked Secret, coercion of raw config values, warnings for inert ones."""

from __future__ import annotations

import base64
import json
import logging
import secrets
from dataclasses import field, fields
from typing import TYPE_CHECKING, Any

from .sso.provider_settings import parse_providers
from .theme import Theme

if TYPE_CHECKING:
    from _typeshed import DataclassInstance

def setting(default: Any, doc: str, kind: str | None = None, secret: bool = False,
            inert: bool = False) -> Any:
    """A Settings field; ``inert``: accepted but does nothing (its doc says why; setting it
    warns)."""
    kind = kind or {bool: "bool", int: "int", float: "float", str: "str", tuple: "list"}[
        type(default)
    ]
    meta = {"doc": doc, "kind": kind, "secret": secret, "inert": inert}
    return field(default=default, metadata=meta)


#: Doc markers of a setting that is accepted but does nothing (``inert`` in its metadata).
INERT_MARKERS = ("Not yet built", "Ignored")


class Secret:
    """A secret string whose ``repr`` and ``str`` are masked; ``reveal()`` gives the value."""

    __slots__ = ("_value",)

    def __init__(self, value: str) -> None:
        self._value = str(value)

    def reveal(self) -> str:
        return self._value

    def __repr__(self) -> str:
        return "Secret('**********')"

    __str__ = __repr__

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Secret) and secrets.compare_digest(self._value, other._value)

    def __hash__(self) -> int:
        return hash(self._value)


def inert_in_use(settings: DataclassInstance) -> list[str]:
    """One line per inert setting (not yet built, or ignored) set to a non-default value."""
    found = []
    for fld in fields(settings):
        if fld.metadata.get("inert") and getattr(settings, fld.name) != fld.default:
            found.append(f"AUTHTUNA_{fld.name.upper()} is set but does nothing: "
                         f"{fld.metadata['doc']}")
    return found


def warn_inert(settings: DataclassInstance, log: logging.Logger) -> None:
    """Log one warning per inert setting that was set (call once, at startup)."""
    for line in inert_in_use(settings):
        log.warning("%s", line)


def is_fernet_key(value: str) -> bool:
    try:
        return len(base64.urlsafe_b64decode(value.encode())) == 32
    except (ValueError, TypeError):
        return False


_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off", ""}


def coerce(value: Any, kind: str) -> Any:
    """Turn a config or environment value into the field's type (None only where optional)."""
    if value is None and kind not in ("optstr", "secret", "optbool"):
        raise ValueError("expected a value, got None")
    if kind == "optbool":  # unset, or "auto": the field's rule decides
        if value is None or str(value).strip().lower() in ("", "auto"):
            return None
        kind = "bool"
    if kind == "bool":
        if isinstance(value, bool):
            return value
        text = str(value).strip().lower()
        if text in _TRUE | _FALSE:
            return text in _TRUE
        raise ValueError(f"expected a boolean, got {value!r}")
    if kind in ("int", "float"):
        if isinstance(value, bool):
            raise ValueError(f"expected a number, got {value!r}")
        return int(value) if kind == "int" else float(value)
    if kind in ("str", "optstr"):
        return None if value is None else str(value)
    if kind == "secret":
        if value is None or isinstance(value, Secret):
            return value
        return Secret(str(value))
    if kind in ("list", "secrets"):
        items = _as_list(value)
        return tuple(Secret(str(i)) if kind == "secrets" and not isinstance(i, Secret) else
                     (i if kind == "secrets" else str(i)) for i in items)
    if kind == "oidc_providers":
        return parse_providers(value)
    if kind == "theme":
        if isinstance(value, str):
            value = json.loads(value)
        return Theme.from_value(value)
    raise ValueError(f"unknown kind {kind}")


def _as_list(value: Any) -> list[Any]:
    if isinstance(value, str):
        text = value.strip()
        if text.startswith("["):
            parsed = json.loads(text)
            if not isinstance(parsed, list):
                raise ValueError("expected a JSON list")
            return parsed
        return [part.strip() for part in text.split(",") if part.strip()]
    if isinstance(value, list | tuple | set | frozenset):
        return list(value)
    raise ValueError(f"expected a list, got {type(value).__name__}")

"""Safe ``next`` targets: same-origin relative paths only."""

from __future__ import annotations

from urllib.parse import unquote, urlsplit


def safe_next(value: str | None, default: str = "/") -> str:
    """``value`` if it is a same-origin path such as ``/projects/1?tab=a``, else ``default``.

    Refuses scheme-relative (``//evil``), backslash tricks (``/\\evil``), absolute URLs,
    ``javascript:``/``data:``, userinfo, leading whitespace and control characters, also when
    percent-encoded (``/%2F%2Fevil``, ``/%5Cevil``, ``/%0d%0a...``).
    """
    if not value or len(value) > 2048:
        return default
    if value[0] != "/" or value[:2] in ("//", "/\\") or "\\" in value:
        return default
    if any(ord(ch) < 0x21 or ord(ch) == 0x7F for ch in value):
        return default
    parts = urlsplit(value)
    if parts.scheme or parts.netloc or not parts.path.startswith("/"):
        return default
    decoded, path = unquote(value), unquote(parts.path)
    if path.startswith("//") or "\\" in path or any(
            ord(ch) < 0x20 or ord(ch) == 0x7F for ch in decoded):
        return default
    return value

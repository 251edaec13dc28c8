"""The WebAuthn relying party a browser sees for pages served under API_BASE_URL."""

from __future__ import annotations

from urllib.parse import urlsplit

_DEFAULT_PORTS = {"http": 80, "https": 443}


def relying_party(base_url: str) -> tuple[str, str]:
    """``(origin, rp_id)`` of ``base_url``: ``("https://app.example:8443", "app.example")``.

    The origin is serialised as browsers do (lower case, no path, no default port); both are
    empty when ``base_url`` is not an absolute http(s) URL.
    """
    try:
        parts = urlsplit(base_url.strip())
        host, port = parts.hostname or "", parts.port
    except ValueError:
        return "", ""
    scheme = parts.scheme.lower()
    if scheme not in _DEFAULT_PORTS or not host:
        return "", ""
    shown = f"[{host}]" if ":" in host else host
    if port is not None and port != _DEFAULT_PORTS[scheme]:
        shown = f"{shown}:{port}"
    return f"{scheme}://{shown}", host

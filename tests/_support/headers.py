"""Assertions on the security headers of authtuna answers."""

from __future__ import annotations

from typing import Any


def csp_directives(response: Any) -> dict[str, str]:
    """The Content-Security-Policy as ``{directive name: whole directive}``."""
    policy = response.headers.get("Content-Security-Policy", "")
    return {d.strip().split(" ", 1)[0]: d.strip() for d in policy.split(";") if d.strip()}


def assert_security_headers(response: Any) -> None:
    """The strict set every authtuna page, API answer and error page carries."""
    headers = response.headers
    csp = csp_directives(response)
    script_src = csp.get("script-src", csp.get("default-src", ""))
    assert "'unsafe-inline'" not in script_src and "'unsafe-eval'" not in script_src
    assert "'unsafe-inline'" not in csp.get("default-src", "")
    assert csp["frame-ancestors"] == "frame-ancestors 'none'"
    assert csp["object-src"] == "object-src 'none'"
    assert csp["base-uri"] == "base-uri 'none'"
    assert headers["X-Content-Type-Options"] == "nosniff"
    assert headers["Referrer-Policy"] == "no-referrer"
    assert "no-store" in headers["Cache-Control"]

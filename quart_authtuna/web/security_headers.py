"""Security headers for authtuna pages: CSP without inline scripts, no caching, no framing."""

from __future__ import annotations

from quart import Response, current_app, request

from ..core.settings import Settings

CSP = ("default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
       "font-src 'self'; connect-src 'self'; object-src 'none'; base-uri 'none'; "
       "frame-ancestors 'none'; form-action 'self'")


def apply(response: Response, settings: Settings) -> Response:
    """Add the headers every authtuna page and API answer carries."""
    headers = response.headers
    headers.setdefault("Content-Security-Policy", CSP)
    headers.setdefault("X-Content-Type-Options", "nosniff")
    headers.setdefault("X-Frame-Options", "DENY")
    headers.setdefault("Referrer-Policy", "no-referrer")
    headers.setdefault("Cross-Origin-Opener-Policy", "same-origin")
    headers["Cache-Control"] = "no-store"
    headers.setdefault("Pragma", "no-cache")
    if request.scheme == "https" or settings.api_base_url.startswith("https://"):
        headers.setdefault("Strict-Transport-Security", "max-age=31536000; includeSubDomains")
    return response


async def secure_blueprint_response(response: Response) -> Response:
    """``after_request`` hook for authtuna blueprints."""
    return apply(response, current_app.extensions["authtuna"].settings)

"""Security headers: strict ones on every authtuna response (error pages included), and with
SECURE_APP_RESPONSES no caching of signed-in answers and no framing of the app's own pages."""

from __future__ import annotations

from quart import Request, Response
from werkzeug.datastructures import Headers

from ..core.settings import Settings
from .request_state import RequestState

CSP = ("default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
       "font-src 'self'; connect-src 'self'; object-src 'none'; base-uri 'none'; "
       "frame-ancestors 'none'; form-action 'self'")
_AREA = "authtuna_"


def apply(response: Response, req: Request, settings: Settings) -> Response:
    """Add the headers every authtuna page and API answer carries."""
    headers = response.headers
    headers.setdefault("Content-Security-Policy", CSP)
    headers.setdefault("X-Content-Type-Options", "nosniff")
    headers.setdefault("X-Frame-Options", "DENY")
    headers.setdefault("Referrer-Policy", "no-referrer")
    headers.setdefault("Cross-Origin-Opener-Policy", "same-origin")
    headers["Cache-Control"] = "no-store"
    headers.setdefault("Pragma", "no-cache")
    if req.scheme == "https" or settings.api_base_url.startswith("https://"):
        headers.setdefault("Strict-Transport-Security", "max-age=31536000; includeSubDomains")
    return response


def apply_app(response: Response, req: Request, signed_in: bool) -> Response:
    """SECURE_APP_RESPONSES for the app's own routes.

    A response to a ``signed_in`` request (session cookie or API key) that sets no
    Cache-Control gets ``no-store`` (static files excepted); an HTML response that sets neither
    X-Frame-Options nor a CSP ``frame-ancestors`` gets ``DENY`` and ``'none'``. An anonymous
    answer that is not HTML is left as it is.
    """
    headers = response.headers
    found = _headers(headers)
    if signed_in and "cache-control" not in found:
        endpoint = req.endpoint or ""
        if endpoint != "static" and not endpoint.endswith(".static"):
            headers.add("Cache-Control", "no-store")
    html = found.get("content-type", "").partition(";")[0].strip().lower() == "text/html"
    if html and "x-frame-options" not in found:
        policy = found.get("content-security-policy")
        if policy is None:
            headers.add("Content-Security-Policy", "frame-ancestors 'none'")
            headers.add("X-Frame-Options", "DENY")
        elif "frame-ancestors" not in policy:
            headers["Content-Security-Policy"] = f"{policy.rstrip('; ')}; frame-ancestors 'none'"
            headers.add("X-Frame-Options", "DENY")
    return response


_READ = frozenset({"cache-control", "content-type", "x-frame-options",
                   "content-security-policy"})


def _headers(headers: Headers) -> dict[str, str]:
    """The first value of each header :func:`apply_app` reads, by lower-case name, in one
    pass (``in`` and ``get`` on werkzeug's Headers lower-case every name on each call and
    raise and catch a KeyError for a missing one, and this runs on every response)."""
    found: dict[str, str] = {}
    for key, value in headers:
        name = key.lower()
        if name in _READ and name not in found:
            found[name] = value
    return found


def is_authtuna_route(req: Request, settings: Settings) -> bool:
    """A route of an authtuna area, or an unknown path or method under an area's prefix."""
    rule = req.url_rule
    if rule is not None:  # the blueprint (the endpoint up to its last dot) is authtuna_<area>
        endpoint = rule.endpoint
        return endpoint.startswith(_AREA) and "." in endpoint
    if settings.only_middleware:
        return False
    path = req.path
    return any(path == prefix or path.startswith(prefix + "/")
               for prefix in area_prefixes(settings))


def area_prefixes(settings: Settings) -> tuple[str, ...]:
    """The URL prefixes of the areas the settings switch on (empty prefixes left out)."""
    areas = ((settings.auth_prefix, True), (settings.mfa_prefix, settings.mfa_enabled),
             (settings.passkeys_prefix, settings.passkeys_enabled),
             (settings.ui_prefix, settings.ui_enabled))
    return tuple(p.rstrip("/") for p, on in areas if on and p.strip("/"))


def secure_response(response: Response, req: Request, state: RequestState | None,
                    settings: Settings) -> Response:
    """After every request: authtuna routes get :func:`apply`, the app's own routes
    :func:`apply_app` (SECURE_APP_RESPONSES); a response ending the session clears site data.
    ``state`` is None for an anonymous request nothing asked about."""
    if state is not None and state.new_session_cookie == "":  # the session ended here
        response.headers["Clear-Site-Data"] = ", ".join(
            f'"{kind}"' for kind in settings.logout_clear_site_data)
    if is_authtuna_route(req, settings):
        return apply(response, req, settings)
    if settings.secure_app_responses:
        return apply_app(response, req, state is not None and state.maybe_signed_in)
    return response

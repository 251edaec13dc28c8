"""A small real OpenID Connect provider for development and tests, on 127.0.0.1.

It serves discovery, a JWKS with an RSA key it makes at start, an authorize page where you
pick or type a test identity, the token and userinfo endpoints, and GitHub-shaped
``/login/oauth/authorize``, ``/login/oauth/access_token``, ``/user`` and ``/user/emails``.
PKCE (S256) is enforced and codes are single-use. The authorize form can also make the
provider misbehave (wrong ``iss``/``aud``, expired or unsigned id_token, wrong nonce, slow
or malformed answers) so an application's tests can check each failure.

Run it beside an app: ``python -m quart_authtuna.testing.dev_oidc --port 8077`` and set
``AUTHTUNA_OIDC_PROVIDERS`` to what it prints. In tests: ``with DevProvider.running() as dev``
then :func:`consent` answers the authorize page over HTTP as a person would.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import hashlib
import json
import secrets
import socket
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode

from joserfc import jwt
from joserfc.jwk import RSAKey
from markupsafe import Markup, escape
from quart import Quart, Response, redirect, request
from quart.typing import ResponseReturnValue

CLIENT_ID, CLIENT_SECRET = "authtuna-dev", "authtuna-dev-secret"
FAULTS = ("", "access_denied", "wrong_iss", "wrong_aud", "expired", "unsigned", "wrong_nonce",
          "foreign_key", "malformed_json", "slow", "server_error", "no_id_token")
PRESETS = (("ada", "ada@example.com", "Ada Lovelace", True),
           ("grace", "grace@example.com", "Grace Hopper", True),
           ("uma", "uma@example.com", "Unverified Uma", False))
_AUTHORIZE_PARAMS = ("client_id", "redirect_uri", "state", "nonce", "code_challenge",
                     "code_challenge_method", "scope", "response_type")


@dataclass(frozen=True, slots=True)
class Identity:
    """A test person: ``sub`` defaults to a number derived from the email (stable)."""

    email: str
    name: str = ""
    username: str = ""
    email_verified: bool = True
    sub: str = ""

    @property
    def subject(self) -> str:
        seed = (self.email or self.username or "anonymous").lower()
        return self.sub or str(int(hashlib.sha256(seed.encode()).hexdigest()[:12], 16))

    def claims(self) -> dict[str, Any]:
        found: dict[str, Any] = {"sub": self.subject, "name": self.name,
                                 "preferred_username": self.username}
        if self.email:
            found |= {"email": self.email, "email_verified": self.email_verified}
        return found


@dataclass(slots=True)
class _Grant:
    identity: Identity
    client_id: str
    redirect_uri: str
    nonce: str
    challenge: str
    fault: str


@dataclass
class DevProvider:
    """The provider app; ``issuer`` is its own base URL (``http://127.0.0.1:<port>``)."""

    issuer: str
    client_id: str = CLIENT_ID
    client_secret: str = CLIENT_SECRET
    #: Seconds the ``slow`` fault waits before answering the token request.
    slow_seconds: float = 3.0
    #: The time id_tokens are issued at (a test with a fake clock sets its own).
    clock: Callable[[], float] = time.time
    key: RSAKey = field(default_factory=lambda: RSAKey.generate_key(
        2048, parameters={"kid": secrets.token_hex(8), "use": "sig", "alg": "RS256"}))
    codes: dict[str, _Grant] = field(default_factory=dict)
    tokens: dict[str, Identity] = field(default_factory=dict)
    app: Quart = field(init=False)

    def __post_init__(self) -> None:
        self.issuer = self.issuer.rstrip("/")
        app = self.app = Quart(__name__)
        app.add_url_rule("/.well-known/openid-configuration", view_func=self.discovery)
        app.add_url_rule("/jwks", view_func=self.jwks)
        for path in ("/authorize", "/login/oauth/authorize"):
            app.add_url_rule(path, path, self.authorize, methods=["GET", "POST"])
        for path in ("/token", "/login/oauth/access_token"):
            app.add_url_rule(path, path, self.token, methods=["POST"])
        app.add_url_rule("/userinfo", view_func=self.userinfo)
        app.add_url_rule("/user", view_func=self.github_user)
        app.add_url_rule("/user/emails", view_func=self.github_emails)
        app.add_url_rule("/style.css", view_func=_style)

    # ---- settings for an app ------------------------------------------------------------

    def oidc_setting(self, name: str = "dev", display_name: str = "Dev SSO") -> dict[str, str]:
        """One entry of AUTHTUNA_OIDC_PROVIDERS pointing at this provider."""
        return {"name": name, "display_name": display_name, "issuer": self.issuer,
                "client_id": self.client_id, "client_secret": self.client_secret}

    def app_settings(self) -> dict[str, Any]:
        """Settings that point Google, GitHub and a generic ``dev`` provider here."""
        return {"GOOGLE_CLIENT_ID": self.client_id, "GOOGLE_CLIENT_SECRET": self.client_secret,
                "GOOGLE_DISCOVERY_URL": f"{self.issuer}/.well-known/openid-configuration",
                "GITHUB_CLIENT_ID": self.client_id, "GITHUB_CLIENT_SECRET": self.client_secret,
                "GITHUB_OAUTH_URL": f"{self.issuer}/login/oauth", "GITHUB_API_URL": self.issuer,
                "OIDC_PROVIDERS": json.dumps([self.oidc_setting()])}

    # ---- OpenID Connect -------------------------------------------------------------------

    async def discovery(self) -> ResponseReturnValue:
        return {"issuer": self.issuer, "authorization_endpoint": f"{self.issuer}/authorize",
                "token_endpoint": f"{self.issuer}/token", "jwks_uri": f"{self.issuer}/jwks",
                "userinfo_endpoint": f"{self.issuer}/userinfo",
                "response_types_supported": ["code"], "subject_types_supported": ["public"],
                "id_token_signing_alg_values_supported": ["RS256"],
                "code_challenge_methods_supported": ["S256"],
                "scopes_supported": ["openid", "email", "profile"]}

    async def jwks(self) -> ResponseReturnValue:
        return {"keys": [self.key.as_dict(private=False)]}

    async def authorize(self) -> ResponseReturnValue:
        """GET: the page to pick or type an identity; POST: back to the app with a code."""
        if request.method == "GET":
            return Response(_page(dict(request.args)), content_type="text/html; charset=utf-8")
        form = await request.form
        params = {k: form.get(k, "") for k in _AUTHORIZE_PARAMS}
        if not params["redirect_uri"].startswith(("http://", "https://")):
            return {"error": "invalid_request"}, 400
        fault = form.get("fault", "")
        answer = {"state": params["state"]}
        if form.get("action") == "deny" or fault == "access_denied":
            answer["error"] = "access_denied"
        else:
            code = secrets.token_urlsafe(24)
            self.codes[code] = _Grant(
                _identity_from(form), params["client_id"], params["redirect_uri"],
                params["nonce"], params["code_challenge"], fault if fault in FAULTS else "")
            answer |= {"code": code, "iss": self.issuer}
        sep = "&" if "?" in params["redirect_uri"] else "?"
        return redirect(f"{params['redirect_uri']}{sep}{urlencode(answer)}")

    async def token(self) -> ResponseReturnValue:
        """The code (once), the client, the redirect URI and the PKCE verifier are checked."""
        form = await request.form
        grant = self.codes.pop(form.get("code", ""), None)
        if grant is None or form.get("redirect_uri") != grant.redirect_uri:
            return {"error": "invalid_grant"}, 400
        if (form.get("client_id") != self.client_id or grant.client_id != self.client_id
                or form.get("client_secret") != self.client_secret):
            return {"error": "invalid_client"}, 401
        verifier = form.get("code_verifier", "")
        digest = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest())
        if not verifier or digest.rstrip(b"=").decode() != grant.challenge:
            return {"error": "invalid_grant", "error_description": "PKCE check failed"}, 400
        if grant.fault == "slow":
            await asyncio.sleep(self.slow_seconds)
        if grant.fault == "server_error":
            return "upstream exploded", 500
        if grant.fault == "malformed_json":
            return Response('{"access_token": "x", ', content_type="application/json")
        access = secrets.token_urlsafe(24)
        self.tokens[access] = grant.identity
        body = {"access_token": access, "token_type": "Bearer", "expires_in": 3600,
                "scope": "openid email profile"}
        if grant.fault != "no_id_token":
            body["id_token"] = self._id_token(grant)
        return body

    def _id_token(self, grant: _Grant) -> str:
        now, fault = int(self.clock()), grant.fault
        claims = {**grant.identity.claims(), "iss": self.issuer, "aud": grant.client_id,
                  "iat": now, "exp": now + 600, "nonce": grant.nonce}
        changes: dict[str, dict[str, Any]] = {
            "wrong_iss": {"iss": "http://evil.example"}, "wrong_aud": {"aud": "other"},
            "expired": {"iat": now - 1200, "exp": now - 600},
            "wrong_nonce": {"nonce": "not-the-nonce"}}
        claims |= changes.get(fault, {})
        if fault == "unsigned":
            def part(data: dict[str, Any]) -> str:
                return base64.urlsafe_b64encode(json.dumps(data).encode()).rstrip(b"=").decode()
            return f"{part({'alg': 'none', 'typ': 'JWT'})}.{part(claims)}."
        key = self.key if fault != "foreign_key" else RSAKey.generate_key(
            2048, parameters={"kid": str(self.key.kid)})
        return jwt.encode({"alg": "RS256", "kid": self.key.kid}, claims, key)

    def _bearer(self) -> Identity | None:
        header = request.headers.get("Authorization", "")
        return self.tokens.get(header.removeprefix("Bearer ").strip()) if header.startswith(
            "Bearer ") else None

    async def userinfo(self) -> ResponseReturnValue:
        who = self._bearer()
        return ({"error": "invalid_token"}, 401) if who is None else who.claims()

    # ---- GitHub-shaped API ---------------------------------------------------------------

    async def github_user(self) -> ResponseReturnValue:
        who = self._bearer()
        if who is None:
            return {"message": "Bad credentials"}, 401
        return {"id": int(who.subject) if who.subject.isdigit() else who.subject,
                "login": who.username, "name": who.name, "email": None}

    async def github_emails(self) -> ResponseReturnValue:
        """The primary address as the identity says, plus a verified secondary one (which a
        client must not use)."""
        who = self._bearer()
        if who is None:
            return {"message": "Bad credentials"}, 401
        if not who.email:
            return []
        return [{"email": f"secondary-{who.subject}@example.net", "primary": False,
                 "verified": True, "visibility": None},
                {"email": who.email, "primary": True, "verified": who.email_verified,
                 "visibility": "private"}]

    # ---- running it -----------------------------------------------------------------------

    @classmethod
    @contextmanager
    def running(cls, host: str = "127.0.0.1", port: int = 0, **kwargs: Any
                ) -> Iterator[DevProvider]:
        """Serve a new provider in a background thread (its own event loop) until the block
        ends; ``port=0`` picks a free one."""
        from hypercorn.asyncio import serve
        from hypercorn.config import Config

        port = port or _free_port(host)
        provider = cls(f"http://{host}:{port}", **kwargs)
        config = Config()
        config.bind, config.accesslog, config.errorlog = [f"{host}:{port}"], None, None
        loop, stop = asyncio.new_event_loop(), asyncio.Event()
        thread = threading.Thread(target=loop.run_until_complete, daemon=True,
                                  args=(serve(provider.app, config,
                                              shutdown_trigger=stop.wait),),
                                  name="dev-oidc")
        thread.start()
        deadline = time.monotonic() + 20
        while True:
            try:
                socket.create_connection((host, port), timeout=0.5).close()
                break
            except OSError:
                if time.monotonic() > deadline or not thread.is_alive():
                    raise RuntimeError("the dev OpenID provider did not start") from None
                time.sleep(0.05)
        try:
            yield provider
        finally:
            loop.call_soon_threadsafe(stop.set)
            thread.join(10)
            loop.close()


async def consent(authorize_url: str, *, email: str = "ada@example.com", name: str = "",
                  username: str = "", email_verified: bool = True, sub: str = "",
                  fault: str = "", deny: bool = False) -> str:
    """Answer the provider's authorize page as a person would; returns the app's callback URL
    (with ``code`` and ``state``, or ``error``)."""
    from urllib.parse import parse_qsl, urlsplit

    import httpx2

    page = urlsplit(authorize_url)
    params = dict(parse_qsl(page.query))
    form = {**{k: params.get(k, "") for k in _AUTHORIZE_PARAMS}, "email": email, "name": name,
            "username": username, "sub": sub, "fault": fault,
            "action": "deny" if deny else "allow"}
    if email_verified:
        form["email_verified"] = "on"
    async with httpx2.AsyncClient(timeout=10) as client:
        shown = await client.get(authorize_url)
        shown.raise_for_status()
        answer = await client.post(authorize_url.split("?")[0], data=form)
    assert answer.status_code == 302, answer.text
    return str(answer.headers["location"])


def _identity_from(form: Any) -> Identity:
    return Identity(email=form.get("email", "").strip(), name=form.get("name", "").strip(),
                    username=form.get("username", "").strip(),
                    email_verified=form.get("email_verified") == "on",
                    sub=form.get("sub", "").strip())


def _free_port(host: str) -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((host, 0))
        return int(sock.getsockname()[1])


def _page(args: dict[str, str]) -> str:
    hidden = Markup("").join(Markup('<input type="hidden" name="{}" value="{}">').format(
        k, args.get(k, "")) for k in _AUTHORIZE_PARAMS)
    presets = Markup("").join(Markup(
        '<form method="post">{h}<input type="hidden" name="email" value="{e}">'
        '<input type="hidden" name="name" value="{n}"><input type="hidden" name="username" '
        'value="{u}">{v}<button type="submit">{n} <small>{e}{note}</small></button></form>'
    ).format(h=hidden, e=e, n=n, u=u, note="" if ok else " · unverified",
             v=Markup('<input type="hidden" name="email_verified" value="on">') if ok else "")
        for u, e, n, ok in PRESETS)
    faults = Markup("").join(Markup('<option value="{0}">{1}</option>').format(
        f, f or "behave") for f in FAULTS)
    return str(Markup(_HTML).format(client=escape(args.get("client_id", "?")), hidden=hidden,
                                    presets=presets, faults=faults))


_HTML = """<!doctype html><html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<link rel="stylesheet" href="/style.css"><title>Dev SSO · sign in</title></head>
<body><main><h1><span class="mark">D</span> Dev SSO</h1>
<p><strong>{client}</strong> asks who you are. This provider is for development only.</p>
<h2>Pick a test identity</h2><div id="presets">{presets}</div>
<h2>Or type one</h2>
<form method="post" id="custom">{hidden}
<label>Email<input name="email" type="email" value=""></label>
<label>Name<input name="name" value=""></label>
<label>Username<input name="username" value=""></label>
<label class="check"><input type="checkbox" name="email_verified" checked> Email verified</label>
<details><summary>Misbehave (for testing)</summary>
<label>Subject (sub)<input name="sub" value=""></label>
<label>Fault<select name="fault">{faults}</select></label></details>
<p class="actions"><button type="submit" name="action" value="allow">Continue</button>
<button type="submit" name="action" value="deny" class="quiet">Cancel</button></p></form>
</main></body></html>"""

_CSS = """body{font:16px/1.5 system-ui,sans-serif;background:#f4f1ea;color:#222;margin:0}
main{max-width:26rem;margin:2rem auto;padding:1.5rem;background:#fff;border-radius:14px;
box-shadow:0 8px 30px rgba(0,0,0,.08)}h1{font-size:1.4rem;display:flex;gap:.5rem;
align-items:center;margin:0 0 .5rem}.mark{display:inline-grid;place-items:center;width:2rem;
height:2rem;border-radius:8px;background:#1f7a5c;color:#fff}h2{font-size:1rem;margin:1.5rem 0 .5rem}
#presets{display:grid;gap:.5rem}#presets form{margin:0}button{font:inherit;cursor:pointer;
border-radius:10px;border:1px solid #1f7a5c;background:#1f7a5c;color:#fff;padding:.55rem 1rem}
#presets button{width:100%;text-align:left;background:#fff;color:#222;border-color:#ccc}
#presets small{display:block;color:#666}label{display:grid;gap:.2rem;margin:.6rem 0}
label.check{display:flex;gap:.5rem}input,select{font:inherit;padding:.45rem .6rem;
border:1px solid #bbb;border-radius:8px}.actions{display:flex;gap:.5rem}
button.quiet{background:#fff;color:#222;border-color:#ccc}details{margin:.75rem 0}"""


async def _style() -> ResponseReturnValue:
    return Response(_CSS, content_type="text/css")


def main() -> None:
    """``python -m quart_authtuna.testing.dev_oidc [--host 127.0.0.1] [--port 8077]``."""
    from hypercorn.asyncio import serve
    from hypercorn.config import Config

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8077)
    args = parser.parse_args()
    provider = DevProvider(f"http://{args.host}:{args.port}")
    print(f"Dev OpenID provider on {provider.issuer}\nAUTHTUNA_OIDC_PROVIDERS='"
          f"{json.dumps([provider.oidc_setting()])}'", flush=True)
    config = Config()
    config.bind = [f"{args.host}:{args.port}"]
    asyncio.run(serve(provider.app, config))


if __name__ == "__main__":
    main()

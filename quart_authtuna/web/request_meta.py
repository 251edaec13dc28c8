"""RequestMeta from a Quart request: client IP through trusted proxies, device, region.

Built on first use through :attr:`.request_state.RequestState.meta`, never eagerly."""

from __future__ import annotations

import functools
import hashlib
import ipaddress
import re

from quart import Request

from ..core.settings import Settings
from ..core.types import RequestMeta

_BROWSERS = (("Edg/", "Edge"), ("OPR/", "Opera"), ("Firefox/", "Firefox"),
             ("Chrome/", "Chrome"), ("Safari/", "Safari"))
_SYSTEMS = (("Windows", "Windows"), ("Android", "Android"), ("iPhone", "iOS"), ("iPad", "iOS"),
            ("Mac OS X", "macOS"), ("CrOS", "ChromeOS"), ("Linux", "Linux"))
_SAFE = re.compile(r"[^\w .,:/()-]")
#: How many distinct RequestMeta values :func:`request_meta` remembers.
MEMO_SIZE = 1024
_memo: dict[tuple[object, ...], RequestMeta] = {}


@functools.cache
def _networks(proxies: tuple[str, ...]) -> tuple[ipaddress.IPv4Network | ipaddress.IPv6Network,
                                                  ...]:
    return tuple(ipaddress.ip_network(p, strict=False) for p in proxies)


def _trusted(address: str | None, proxies: tuple[str, ...]) -> bool:
    if not address or not proxies:
        return False
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return False
    return any(ip in net for net in _networks(proxies))


def client_ip(request: Request, settings: Settings) -> str | None:
    """The peer address, or the forwarded client when the peer is a configured proxy.

    X-Forwarded-For is read right to left, skipping trusted proxies, so a client cannot
    spoof it by sending its own header.
    """
    return _client_ip(request.remote_addr, request.headers.get("X-Forwarded-For", ""),
                      settings.trusted_proxies)


def _client_ip(peer: str | None, forwarded: str, proxies: tuple[str, ...]) -> str | None:
    if not _trusted(peer, proxies):
        return peer
    hops = [h.strip() for h in forwarded.split(",") if h.strip()]
    for hop in reversed(hops):
        if not _trusted(hop, proxies):
            try:
                return str(ipaddress.ip_address(hop))
            except ValueError:
                return peer
    return peer


@functools.lru_cache(maxsize=512)
def describe_device(user_agent: str) -> str:
    """``"<browser> on <system>"`` from a User-Agent, without a parser dependency."""
    browser = next((name for mark, name in _BROWSERS if mark in user_agent), "Unknown browser")
    system = next((name for mark, name in _SYSTEMS if mark in user_agent), "Unknown system")
    return f"{browser} on {system}"


@functools.lru_cache(maxsize=64)
def _wanted(fingerprint: tuple[str, ...], region: tuple[str, ...]) -> frozenset[bytes]:
    """The raw header names (lower case, as in the ASGI scope) :func:`request_meta` reads."""
    names = ("User-Agent", "X-Forwarded-For", *fingerprint, *region)
    return frozenset(n.lower().encode("latin-1") for n in names)


def request_meta(request: Request, settings: Settings, *, device_token: str | None = None
                 ) -> RequestMeta:
    """Everything the core needs to know about who sent this request; ``device_token`` is
    the browser's trusted-device cookie, if any.

    Headers are read as werkzeug's ``Headers.get`` reads them (first one wins), in one pass
    over the raw ASGI headers (whose names are lower case). The result depends only on those
    values and the settings, and a browser sends the same ones on every request, so the last
    :data:`MEMO_SIZE` results are remembered (frozen, shared between requests).
    """
    wanted = _wanted(settings.fingerprint_headers, settings.region_headers)
    found: dict[bytes, bytes] = {}
    for name, value in request.scope.get("headers", ()):
        if name in wanted and name not in found:
            found[name] = value
    peer = request.remote_addr
    key = (settings.fingerprint_headers, settings.region_headers, settings.trusted_proxies,
           peer, device_token, *found.items())  # header order: one entry per order seen
    meta = _memo.get(key)
    if meta is None:
        meta = _compute(peer, found, settings, device_token)
        if len(_memo) >= MEMO_SIZE:
            del _memo[next(iter(_memo))]  # the oldest entry
        _memo[key] = meta
    return meta


def _compute(peer: str | None, found: dict[bytes, bytes], settings: Settings,
             device_token: str | None) -> RequestMeta:
    def header(name: str) -> str:
        value = found.get(name.lower().encode("latin-1"))
        return "" if value is None else value.decode("latin-1")

    proxies = settings.trusted_proxies
    ip = _client_ip(peer, header("X-Forwarded-For"), proxies)
    user_agent = header("User-Agent")[:512]
    region = "Unknown"
    if _trusted(peer, proxies):
        parts = [_SAFE.sub("", header(h))[:64] for h in settings.region_headers]
        region = ", ".join(p for p in parts if p) or "Unknown"
    material = "\n".join(header(h) for h in settings.fingerprint_headers)
    fingerprint = hashlib.sha256(material.encode("utf-8", "replace")).hexdigest()[:32]
    return RequestMeta(ip_address=ip, user_agent=user_agent, device=describe_device(user_agent),
                       region=region, fingerprint=fingerprint, device_token=device_token)

"""Benchmark: how long another worker process keeps accepting a session after a sign-out.

Two Hypercorn servers (one worker process each, loopback) share one PostgreSQL schema: A
and B. Their verification interval is INTERVAL seconds, so without a broadcast B would trust
its cache that long. For each of REVOCATIONS sessions: sign in on A (JSON), let B verify the
cookie (GET /protected, 200: B now caches it), then time from sending the sign-out to A until
B first answers 401 (B is polled on a keep-alive connection, about every millisecond).

Runs, once with PostgreSQL LISTEN/NOTIFY and once with Redis pub/sub:

1. plain: REVOCATIONS sign-outs in a row; p50, p99 and max.
2. broker cut: the same, but B reaches the broker through a TCP proxy in this process that is
   cut after a third of the sign-outs (B's listening connection drops, reconnecting fails)
   for CUT_REVOCATIONS sign-outs, then restored. During the cut the delay is bounded by the
   interval; after B reconnects (``/healthz`` 200 again) it is back under a second.

Run: ``.venv/bin/python benchmarks/bench_revocation.py [--url postgresql+asyncpg://…]
[--redis redis://127.0.0.1:6379/15] [--revocations 100]``. The schema ``bench_rev_<hex>`` is
dropped at the end.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import secrets
import statistics
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks._server import HttpClient, cookie_from, serve  # noqa: E402
from benchmarks.bench_rps import SECRETS  # noqa: E402

INTERVAL = 5.0
USERNAME, PASSWORD = "bench", "correct horse battery staple"
JSON = {"Accept": "application/json", "User-Agent": "bench/1.0", "Accept-Language": "en"}


# ---- the app (runs in the server processes) ----------------------------------------------

def create_app(config: dict[str, Any]) -> Any:
    """Quart + AuthTuna with /bare and /protected; ``listen_port``: reach the broker through
    the parent's proxy on that port (the broker cut)."""
    from quart import Quart
    from sqlalchemy.engine import make_url

    from quart_authtuna import AuthTuna, current_user, login_required
    from quart_authtuna.core.broadcast.choice import make_broadcaster
    from quart_authtuna.core.revocation import Broadcaster
    from quart_authtuna.core.settings import Settings

    class ProxiedAuthTuna(AuthTuna):
        def make_broadcaster(self, settings: Settings) -> Broadcaster:
            port = config.get("listen_port")
            if port is None:
                return make_broadcaster(settings)
            if settings.redis_url is not None:
                url = make_url(settings.redis_url.reveal()).set(host="127.0.0.1", port=port)
                return make_broadcaster(settings.replace(redis_url=url.render_as_string(False)))
            url = make_url(settings.default_database_uri.reveal()).set(host="127.0.0.1",
                                                                        port=port)
            return make_broadcaster(settings.replace(
                default_database_uri=url.render_as_string(False)))

    app = Quart(__name__)
    settings = {**SECRETS, "DEFAULT_DATABASE_URI": config["url"],
                "DATABASE_SCHEMA": config["schema"], "BCRYPT_ROUNDS": 4,
                "SESSION_SECURE": False, "API_BASE_URL": "http://127.0.0.1",
                "SESSION_DB_VERIFICATION_INTERVAL": INTERVAL, "SEND_NEW_LOGIN_EMAIL": False,
                "HEALTHZ_ENABLED": True, "AUTO_CREATE_DATABASE": False,
                "REVOCATION_BROADCASTER": config["broker"], "REDIS_URL": config.get("redis")}
    app.config.update({f"AUTHTUNA_{k}": v for k, v in settings.items() if v is not None})
    ProxiedAuthTuna(app)

    @app.get("/bare")
    async def bare() -> str:
        return "ok"

    @app.get("/protected")
    @login_required
    async def protected() -> dict[str, Any]:
        return {"id": current_user.id}

    return app


# ---- the measurement (this process) ------------------------------------------------------

async def prepare(url: str, schema: str) -> None:
    from quart_authtuna.core import AuthService, Settings

    settings = Settings.from_sources(overrides={
        **SECRETS, "DEFAULT_DATABASE_URI": url, "DATABASE_SCHEMA": schema, "BCRYPT_ROUNDS": 4,
        "REVOCATION_BROADCASTER": "local", "AUTO_CREATE_DATABASE": True})  # a throwaway schema
    async with AuthService(settings) as svc:
        await svc.users.create("bench@example.com", USERNAME, PASSWORD, email_verified=True)


async def drop(url: str, schema: str) -> None:
    from sqlalchemy import text
    from sqlalchemy.ext.asyncio import create_async_engine

    engine = create_async_engine(url)
    async with engine.begin() as conn:
        await conn.execute(text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
    await engine.dispose()


#: Seconds A took to answer each sign-out (the rest of a measurement is the broadcast).
ANSWERED: list[float] = []


async def one_revocation(a: int, b: HttpClient) -> float:
    """Seconds from sending the sign-out to A until B refuses the session."""
    import json

    login = HttpClient(a)
    try:
        status, headers, _ = await login.request("POST", "/auth/login", {
            **JSON, "Content-Type": "application/json", "Origin": f"http://127.0.0.1:{a}"},
            json.dumps({"username_or_email": USERNAME, "password": PASSWORD}).encode())
        assert status == 200, status
        cookie = cookie_from(headers, "session_token")
        seen, got, _ = await b.request("GET", "/protected",
                                       {**JSON, "Cookie": f"session_token={cookie}"})
        assert seen == 200, seen
        cookie = cookie_from(got, "session_token") or cookie
        start = time.monotonic()
        out, _, _ = await login.request("POST", "/auth/logout", {
            **JSON, "Content-Type": "application/json", "Origin": f"http://127.0.0.1:{a}",
            "Cookie": f"session_token={cookie}"}, b"{}")
        assert out == 200, out
        ANSWERED.append(time.monotonic() - start)
    finally:
        await login.close()
    while True:
        status, _, _ = await b.request("GET", "/protected",
                                       {**JSON, "Cookie": f"session_token={cookie}"})
        if status == 401:
            return time.monotonic() - start
        assert status == 200, status
        await asyncio.sleep(0.001)


async def healthy(port: int, timeout: float = 30) -> float:
    """Seconds until ``/healthz`` answers 200 (the broadcaster is connected)."""
    start = time.monotonic()
    client = HttpClient(port)
    try:
        while (await client.request("GET", "/healthz"))[0] != 200:
            assert time.monotonic() - start < timeout, "B did not reconnect"
            await asyncio.sleep(0.05)
    finally:
        await client.close()
    return time.monotonic() - start


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(q / 100 * len(ordered) + 0.5) - 1))]


def ms(seconds: float) -> str:
    return f"{seconds * 1000:.0f} ms"


async def run(broker: str, url: str, redis: str | None, count: int, cut_count: int) -> None:
    from sqlalchemy.engine import make_url

    from tests._support.brokers import TcpProxy

    schema = f"bench_rev_{secrets.token_hex(6)}"
    await prepare(url, schema)
    target = make_url(redis if broker == "redis" else url)
    proxy = TcpProxy(target.host or "127.0.0.1", target.port or (6379 if redis else 5432))
    await proxy.start()
    base = {"url": url, "schema": schema, "broker": broker, "redis": redis}
    try:
        with contextlib.ExitStack() as stack:
            servers = [await asyncio.to_thread(stack.enter_context, serve(
                "benchmarks.bench_revocation:create_app", config))
                for config in (base, {**base, "listen_port": proxy.port})]
            a, b = servers[0].port, servers[1].port
            await healthy(a)
            await healthy(b)
            probe = HttpClient(b)
            ANSWERED.clear()
            plain = [await one_revocation(a, probe) for _ in range(count)]
            answered = list(ANSWERED)
            before = [await one_revocation(a, probe) for _ in range(count // 3)]
            await proxy.cut()
            cut = [await one_revocation(a, probe) for _ in range(cut_count)]
            await proxy.restore()
            reconnect = await healthy(b)
            after = [await one_revocation(a, probe)
                     for _ in range(count - count // 3 - cut_count)]
            await probe.close()
    finally:
        await proxy.close()
        await drop(url, schema)
    print(f"\n{broker}: interval {INTERVAL:.0f} s")
    print(f"  plain, {len(plain)} sign-outs: p50 {ms(statistics.median(plain))}, "
          f"p99 {ms(pct(plain, 99))}, max {ms(max(plain))}")
    print(f"    of which A answering the sign-out: p50 {ms(statistics.median(answered))}, "
          f"p99 {ms(pct(answered, 99))}")
    rest = [total - own for total, own in zip(plain, answered, strict=True)]
    print(f"    and from A's answer to B's refusal: p50 {ms(statistics.median(rest))}, "
          f"p99 {ms(pct(rest, 99))}")
    print(f"  cut run, before the cut ({len(before)}): p50 {ms(statistics.median(before))}, "
          f"p99 {ms(pct(before, 99))}")
    print(f"  cut run, during the cut ({len(cut)}): p50 {ms(statistics.median(cut))}, "
          f"max {ms(max(cut))} (bound: the {INTERVAL:.0f} s interval)")
    print(f"  cut run, B healthy again {ms(reconnect)} after the proxy came back")
    print(f"  cut run, after reconnection ({len(after)}): p50 {ms(statistics.median(after))}, "
          f"p99 {ms(pct(after, 99))}, max {ms(max(after))}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--url", default=os.environ.get("AUTHTUNA_TEST_DATABASE_URL")
                        or "postgresql+asyncpg://postgres@127.0.0.1:5432/test")
    parser.add_argument("--redis", default="redis://127.0.0.1:6379/15")
    parser.add_argument("--revocations", type=int, default=100)
    parser.add_argument("--cut", type=int, default=8, help="sign-outs during the cut")
    args = parser.parse_args()
    asyncio.run(run("postgres", args.url, None, args.revocations, args.cut))
    asyncio.run(run("redis", args.url, args.redis, args.revocations, args.cut))


if __name__ == "__main__":
    main()

"""Benchmark: many distinct signed-in sessions of one user, loaded round-robin.

One Hypercorn server (1 worker, benchmarks/_server.py) with the guarded route of bench_rps
(``permission_required("projects:read")``), BCRYPT_ROUNDS=4, login throttling raised and
the new-login mail off (bench only). N sessions are made by real HTTP sign-ins, each from a
fresh connection with the browser headers used under load (32 at a time). ``wrk -t1 -c32``
then loads the route with a Lua script that takes cookies round-robin from a file, follows
each rotated cookie (Set-Cookie) for its slot, and counts every status: any non-200 or
socket error voids the run. N=1 uses the same script. The warm-up lasts at least one
verification interval plus 5 s, so the measured window holds steady-state checks.

Reported per N: rps, p99, UPDATEs of the sessions table per session-minute and SQL
statements per request (a ``before_cursor_execute`` listener in the server), and RSS per
cached session ((RSS_N - RSS_1) / N, RSS read in the server after a ``gc.collect()`` at the
end of the warm-up). PostgreSQL runs each start in a fresh schema, dropped afterwards.

Run: ``.venv/bin/python benchmarks/bench_sessions_scale.py [--n 1 3000 20000] [--seconds 60]
[--warmup 20] [--url postgresql+asyncpg://...] [--broadcast local|postgres]
[--rotation 300]``. With ``--rotation`` R shorter than 300 s the "at 300 s" column scales the
measured writes by R/300: an upper bound, since each rotation also waits for the session's
next due check after R.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks._server import serve  # noqa: E402
from benchmarks.bench_rps import (  # noqa: E402
    ACCEPT,
    AUTH_PATH,
    BROWSER,
    COOKIE,
    PASSWORD,
    USERNAME,
    counters,
)
from benchmarks.bench_rps import create_app as _rps_app  # noqa: E402

WRK_SCRIPT = r"""
local path = os.getenv("BENCH_PATH")
local name = os.getenv("BENCH_COOKIE_NAME")
local cookies = {}
for line in io.lines(os.getenv("BENCH_COOKIES")) do table.insert(cookies, line) end
local ua, al, accept = os.getenv("BENCH_USER_AGENT"), os.getenv("BENCH_ACCEPT_LANGUAGE"),
  os.getenv("BENCH_ACCEPT")
local next_slot, sent = 0, {}
ok, bad, first_bad = 0, 0, ""
local threads = {}
setup = function(thread) table.insert(threads, thread) end
request = function()
  next_slot = next_slot % #cookies + 1
  table.insert(sent, next_slot)
  return wrk.format("GET", path, {["User-Agent"] = ua, ["Accept-Language"] = al,
    ["Accept"] = accept, ["Cookie"] = name .. "=" .. cookies[next_slot]})
end
response = function(status, headers, body)
  local slot = table.remove(sent, 1)
  if status == 200 then ok = ok + 1 else
    bad = bad + 1
    if first_bad == "" then first_bad = tostring(status) end
  end
  for k, v in pairs(headers) do
    if string.lower(k) == "set-cookie" then
      local value = string.match(v, "^" .. name .. "=([^;]*)")
      if value and value ~= "" and slot then cookies[slot] = value end
    end
  end
end
done = function(summary, latency, requests)
  local total_ok, total_bad, first = 0, 0, ""
  for _, thread in ipairs(threads) do
    total_ok = total_ok + thread:get("ok")
    total_bad = total_bad + thread:get("bad")
    if first == "" then first = thread:get("first_bad") end
  end
  io.write(string.format("BENCH-STATUS ok=%d bad=%d first=%s p99=%.1f\n", total_ok,
    total_bad, first, latency:percentile(99) / 1000))
  if total_bad > 0 then os.exit(3) end
end
"""


#: Sign-ins in flight at once (each from its own fresh connection).
SIGN_IN_CONCURRENCY = 32


def create_app(config: dict[str, Any]) -> Any:
    """bench_rps's app on ``config['url']`` with the bench's settings, counting UPDATEs."""
    app = _rps_app({**config, "db": "unused"})
    from sqlalchemy import event

    counts = {"session_updates": 0}

    @app.before_serving
    async def count_updates() -> None:
        svc = app.extensions["authtuna"].service

        def on(_c: Any, _cur: Any, statement: str, *_: Any) -> None:
            if statement.lstrip().upper().startswith("UPDATE SESSIONS"):
                counts["session_updates"] += 1

        event.listen(svc.engine.sync_engine, "before_cursor_execute", on)

    @app.get("/_bench/updates")
    async def updates() -> dict[str, int]:
        svc = app.extensions["authtuna"].service
        return {**counts, "cached": len(svc.session_cache)}

    @app.get("/_bench/rss")
    async def rss() -> dict[str, int]:
        """This process's RSS in KB after a full collection (same phase for every N), then
        the bytes held by the session cache and the decoded-cookie memo (a deep size)."""
        import gc

        gc.collect()
        rss_kb = _rss_kb(os.getpid())
        svc = app.extensions["authtuna"].service
        cache, memo = svc.session_cache, svc.session_validator.codec._memo
        return {"rss_kb": rss_kb, "cache_bytes": _deep_size(
            cache._by_session, cache._by_user, cache._revoked, memo)}

    return app


async def _sign_in_many(port: int, n: int) -> list[str]:
    from benchmarks._server import login

    semaphore = asyncio.Semaphore(SIGN_IN_CONCURRENCY)

    async def one() -> str:
        async with semaphore:
            status, cookie = await login(port, USERNAME, PASSWORD, BROWSER)
        if status != 200 or not cookie:
            raise SystemExit(f"sign-in failed: {status}")
        return cookie

    return list(await asyncio.gather(*(one() for _ in range(n))))


def _deep_size(*roots: Any) -> int:
    """Bytes of every object reachable from ``roots`` (each counted once; no types,
    modules or functions): what the caches hold, shared strings included once."""
    import gc
    import types

    skip = (type, types.ModuleType, types.FunctionType, types.BuiltinFunctionType)
    seen: set[int] = set()
    stack, total = list(roots), 0
    while stack:
        obj = stack.pop()
        if id(obj) in seen or isinstance(obj, skip):
            continue
        seen.add(id(obj))
        total += sys.getsizeof(obj)
        stack.extend(gc.get_referents(obj))
    return total


def _get_json(port: int, path: str) -> dict[str, int]:
    import json
    import urllib.request

    with urllib.request.urlopen(f"http://127.0.0.1:{port}{path}") as answer:
        return {k: int(v) for k, v in json.loads(answer.read()).items()}


def _rss_kb(pid: int) -> int:
    text = Path(f"/proc/{pid}/status").read_text()
    return int(re.search(r"VmRSS:\s+(\d+)", text).group(1))  # type: ignore[union-attr]


def _wrk(port: int, cookies: Path, seconds: float, script: Path, *, warmup: bool = False
         ) -> tuple[float, float, int]:
    """rps, p99 (ms) and requests of one load; void on any non-200 or socket error (the
    warm-up, which holds the first checks' burst, tolerates wrk's 2 s timeouts only)."""
    env = {**os.environ, "BENCH_PATH": AUTH_PATH, "BENCH_COOKIE_NAME": COOKIE,
           "BENCH_COOKIES": str(cookies), "BENCH_USER_AGENT": BROWSER["User-Agent"],
           "BENCH_ACCEPT_LANGUAGE": BROWSER["Accept-Language"], "BENCH_ACCEPT": ACCEPT}
    done = subprocess.run(["wrk", "-t1", "-c32", f"-d{seconds:g}s", "-s", str(script),
                           f"http://127.0.0.1:{port}{AUTH_PATH}"], env=env,
                          capture_output=True, text=True, timeout=seconds + 60)
    found = re.search(r"(\d+) requests in ([\d.]+)(ms|s|m)", done.stdout)
    status = re.search(r"BENCH-STATUS ok=(\d+) bad=(\d+) first=(\S*) p99=([\d.]+)", done.stdout)
    errors = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)",
                       done.stdout)
    if warmup and errors and not any(int(n) for n in errors.groups()[:3]):
        print(f"warm-up: {errors.group(4)} wrk timeout(s), every response 200", flush=True)
        errors = None
    if not found or not status or done.returncode != 0 or errors:
        raise SystemExit(f"run void (every response must be 200):\n{done.stdout}{done.stderr}")
    elapsed = float(found.group(2)) * {"ms": 0.001, "s": 1, "m": 60}[found.group(3)]
    return int(found.group(1)) / elapsed, float(status.group(4)), int(found.group(1))


def measure(n: int, url: str, settings: dict[str, Any], seconds: float, warmup: float,
            tmp: str) -> dict[str, float]:
    script = Path(tmp) / "scale.lua"
    script.write_text(WRK_SCRIPT)
    config = {"url": url, "bcrypt_rounds": 4, "username": USERNAME, "password": PASSWORD,
              "settings": settings}
    with serve("benchmarks.bench_sessions_scale:create_app", config) as server:
        started = time.monotonic()
        cookies = asyncio.run(_sign_in_many(server.port, n))
        signed_in = time.monotonic() - started
        jar = Path(tmp) / f"cookies-{n}.txt"
        jar.write_text("\n".join(cookies) + "\n")
        # The youngest session must pass one verification interval inside the warm-up, so the
        # measured window holds steady-state checks, not the burst of first checks.
        interval = float(settings.get("SESSION_DB_VERIFICATION_INTERVAL", 10))
        _wrk(server.port, jar, max(warmup, interval + 5), script, warmup=True)
        memory = _get_json(server.port, "/_bench/rss")
        before, updates_before = counters(server.port), _get_json(server.port, "/_bench/updates")
        rps, p99, requests = _wrk(server.port, jar, seconds, script)
        after, updates_after = counters(server.port), _get_json(server.port, "/_bench/updates")
    writes = updates_after["session_updates"] - updates_before["session_updates"]
    return {"n": n, "sign_in_s": signed_in, "rps": rps, "p99": p99,
            "writes_per_session_minute": writes / max(1, n) / (seconds / 60),
            "statements_per_request": (after["queries"] - before["queries"]) / requests,
            "rss_kb": memory["rss_kb"], "cache_bytes": memory["cache_bytes"],
            "cached": updates_after["cached"]}


async def _drop(url: str, schema: str) -> None:
    """Each run starts in a fresh schema; drop it afterwards."""
    from sqlalchemy import text
    from sqlalchemy.ext.asyncio import create_async_engine

    engine = create_async_engine(url)
    async with engine.begin() as conn:
        await conn.execute(text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
    await engine.dispose()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--n", type=int, nargs="+", default=[1, 3000, 20000])
    parser.add_argument("--seconds", type=float, default=60)
    parser.add_argument("--warmup", type=float, default=20)
    parser.add_argument("--url", default="")
    parser.add_argument("--broadcast", default="local", choices=["local", "postgres"])
    parser.add_argument("--rotation", type=float, default=300)
    args = parser.parse_args()
    settings = {"REVOCATION_BROADCASTER": args.broadcast,
                "SESSION_ROTATION_SECONDS": args.rotation,
                "SESSION_CACHE_SIZE": max(50_000, 2 * max(args.n)),
                "MAX_LOGIN_ATTEMPTS_PER_IP": 1_000_000, "MAX_LOGIN_ATTEMPTS_PER_USER": 1_000_000,
                # bench only: no new-login mail (printed to the console per sign-in)
                "SEND_NEW_LOGIN_EMAIL": False}
    rows = []
    with tempfile.TemporaryDirectory(prefix="authtuna-scale-") as tmp:
        for n in args.n:
            url = args.url or f"sqlite+aiosqlite:///{tmp}/scale-{n}.db"
            schema = {"DATABASE_SCHEMA": f"bench_scale_{os.getpid()}_{n}"} if args.url else {}
            try:
                rows.append(measure(n, url, {**settings, **schema}, args.seconds, args.warmup,
                                    tmp))
            finally:
                if args.url:
                    asyncio.run(_drop(args.url, schema["DATABASE_SCHEMA"]))
            print(rows[-1], flush=True)
    base = rows[0]
    print(f"\n{'N':>6} {'rps':>7} {'ratio':>6} {'p99 ms':>7} {'writes/sess-min':>15} "
          f"{'at 300 s':>8} {'stmts/req':>9} {'RSS/session':>11} {'cache/session':>13} "
          f"{'sign-in s':>9}")
    for row in rows:
        per = ((row["rss_kb"] - base["rss_kb"]) * 1024 / row["n"]) if row["n"] > base["n"] else 0
        print(f"{row['n']:>6} {row['rps']:>7,.0f} {row['rps'] / base['rps']:>6.2f} "
              f"{row['p99']:>7.1f} {row['writes_per_session_minute']:>15.3f} "
              f"{row['writes_per_session_minute'] * args.rotation / 300:>8.3f} "
              f"{row['statements_per_request']:>9.4f} {per:>9.0f} B "
              f"{row['cache_bytes'] / max(1, row['cached']):>11.0f} B {row['sign_in_s']:>9.1f}")


if __name__ == "__main__":
    main()

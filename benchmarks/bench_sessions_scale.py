"""Benchmark: many distinct signed-in sessions of one user, loaded round-robin.

The guarded route of bench_rps (``permission_required("projects:read")``), BCRYPT_ROUNDS=4,
login throttling raised and the new-login mail off (bench only). Per N:

1. **Sign-in**: N real HTTP sign-ins, each from a fresh connection with the browser headers
   used under load (32 at a time), through two sign-in servers on the database (one per
   core). They stop before the measured server starts, so its memory holds no sign-in work.
2. **Age**: the sessions' last rotation (and sign-in) times are spread uniformly over the last
   rotation period, as in a population active for longer than one period: rotations come due
   at the steady rate (N per period) from the start, not in the burst a fresh sign-in makes.
3. **Load**, once per broadcast mode (``--broadcast local postgres``), each on a fresh
   server (1 Hypercorn worker, benchmarks/_server.py): ``wrk -t1 -c32`` with a Lua script
   that takes the cookies round-robin, follows each rotated cookie (Set-Cookie) for its slot
   (the server echoes the slot: responses of 32 connections come back in any order), logs it
   for the next run on the same population, and counts every status: any non-200 or socket
   error voids the run. The warm-up reads every session once (the cache starts empty) and
   runs past one verification interval; then the measured window.

Reported per N: rps, p99, rows of the sessions table updated per session-minute, SQL
statements per request (a cursor listener in the server), and RSS per cached session
((RSS_N - RSS_1) / N, RSS read after a ``gc.collect()`` at the end of the warm-up, each in a
server that only ever served the load). PostgreSQL runs each N in a fresh schema, dropped
afterwards; SQLite in a fresh file.

Run: ``.venv/bin/python benchmarks/bench_sessions_scale.py [--n 3000 20000] [--seconds 60]
[--warmup 20] [--url postgresql+asyncpg://...] [--broadcast local postgres]
[--rotation 300] [--rounds 1]``. N=1 is measured just before each N (the machine's speed
drifts over minutes), and each line's ratios are within its pair. With ``--rotation`` R
shorter than 300 s the "at 300 s" column scales the measured writes by R/300.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
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
    LUA_STATUS,
    PASSWORD,
    STATUS_LINE,
    USERNAME,
    counters,
    server_cpu,
)
from benchmarks.bench_rps import create_app as _rps_app  # noqa: E402

WRK_SCRIPT = LUA_STATUS + r"""
local path = os.getenv("BENCH_PATH")
local name = os.getenv("BENCH_COOKIE_NAME")
local cookies = {}
for line in io.lines(os.getenv("BENCH_COOKIES")) do table.insert(cookies, line) end
local ua, al, accept = os.getenv("BENCH_USER_AGENT"), os.getenv("BENCH_ACCEPT_LANGUAGE"),
  os.getenv("BENCH_ACCEPT")
local next_slot = 0
request = function()
  next_slot = next_slot % #cookies + 1
  return wrk.format("GET", path, {["User-Agent"] = ua, ["Accept-Language"] = al,
    ["Accept"] = accept, ["Cookie"] = name .. "=" .. cookies[next_slot],
    ["X-Bench-Slot"] = tostring(next_slot)})
end
response = function(status, headers, body)
  count(status, headers)
  -- the server echoes the slot: responses of the 32 connections come in any order
  local slot = tonumber(headers["X-Bench-Slot"] or headers["x-bench-slot"] or "")
  for k, v in pairs(headers) do
    if string.lower(k) == "set-cookie" then
      local value = string.match(v, "^" .. name .. "=([^;]*)")
      if value and value ~= "" and slot then
        cookies[slot] = value
        -- logged for the next run on this population (rotations are rare)
        if not rotated then rotated = io.open(os.getenv("BENCH_ROTATED"), "a") end
        rotated:write(slot, " ", value, "\n")
        rotated:flush()
      end
    end
  end
end
"""


#: Sign-ins in flight at once (each from its own fresh connection).
SIGN_IN_CONCURRENCY = 32


def create_app(config: dict[str, Any]) -> Any:
    """bench_rps's app on ``config['url']`` with the bench's settings, counting UPDATEs."""
    app = _rps_app({**config, "db": "unused"})
    from sqlalchemy import event

    counts: dict[str, int] = {"session_updates": 0}

    @app.before_serving
    async def count_updates() -> None:
        svc = app.extensions["authtuna"].service

        def on(_c: Any, cursor: Any, statement: str, *_: Any) -> None:
            """Rows of the sessions table updated (a batched statement counts each row)."""
            if statement.lstrip().upper().startswith("UPDATE SESSIONS"):
                counts["session_updates"] += max(1, cursor.rowcount)

        event.listen(svc.engine.sync_engine, "after_cursor_execute", on)
        import gc

        started: list[float] = []

        def timed(phase: str, info: dict[str, Any]) -> None:
            """Time spent in the cyclic garbage collector, per generation."""
            if phase == "start":
                started[:] = [time.perf_counter()]
            elif started:
                key = f"gc{info['generation']}_us"
                counts[key] = counts.get(key, 0) + int((time.perf_counter() - started[0]) * 1e6)
                counts[f"gc{info['generation']}_n"] = counts.get(f"gc{info['generation']}_n", 0) + 1

        gc.callbacks.append(timed)

    @app.after_request
    async def echo_slot(response: Any) -> Any:
        """The load script's slot back, for it to follow a rotated cookie (all N alike)."""
        from quart import request

        slot = request.headers.get("X-Bench-Slot")
        if slot is not None:
            response.headers["X-Bench-Slot"] = slot
        return response

    @app.get("/_bench/updates")
    async def updates() -> dict[str, int]:
        svc = app.extensions["authtuna"].service
        return {**counts, "cached": len(svc.session_cache),
                "drops": svc.session_cache.generation}

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


async def _sign_in_many(ports: list[int], n: int) -> list[str]:
    """N sign-ins, each from a fresh connection, spread over the sign-in servers."""
    from benchmarks._server import login

    semaphore = asyncio.Semaphore(SIGN_IN_CONCURRENCY)

    async def one(port: int) -> str:
        async with semaphore:
            status, cookie = await login(port, USERNAME, PASSWORD, BROWSER)
        if status != 200 or not cookie:
            raise SystemExit(f"sign-in failed: {status}")
        return cookie

    return list(await asyncio.gather(*(one(ports[i % len(ports)]) for i in range(n))))


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


def _postgres_cpu() -> float:
    """CPU seconds used so far by this machine's PostgreSQL processes (0 without any): the
    database shares the cores with the server and wrk, so its work lowers the rps too."""
    total = 0.0
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            text = stat.read_text()
        except OSError:
            continue
        if "(postgres)" in text:
            total += server_cpu(int(stat.parent.name)) or 0.0
    return total


def _children_cpu() -> float:
    """CPU seconds used by this process's finished children (wrk, once it has exited)."""
    import resource

    used = resource.getrusage(resource.RUSAGE_CHILDREN)
    return used.ru_utime + used.ru_stime


def _rss_kb(pid: int) -> int:
    text = Path(f"/proc/{pid}/status").read_text()
    return int(re.search(r"VmRSS:\s+(\d+)", text).group(1))  # type: ignore[union-attr]


def _follow(jar: Path, rotated: Path) -> None:
    """Apply the rotations wrk logged (``slot value``, 1-based) to the jar."""
    if not rotated.exists():
        return
    cookies = jar.read_text().split()
    for line in rotated.read_text().splitlines():
        slot, _, value = line.partition(" ")
        cookies[int(slot) - 1] = value
    jar.write_text("\n".join(cookies) + "\n")
    rotated.unlink()


def _wrk(port: int, cookies: Path, seconds: float, script: Path, *, warmup: bool = False
         ) -> tuple[float, float, int]:
    """rps, p99 (ms) and requests of one load; void on any non-200 or socket error (the
    warm-up, which holds the first checks' burst, tolerates wrk's 2 s timeouts only)."""
    rotated = cookies.with_suffix(".rotated")
    env = {**os.environ, "BENCH_PATH": AUTH_PATH, "BENCH_COOKIE_NAME": COOKIE,
           "BENCH_COOKIES": str(cookies), "BENCH_ROTATED": str(rotated),
           "BENCH_USER_AGENT": BROWSER["User-Agent"],
           "BENCH_ACCEPT_LANGUAGE": BROWSER["Accept-Language"], "BENCH_ACCEPT": ACCEPT}
    done = subprocess.run(["wrk", "-t1", "-c32", f"-d{seconds:g}s", "-s", str(script),
                           f"http://127.0.0.1:{port}{AUTH_PATH}"], env=env,
                          capture_output=True, text=True, timeout=seconds + 60)
    found = re.search(r"(\d+) requests in ([\d.]+)(ms|s|m)", done.stdout)
    status = re.search(STATUS_LINE, done.stdout)
    errors = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)",
                       done.stdout)
    if warmup and errors and not any(int(n) for n in errors.groups()[:3]):
        print(f"warm-up: {errors.group(4)} wrk timeout(s), every response 200", flush=True)
        errors = None
    if not found or not status or done.returncode != 0 or errors:
        raise SystemExit(f"run void (every response must be 200):\n{done.stdout}{done.stderr}")
    _follow(cookies, rotated)
    elapsed = float(found.group(2)) * {"ms": 0.001, "s": 1, "m": 60}[found.group(3)]
    return int(found.group(1)) / elapsed, float(status.group(3)), int(found.group(1))


def populate(n: int, url: str, settings: dict[str, Any], tmp: str) -> tuple[Path, float]:
    """Sign N sessions in over HTTP through two sign-in servers (one per core) on the
    database; the measured server starts afterwards, so its memory holds no sign-in work.
    Returns the cookie jar and the seconds the sign-ins took."""
    config = {"url": url, "bcrypt_rounds": 4, "username": USERNAME, "password": PASSWORD,
              "settings": settings}
    with contextlib.ExitStack() as stack:
        ports = [stack.enter_context(serve("benchmarks.bench_sessions_scale:create_app",
                                           config)).port for _ in range(2)]
        started = time.monotonic()
        cookies = asyncio.run(_sign_in_many(ports, n))
        took = time.monotonic() - started
    jar = Path(tmp) / f"cookies-{n}.txt"
    jar.write_text("\n".join(cookies) + "\n")
    return jar, took


async def _age(url: str, schema: str | None, period: float) -> None:
    """Spread the sessions' last rotation (and sign-in) uniformly over the last rotation
    period, as in a population active for longer than one period: rotations then come due at
    the steady rate of N per period from the start, not in the burst a fresh sign-in makes."""
    import random

    from sqlalchemy import text
    from sqlalchemy.ext.asyncio import create_async_engine

    table = f'"{schema}".sessions' if schema else "sessions"
    engine = create_async_engine(url)
    async with engine.begin() as conn:
        ids = (await conn.execute(text(f"SELECT session_id FROM {table}"))).scalars().all()
        now = time.time()
        rows = []
        for session_id in ids:
            at = now - period * random.random()
            rows.append({"sid": session_id, "at": at})
        await conn.execute(text(f"UPDATE {table} SET mtime = :at, authenticated_at = :at, "
                                "ctime = :at WHERE session_id = :sid"), rows)
    await engine.dispose()


def measure(n: int, jar: Path, url: str, settings: dict[str, Any], seconds: float,
            warmup: float, tmp: str) -> dict[str, float]:
    """Load N signed-in sessions round-robin on a fresh server; the jar follows rotations."""
    script = Path(tmp) / "scale.lua"
    script.write_text(WRK_SCRIPT)
    config = {"url": url, "bcrypt_rounds": 4, "username": USERNAME, "password": PASSWORD,
              "settings": settings}
    with serve("benchmarks.bench_sessions_scale:create_app", config) as server:
        # The warm-up reads every session once (the cache starts empty) and then runs past
        # one verification interval, so the measured window holds steady-state checks.
        interval = float(settings.get("SESSION_DB_VERIFICATION_INTERVAL", 10))
        _wrk(server.port, jar, max(warmup, interval + 5, n / 400), script, warmup=True)
        memory = _get_json(server.port, "/_bench/rss")
        before, updates_before = counters(server.port), _get_json(server.port, "/_bench/updates")
        cpu_before, db_before = server_cpu(server.process.pid) or 0.0, _postgres_cpu()
        wrk_before = _children_cpu()
        rps, p99, requests = _wrk(server.port, jar, seconds, script)
        cpu_after, db_after = server_cpu(server.process.pid) or 0.0, _postgres_cpu()
        wrk_after = _children_cpu()
        after, updates_after = counters(server.port), _get_json(server.port, "/_bench/updates")
    writes = updates_after["session_updates"] - updates_before["session_updates"]
    return {"n": n, "rps": rps, "p99": p99,
            "cpu_us": (cpu_after - cpu_before) / requests * 1e6,
            "db_cpu_us": (db_after - db_before) / requests * 1e6,
            "wrk_cpu_us": (wrk_after - wrk_before) / requests * 1e6,
            "writes_per_session_minute": writes / max(1, n) / (seconds / 60),
            "statements_per_request": (after["queries"] - before["queries"]) / requests,
            "rss_kb": memory["rss_kb"], "cache_bytes": memory["cache_bytes"],
            "cached": updates_after["cached"],
            "drops": updates_after["drops"] - updates_before["drops"]}


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
    parser.add_argument("--n", type=int, nargs="+", default=[3000, 20000])
    parser.add_argument("--seconds", type=float, default=60)
    parser.add_argument("--warmup", type=float, default=20)
    parser.add_argument("--url", default="")
    parser.add_argument("--broadcast", nargs="+", default=["local"],
                        choices=["local", "postgres"])
    parser.add_argument("--rotation", type=float, default=300)
    parser.add_argument("--rounds", type=int, default=1)
    args = parser.parse_args()
    settings = {"SESSION_ROTATION_SECONDS": args.rotation,
                "SESSION_CACHE_SIZE": max(50_000, 2 * max(args.n)),
                "MAX_LOGIN_ATTEMPTS_PER_IP": 1_000_000, "MAX_LOGIN_ATTEMPTS_PER_USER": 1_000_000,
                # bench only: no new-login mail (printed to the console per sign-in)
                "SEND_NEW_LOGIN_EMAIL": False}
    pairs: dict[str, list[tuple[dict[str, float], dict[str, float]]]] = {
        b: [] for b in args.broadcast}
    with tempfile.TemporaryDirectory(prefix="authtuna-scale-") as tmp, \
            contextlib.ExitStack() as populations:
        def population(n: int) -> tuple[Path, str, dict[str, Any]]:
            url = args.url or f"sqlite+aiosqlite:///{tmp}/scale-{n}.db"
            schema = f"bench_scale_{os.getpid()}_{n}" if args.url else None
            # a fresh schema per N: the bench creates its tables (refused in production)
            where = {"DATABASE_SCHEMA": schema, "AUTO_CREATE_DATABASE": True} if schema else {}
            if schema:
                populations.callback(lambda: asyncio.run(_drop(args.url, schema)))
            jar, took = populate(n, url, {**settings, **where}, tmp)
            print(f"N={n}: {n} sign-ins in {took:.0f} s", flush=True)
            return jar, url, where

        def run(n: int, found: tuple[Path, str, dict[str, Any]], broadcast: str
                ) -> dict[str, float]:
            jar, url, where = found
            asyncio.run(_age(url, where.get("DATABASE_SCHEMA"), args.rotation))
            row = measure(n, jar, url, {**settings, **where, "REVOCATION_BROADCASTER": broadcast},
                          args.seconds, args.warmup, tmp)
            print(broadcast, row, flush=True)
            return row

        one = population(1)  # N=1 runs just before each N: the machine's speed drifts
        for n in args.n:
            many = population(n)
            for broadcast in args.broadcast:
                for _ in range(args.rounds):
                    pairs[broadcast].append((run(1, one, broadcast), run(n, many, broadcast)))
    for broadcast, measured in pairs.items():
        _table(broadcast, measured, args.rotation)


def _table(broadcast: str, pairs: list[tuple[dict[str, float], dict[str, float]]],
           rotation: float) -> None:
    """One line per pair: N=1 just before N; ratios within the pair."""
    print(f"\nbroadcast {broadcast}\n{'N':>6} {'rps':>7} {'N=1 rps':>7} {'ratio':>6} "
          f"{'p99 ms':>7} {'writes/sess-min':>15} {'at 300 s':>8} {'stmts/req':>9} "
          f"{'RSS/session':>11} {'cache/session':>13} {'CPU us/req':>10} {'CPU ratio':>9} "
          f"{'DB us/req':>9} {'wrk us/req':>10}")
    for base, row in pairs:
        per = (row["rss_kb"] - base["rss_kb"]) * 1024 / row["n"]
        print(f"{row['n']:>6} {row['rps']:>7,.0f} {base['rps']:>7,.0f} "
              f"{row['rps'] / base['rps']:>6.2f} "
              f"{row['p99']:>7.1f} {row['writes_per_session_minute']:>15.3f} "
              f"{row['writes_per_session_minute'] * rotation / 300:>8.3f} "
              f"{row['statements_per_request']:>9.4f} {per:>9.0f} B "
              f"{row['cache_bytes'] / max(1, row['cached']):>11.0f} B "
              f"{row['cpu_us']:>10.0f} {base['cpu_us'] / row['cpu_us']:>9.2f} "
              f"{row['db_cpu_us']:>9.0f} {row['wrk_cpu_us']:>10.0f}")


if __name__ == "__main__":
    main()

"""Benchmark: requests/s of an authenticated, permission-checked route vs a bare route.

One Hypercorn server (one worker, loopback) serves an app with AuthTuna installed and:

- ``/bare``: returns "ok" (visited without a cookie, as an anonymous visitor);
- ``/projects/<project_id>``: ``permission_required("projects:read",
  scope_from_path="project_id")``, returning current_user's id and username;
- ``/_bench/queries``: how many SQL statements the app has executed so far (a
  ``before_cursor_execute`` listener on the service's engine).

Settings: SQLite file in a temp dir, BCRYPT_ROUNDS=4, fixed secrets, SESSION_SECURE off,
the default SESSION_DB_VERIFICATION_INTERVAL (10 s). A user holding projects:read at
``project:p1`` logs in once (POST /auth/login, JSON, with Origin) and the load generator
replays that session cookie, taking up any rotated cookie the server sets, as a browser does.

Load: ``wrk -t1 -c32 -d5s`` (the Debian package; ``apt-get install -y wrk``), or a Python
asyncio keep-alive client with the same connection count when wrk is missing. The two
routes are loaded alternately, ROUNDS rounds each after a short warm-up, and the script
prints the median and best rps of each, the ratio auth/bare (target >= 0.85, goal 0.9),
and SQL statements per authenticated request in the steady state (0 between the periodic
session re-verifications). Every authenticated response must be 2xx, or the run is void.

Run: ``.venv/bin/python benchmarks/bench_rps.py [--rounds N] [--seconds S] [--python-client]``;
``--profile`` instead times both routes in process and prints where our code spends its time.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks._server import HttpClient, cookie_from, login, serve  # noqa: E402

USERNAME, PASSWORD = "bench", "correct horse battery staple"
COOKIE = "session_token"
AUTH_PATH, BARE_PATH = "/projects/p1", "/bare"
CONNECTIONS = 32

SECRETS = {
    "PASSWORD_PEPPER": "bench-pepper-" + "p" * 40,
    "JWT_SECRET_KEY": "bench-jwt-secret-" + "j" * 40,
    "ENCRYPTION_PRIMARY_KEY": "bench-encryption-key-" + "e" * 40,
    "FERNET_KEYS": ["Rm9yQmVuY2htYXJrc09ubHlOb3RBUmVhbEtleTAwMDA="],
}


# ---- the app (runs in the server process) ------------------------------------------------


def create_app(config: dict[str, Any]) -> Any:
    """The benchmark app; ``config``: db (SQLite path), bcrypt_rounds, username, password."""
    from quart import Quart
    from sqlalchemy import event

    from quart_authtuna import AuthTuna, current_user, permission_required

    app = Quart(__name__)
    settings = {**SECRETS, "DEFAULT_DATABASE_URI": f"sqlite+aiosqlite:///{config['db']}",
                "BCRYPT_ROUNDS": config.get("bcrypt_rounds", 4), "SESSION_SECURE": False,
                "API_BASE_URL": "http://127.0.0.1"}
    app.config.update({f"AUTHTUNA_{k}": v for k, v in settings.items()})
    auth = AuthTuna(app)
    queries = {"count": 0}

    @app.before_serving
    async def instrument_and_seed() -> None:
        """After the service started: count SQL statements, create the benchmark user."""
        svc = auth.service
        assert svc is not None

        def count(*_: Any) -> None:
            queries["count"] += 1

        event.listen(svc.engine.sync_engine, "before_cursor_execute", count)
        await svc.permissions.get_or_create("projects:read", {"description": "Read a project"})
        if await svc.roles.get_by_name("ProjectReader") is None:
            await svc.roles.create("ProjectReader", "Reads projects", level=10)
            await svc.roles.add_permission_to_role("ProjectReader", "projects:read")
        user = await svc.users.create(f"{config['username']}@example.com", config["username"],
                                      config["password"], email_verified=True)
        await svc.roles.assign_to_user(user.id, "ProjectReader", "system", scope="project:p1")

    @app.get("/bare")
    async def bare() -> str:
        return "ok"

    @app.get("/projects/<project_id>")
    @permission_required("projects:read", scope_from_path="project_id")
    async def project(project_id: str) -> dict[str, Any]:
        return {"id": current_user.id, "username": current_user.username}

    @app.get("/_bench/queries")
    async def query_count() -> dict[str, int]:
        return {"queries": queries["count"]}

    return app


# ---- load generators (run in this process) -------------------------------------------------

WRK_SCRIPT = r"""
-- Replays the session cookie and, like a browser, adopts any new one the server sets.
local path = os.getenv("BENCH_PATH")
local name = os.getenv("BENCH_COOKIE_NAME")
local cookie = os.getenv("BENCH_COOKIE") or ""
local req
local function build()
  if cookie == "" then req = wrk.format("GET", path)
  else req = wrk.format("GET", path, {["Cookie"] = name .. "=" .. cookie}) end
end
-- wrk.headers["Host"] is only set after the script loads: build the request in init.
init = function(args) build() end
request = function() return req end
response = function(status, headers, body)
  for k, v in pairs(headers) do
    if string.lower(k) == "set-cookie" then
      local value = string.match(v, "^" .. name .. "=([^;]*)")
      if value and value ~= "" and value ~= cookie then cookie = value; build() end
    end
  end
end
"""


class Run:
    """One load run's outcome."""

    def __init__(self, requests: int, seconds: float, non_2xx: int, errors: int,
                 cookie: str | None = None) -> None:
        self.requests, self.seconds, self.non_2xx, self.errors = requests, seconds, non_2xx, errors
        self.cookie = cookie

    @property
    def rps(self) -> float:
        return self.requests / self.seconds


def run_wrk(port: int, path: str, cookie: str, seconds: float, script: Path) -> Run:
    """``wrk -t1 -c32 -d<seconds>s`` against one path."""
    env = {**os.environ, "BENCH_PATH": path, "BENCH_COOKIE_NAME": COOKIE, "BENCH_COOKIE": cookie}
    out = subprocess.run(
        ["wrk", "-t1", f"-c{CONNECTIONS}", f"-d{seconds:g}s", "-s", str(script),
         f"http://127.0.0.1:{port}{path}"],
        env=env, capture_output=True, text=True, check=True, timeout=seconds + 30).stdout
    found = re.search(r"(\d+) requests in ([\d.]+)(m?s)", out)
    if not found:
        raise RuntimeError(f"unexpected wrk output:\n{out}")
    elapsed = float(found.group(2)) / (1000 if found.group(3) == "ms" else 1)
    non_2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    errors = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", out)
    return Run(int(found.group(1)), elapsed, int(non_2xx.group(1)) if non_2xx else 0,
               sum(int(n) for n in errors.groups()) if errors else 0)


async def _python_load(port: int, path: str, cookie: str, seconds: float) -> Run:
    """The fallback: CONNECTIONS keep-alive connections, each sending requests back to back."""
    state = {"cookie": cookie, "requests": 0, "non_2xx": 0, "errors": 0}
    deadline = time.perf_counter() + seconds

    async def worker() -> None:
        client = HttpClient(port)
        try:
            while time.perf_counter() < deadline:
                headers = {"Cookie": f"{COOKIE}={state['cookie']}"} if state["cookie"] else {}
                try:
                    status, got, _ = await client.request("GET", path, headers)
                except (OSError, asyncio.IncompleteReadError):
                    state["errors"] += 1
                    await client.close()
                    continue
                state["requests"] += 1
                state["non_2xx"] += not 200 <= status < 400
                new = cookie_from(got, COOKIE)
                if new:
                    state["cookie"] = new
        finally:
            await client.close()

    start = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(CONNECTIONS)))
    return Run(state["requests"], time.perf_counter() - start, state["non_2xx"], state["errors"])


def run_python(port: int, path: str, cookie: str, seconds: float, script: Path) -> Run:
    return asyncio.run(_python_load(port, path, cookie, seconds))


# ---- the benchmark -------------------------------------------------------------------------


async def _get(port: int, path: str, cookie: str = "") -> tuple[int, list[tuple[str, str]],
                                                                bytes]:
    client = HttpClient(port)
    try:
        return await client.request("GET", path, {"Cookie": f"{COOKIE}={cookie}"} if cookie
                                    else {})
    finally:
        await client.close()


def query_count(port: int) -> int:
    status, _, body = asyncio.run(_get(port, "/_bench/queries"))
    assert status == 200, status
    return int(json.loads(body)["queries"])


def refresh_cookie(port: int, cookie: str) -> str:
    """One authenticated request; adopt the cookie the server rotates to, if any."""
    status, headers, body = asyncio.run(_get(port, AUTH_PATH, cookie))
    if status != 200:
        raise RuntimeError(f"{AUTH_PATH} answered {status} with the session cookie: {body[:200]!r}")
    return cookie_from(headers, COOKIE) or cookie


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--seconds", type=float, default=5.0)
    parser.add_argument("--python-client", action="store_true",
                        help="use the asyncio client even if wrk is installed")
    parser.add_argument("--profile", action="store_true",
                        help="profile in process (no server, no load generator) and exit")
    args = parser.parse_args()
    if args.profile:
        profile()
        return
    use_wrk = shutil.which("wrk") is not None and not args.python_client
    runner = run_wrk if use_wrk else run_python
    tool = (f"wrk -t1 -c{CONNECTIONS}" if use_wrk
            else f"python asyncio client, {CONNECTIONS} connections (wrk not found)")

    with tempfile.TemporaryDirectory(prefix="authtuna-bench-") as tmp:
        script = Path(tmp) / "cookie.lua"
        script.write_text(WRK_SCRIPT)
        config = {"db": f"{tmp}/bench.db", "bcrypt_rounds": 4, "username": USERNAME,
                  "password": PASSWORD}
        with serve("benchmarks.bench_rps:create_app", config) as server:
            status, cookie = asyncio.run(login(server.port, USERNAME, PASSWORD))
            if status != 200 or not cookie:
                raise SystemExit(f"login failed: {status}")
            print(f"Hypercorn, 1 worker, 127.0.0.1:{server.port}; load: {tool}; "
                  f"{args.rounds} rounds x {args.seconds:g} s per route (after a warm-up)\n")
            # Warm-up: imports, caches, first session verification.
            cookie = refresh_cookie(server.port, cookie)
            runner(server.port, BARE_PATH, "", 2, script)
            runner(server.port, AUTH_PATH, cookie, 2, script)

            bare_rps: list[float] = []
            auth_rps: list[float] = []
            auth_requests = auth_queries = bare_requests = bare_queries = 0
            header = (f"{'round':>5} {'bare rps':>10} {'auth rps':>10} {'ratio':>6} "
                      f"{'SQL/auth req':>13}")
            print(header)
            print("-" * len(header))
            for n in range(1, args.rounds + 1):
                before = query_count(server.port)
                bare = runner(server.port, BARE_PATH, "", args.seconds, script)
                middle = query_count(server.port)
                cookie = refresh_cookie(server.port, cookie)
                start = query_count(server.port)
                auth = runner(server.port, AUTH_PATH, cookie, args.seconds, script)
                after = query_count(server.port)
                for run, name in ((bare, "bare"), (auth, "auth")):
                    if run.non_2xx or run.errors:
                        raise SystemExit(f"round {n}: {name} run had {run.non_2xx} non-2xx "
                                         f"responses and {run.errors} socket errors; void")
                bare_rps.append(bare.rps)
                auth_rps.append(auth.rps)
                bare_requests += bare.requests
                bare_queries += middle - before
                auth_requests += auth.requests
                auth_queries += after - start
                print(f"{n:>5} {bare.rps:>10,.0f} {auth.rps:>10,.0f} {auth.rps / bare.rps:>6.3f} "
                      f"{(after - start) / auth.requests:>13.5f}")

    med_bare, med_auth = statistics.median(bare_rps), statistics.median(auth_rps)
    best_bare, best_auth = max(bare_rps), max(auth_rps)
    print()
    print(f"bare /bare            : median {med_bare:,.0f} rps, best {best_bare:,.0f} rps")
    print(f"auth /projects/p1     : median {med_auth:,.0f} rps, best {best_auth:,.0f} rps")
    paired = statistics.median(a / b for a, b in zip(auth_rps, bare_rps, strict=True))
    print(f"ratio auth/bare       : {med_auth / med_bare:.3f} (of medians), {paired:.3f} (median "
          f"of per-round ratios), {best_auth / best_bare:.3f} (of bests); target >= 0.85, "
          "goal 0.90")
    print(f"SQL per auth request  : {auth_queries / auth_requests:.5f} "
          f"({auth_queries} statements over {auth_requests:,} requests: periodic session "
          f"re-verification every 10 s)")
    print(f"SQL per bare request  : {bare_queries / max(bare_requests, 1):.5f}")
    ratio = med_auth / med_bare
    print("PASS" if ratio >= 0.85 else "BELOW TARGET: run with --profile to see where time goes")


# ---- --profile: where an authenticated request spends its time, in process -----------------


def profile(requests: int = 3000) -> None:
    """Time both routes through Quart's test client (no HTTP server) and cProfile the auth one.

    Prints microseconds per request for each route (best of 5 batches) and the functions of
    quart_authtuna with the most cumulative time per authenticated request.
    """
    import cProfile
    import pstats

    async def run(tmp: str) -> None:
        app = create_app({"db": f"{tmp}/bench.db", "username": USERNAME, "password": PASSWORD})
        async with app.test_app() as test_app:
            client = test_app.test_client()
            response = await client.post(
                "/auth/login", json={"username_or_email": USERNAME, "password": PASSWORD},
                headers={"Origin": "http://localhost"})
            assert response.status_code == 200, response.status_code

            async def batch(path: str, n: int) -> float:
                start = time.perf_counter()
                for _ in range(n):
                    got = await client.get(path)
                    assert got.status_code == 200, got.status_code
                return (time.perf_counter() - start) / n * 1e6

            await batch(BARE_PATH, 300)
            await batch(AUTH_PATH, 300)
            bare = min([await batch(BARE_PATH, requests // 3) for _ in range(5)])
            auth = min([await batch(AUTH_PATH, requests // 3) for _ in range(5)])
            print(f"in-process (Quart test client, no HTTP server): bare {bare:.0f} us, "
                  f"auth {auth:.0f} us per request; auth adds {auth - bare:.0f} us "
                  f"(rps ratio without server overhead {bare / auth:.3f})\n")
            profiler = cProfile.Profile()
            profiler.enable()
            await batch(AUTH_PATH, requests)
            profiler.disable()
        stats = pstats.Stats(profiler)
        rows = [(ct / requests * 1e6, tt / requests * 1e6, f"{Path(file).name}:{line}({name})")
                for (file, line, name), (_, _, tt, ct, _) in stats.stats.items()  # type: ignore[attr-defined]
                if "quart_authtuna" in file]
        print(f"quart_authtuna functions per authenticated request (under cProfile, which "
              f"inflates small calls), {requests} requests:")
        print(f"{'cum us':>8} {'own us':>8}  function")
        for cum, own, where in sorted(rows, reverse=True)[:20]:
            print(f"{cum:>8.1f} {own:>8.1f}  {where}")

    with tempfile.TemporaryDirectory(prefix="authtuna-bench-") as tmp:
        asyncio.run(run(tmp))


if __name__ == "__main__":
    main()

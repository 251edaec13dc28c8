"""Benchmark: what AuthTuna costs a route, against plain Quart, in requests/s.

Two Hypercorn servers (one worker each, loopback) run side by side; one route is loaded at
a time. Each JSON route answers ``{"id": <32 hex>, "username": "bench"}``:

- **plain**: ``/bare`` in a Quart app without AuthTuna;
- **bare**: the same route in an app with AuthTuna installed, visited without a cookie;
- **plain project**: ``/projects/<project_id>`` in the plain app (a path parameter costs
  Quart's routing a little more than a static path);
- **guarded**: the same route in the AuthTuna app, ``permission_required("projects:read",
  scope_from_path="project_id")``, answering current_user's id and username, visited with the
  session cookie of a user holding projects:read at ``project:p1``;
- **plain page** and **bare page**: ``/page`` answering "ok" as text/html in each app. With
  SECURE_APP_RESPONSES (the default) AuthTuna adds the two framing headers to every HTML
  answer of the app, so these two show what that protection costs.

Every request sends what a browser sends (User-Agent, Accept-Language, Accept) and the
login sends the same User-Agent and Accept-Language, so the session fingerprint matches
under load. Every response must be 200: wrk counts 3xx as success (a redirect to the login
page would look like a fast authenticated request), so a Lua script counts each status and
makes wrk exit non-zero on any other, and the run stops with exit status 1. wrk's socket
errors void the run too.

Settings: SQLite file in a temp dir, BCRYPT_ROUNDS=4, fixed secrets, SESSION_SECURE off,
the default SESSION_DB_VERIFICATION_INTERVAL (10 s) and GC_FREEZE_AFTER_STARTUP (on;
``--no-startup-freeze`` turns it off, ``--gc-freeze`` freezes both apps). The guarded load
adopts any rotated cookie the server sets, as a browser does. SQL statements are counted with a
``before_cursor_execute`` listener, split into those of session verifications and all
others (which must be 0 under load). Server CPU per request is read from /proc.

Load: ``wrk -t1 -c32 -d<S>s`` (the Debian package; ``apt-get install -y wrk``), or a Python
asyncio keep-alive client with the same connection count when wrk is missing. Each round
loads every route once, in an order that rotates from round to round: the machine may be
shared, so only ratios measured in the same round are compared. The summary gives the
median rps of each route and the median of the per-round ratios, against the targets
bare/plain >= 0.95, guarded/plain project >= 0.85 (the same route without AuthTuna) and
guarded/bare >= 0.90; guarded/plain (against the static route) is reported as well.

Run: ``.venv/bin/python benchmarks/bench_rps.py [--rounds N] [--seconds S] [--python-client]``;
``--profile`` instead profiles the AuthTuna routes in process and prints where our code
spends its time.
"""

from __future__ import annotations

import argparse
import asyncio
import contextvars
import json
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks._server import HttpClient, Server, cookie_from, login, serve  # noqa: E402

USERNAME, PASSWORD = "bench", "correct horse battery staple"
COOKIE = "session_token"
AUTH_PATH, BARE_PATH, PAGE_PATH = "/projects/p1", "/bare", "/page"
#: What the unguarded JSON routes answer: the guarded one's shape and size.
BODY = {"id": "0" * 32, "username": "bench"}
CONNECTIONS = 32
#: What a desktop browser sends; User-Agent and Accept-Language feed the session fingerprint.
BROWSER = {
    "User-Agent": ("Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) "
                   "Chrome/126.0.0.0 Safari/537.36"),
    "Accept-Language": "en-GB,en;q=0.9,de;q=0.8",
}
ACCEPT = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"
#: The measured routes: name -> (app, path); only "guarded" sends the session cookie.
ROUTES = {"plain": ("plain", BARE_PATH), "bare": ("authtuna", BARE_PATH),
          "plain project": ("plain", AUTH_PATH), "guarded": ("authtuna", AUTH_PATH),
          "plain page": ("plain", PAGE_PATH), "bare page": ("authtuna", PAGE_PATH)}
#: rps ratios (route over route) and their targets (None: reported, no target).
RATIOS: dict[str, tuple[str, str, float | None]] = {
    "bare/plain": ("bare", "plain", 0.95),
    "guarded/plain project": ("guarded", "plain project", 0.85),
    "guarded/bare": ("guarded", "bare", 0.90),
    "guarded/plain": ("guarded", "plain", None),
    "bare page/plain page": ("bare page", "plain page", None),
}

SECRETS = {
    "PASSWORD_PEPPER": "bench-pepper-" + "p" * 40,
    "JWT_SECRET_KEY": "bench-jwt-secret-" + "j" * 40,
    "ENCRYPTION_PRIMARY_KEY": "bench-encryption-key-" + "e" * 40,
    "FERNET_KEYS": ["Rm9yQmVuY2htYXJrc09ubHlOb3RBUmVhbEtleTAwMDA="],
}


# ---- the apps (run in the server processes) ----------------------------------------------


def _unguarded_routes(app: Any) -> None:
    @app.get(BARE_PATH)
    async def bare() -> dict[str, str]:
        return BODY

    @app.get(PAGE_PATH)
    async def page() -> str:
        return "ok"


def create_plain_app(config: dict[str, Any]) -> Any:
    """Plain Quart: the reference the AuthTuna app is measured against."""
    from quart import Quart

    app = Quart(__name__)
    _unguarded_routes(app)

    @app.get("/projects/<project_id>")
    async def project(project_id: str) -> dict[str, str]:
        return BODY

    return app


def create_app(config: dict[str, Any]) -> Any:
    """The benchmark app; ``config``: db (SQLite path), bcrypt_rounds, username, password."""
    from quart import Quart
    from sqlalchemy import event

    from quart_authtuna import AuthTuna, current_user, permission_required

    app = Quart(__name__)
    settings = {**SECRETS, "DEFAULT_DATABASE_URI": config.get("url")
                or f"sqlite+aiosqlite:///{config['db']}", **config.get("settings", {}),
                "BCRYPT_ROUNDS": config.get("bcrypt_rounds", 4), "SESSION_SECURE": False,
                "API_BASE_URL": "http://127.0.0.1",
                "GC_FREEZE_AFTER_STARTUP": config.get("gc_freeze_after_startup", True)}
    app.config.update({f"AUTHTUNA_{k}": v for k, v in settings.items()})
    auth = AuthTuna(app)
    counts = {"queries": 0, "verification_queries": 0, "verifications": 0}
    verifying: contextvars.ContextVar[bool] = contextvars.ContextVar("verifying", default=False)

    @app.before_serving
    async def instrument_and_seed() -> None:
        """After the service started: count SQL statements, create the benchmark user."""
        svc = auth.service
        assert svc is not None

        def count(*_: Any) -> None:
            counts["queries"] += 1
            counts["verification_queries"] += verifying.get()

        event.listen(svc.engine.sync_engine, "before_cursor_execute", count)
        validator = svc.session_validator
        verify: Callable[..., Any] = validator._verify

        async def counted_verify(*args: Any) -> Any:
            counts["verifications"] += 1
            verifying.set(True)  # this task's context only
            return await verify(*args)

        validator._verify = counted_verify  # type: ignore[method-assign]
        await svc.permissions.get_or_create("projects:read", {"description": "Read a project"})
        if await svc.roles.get_by_name("ProjectReader") is None:
            await svc.roles.create("ProjectReader", "Reads projects", level=10)
            await svc.roles.add_permission_to_role("ProjectReader", "projects:read")
        if await svc.users.get_by_username(config["username"]) is not None:
            return  # another server of this benchmark seeded the database
        user = await svc.users.create(f"{config['username']}@example.com", config["username"],
                                      config["password"], email_verified=True)
        await svc.roles.assign_to_user(user.id, "ProjectReader", "system", scope="project:p1")

    _unguarded_routes(app)

    @app.get("/projects/<project_id>")
    @permission_required("projects:read", scope_from_path="project_id")
    async def project(project_id: str) -> dict[str, Any]:
        return {"id": current_user.id, "username": current_user.username}

    @app.get("/_bench/queries")
    async def query_count() -> dict[str, int]:
        return dict(counts)

    return app


# ---- load generators (run in this process) -------------------------------------------------

#: Counts every status (wrk counts 3xx as success; we count only 200): ``count(status,
#: headers)`` per response, then the totals and the p99 in one BENCH-STATUS line, and wrk
#: exits 3 on any other status. Shared by the load scripts of the benchmarks.
LUA_STATUS = r"""
ok, bad, first_bad = 0, 0, ""
local threads = {}
setup = function(thread) table.insert(threads, thread) end
local function count(status, headers)
  if status == 200 then ok = ok + 1 return end
  bad = bad + 1
  if first_bad == "" then
    first_bad = tostring(status)
    for k, v in pairs(headers) do
      if string.lower(k) == "location" then first_bad = first_bad .. " -> " .. v end
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
  io.write(string.format("BENCH-STATUS ok=%d bad=%d p99=%.1f first=%s\n", total_ok, total_bad,
    latency:percentile(99) / 1000, first))
  io.stdout:flush()
  if total_bad > 0 then os.exit(3) end
end
"""
#: The regular expression of that line: ok, bad, p99 (ms), first bad status.
STATUS_LINE = r"BENCH-STATUS ok=(\d+) bad=(\d+) p99=([\d.]+) first=(.*)"

WRK_SCRIPT = LUA_STATUS + r"""
-- Sends what a browser sends and the session cookie (if any), adopting any new one the
-- server sets.
local path = os.getenv("BENCH_PATH")
local name = os.getenv("BENCH_COOKIE_NAME")
local cookie = os.getenv("BENCH_COOKIE") or ""
local browser = {["User-Agent"] = os.getenv("BENCH_USER_AGENT"),
                 ["Accept-Language"] = os.getenv("BENCH_ACCEPT_LANGUAGE"),
                 ["Accept"] = os.getenv("BENCH_ACCEPT")}
local req
local function build()
  local headers = {}
  for k, v in pairs(browser) do headers[k] = v end
  if cookie ~= "" then headers["Cookie"] = name .. "=" .. cookie end
  req = wrk.format("GET", path, headers)
end
-- wrk.headers["Host"] is only set after the script loads: build the request in init.
init = function(args) build() end
request = function() return req end
response = function(status, headers, body)
  count(status, headers)
  if cookie == "" then return end
  for k, v in pairs(headers) do
    if string.lower(k) == "set-cookie" then
      local value = string.match(v, "^" .. name .. "=([^;]*)")
      if value and value ~= "" and value ~= cookie then cookie = value; build() end
    end
  end
end
"""


class Run:
    """One load run's outcome: ``ok`` responses were 200, ``bad`` anything else."""

    def __init__(self, requests: int, seconds: float, ok: int, bad: int, errors: int,
                 first_bad: str = "") -> None:
        self.requests, self.seconds, self.ok, self.bad = requests, seconds, ok, bad
        self.errors, self.first_bad = errors, first_bad

    @property
    def rps(self) -> float:
        return self.requests / self.seconds

    def problem(self) -> str | None:
        """Why this run does not count, or None."""
        if self.bad or self.errors:
            return (f"{self.bad} responses other than 200 (first: {self.first_bad or '-'}), "
                    f"{self.errors} socket errors")
        if self.ok != self.requests:
            return f"{self.ok} responses checked as 200 but {self.requests} requests counted"
        return None


def run_wrk(port: int, path: str, cookie: str, seconds: float, script: Path) -> Run:
    """``wrk -t1 -c32 -d<seconds>s`` against one path, with the status-checking script."""
    env = {**os.environ, "BENCH_PATH": path, "BENCH_COOKIE_NAME": COOKIE, "BENCH_COOKIE": cookie,
           "BENCH_USER_AGENT": BROWSER["User-Agent"],
           "BENCH_ACCEPT_LANGUAGE": BROWSER["Accept-Language"], "BENCH_ACCEPT": ACCEPT}
    done = subprocess.run(
        ["wrk", "-t1", f"-c{CONNECTIONS}", f"-d{seconds:g}s", "-s", str(script),
         f"http://127.0.0.1:{port}{path}"],
        env=env, capture_output=True, text=True, timeout=seconds + 30)
    out = done.stdout
    found = re.search(r"(\d+) requests in ([\d.]+)(m?s)", out)
    status = re.search(STATUS_LINE, out)
    if not found or not status or done.returncode not in (0, 3):
        raise RuntimeError(f"wrk failed ({done.returncode}):\n{out}\n{done.stderr}")
    elapsed = float(found.group(2)) / (1000 if found.group(3) == "ms" else 1)
    errors = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)",
                       out)
    non_2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    bad = max(int(status.group(2)), int(non_2xx.group(1)) if non_2xx else 0)
    if done.returncode == 3:
        bad = max(bad, 1)
    return Run(int(found.group(1)), elapsed, int(status.group(1)), bad,
               sum(int(n) for n in errors.groups()) if errors else 0, status.group(4).strip())


async def _python_load(port: int, path: str, cookie: str, seconds: float) -> Run:
    """The fallback: CONNECTIONS keep-alive connections, each sending requests back to back."""
    state: dict[str, Any] = {"cookie": cookie, "requests": 0, "ok": 0, "bad": 0, "errors": 0,
                             "first_bad": ""}
    deadline = time.perf_counter() + seconds

    async def worker() -> None:
        client = HttpClient(port)
        try:
            while time.perf_counter() < deadline:
                headers = browser_headers(state["cookie"])
                try:
                    status, got, _ = await client.request("GET", path, headers)
                except (OSError, asyncio.IncompleteReadError):
                    state["errors"] += 1
                    await client.close()
                    continue
                state["requests"] += 1
                if status == 200:
                    state["ok"] += 1
                else:
                    state["bad"] += 1
                    state["first_bad"] = state["first_bad"] or str(status)
                new = cookie_from(got, COOKIE)
                if new and state["cookie"]:
                    state["cookie"] = new
        finally:
            await client.close()

    start = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(CONNECTIONS)))
    return Run(state["requests"], time.perf_counter() - start, state["ok"], state["bad"],
               state["errors"], state["first_bad"])


def run_python(port: int, path: str, cookie: str, seconds: float, script: Path) -> Run:
    return asyncio.run(_python_load(port, path, cookie, seconds))


# ---- the benchmark -------------------------------------------------------------------------


def browser_headers(cookie: str = "") -> dict[str, str]:
    headers = {**BROWSER, "Accept": ACCEPT}
    if cookie:
        headers["Cookie"] = f"{COOKIE}={cookie}"
    return headers


async def _get(port: int, path: str, cookie: str = "") -> tuple[int, list[tuple[str, str]],
                                                                bytes]:
    client = HttpClient(port)
    try:
        return await client.request("GET", path, browser_headers(cookie))
    finally:
        await client.close()


def counters(port: int) -> dict[str, int]:
    status, _, body = asyncio.run(_get(port, "/_bench/queries"))
    assert status == 200, status
    return {k: int(v) for k, v in json.loads(body).items()}


def refresh_cookie(port: int, cookie: str) -> str:
    """One authenticated request; adopt the cookie the server rotates to, if any."""
    status, headers, body = asyncio.run(_get(port, AUTH_PATH, cookie))
    if status != 200:
        raise SystemExit(f"{AUTH_PATH} answered {status} with the session cookie: {body[:200]!r}")
    return cookie_from(headers, COOKIE) or cookie


def server_cpu(pid: int) -> float | None:
    """CPU seconds (user + system) the process has used so far; None without /proc."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()
    except OSError:
        return None
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


class Totals:
    """What the rounds measured: rps and server CPU per route, ratios, SQL."""

    def __init__(self) -> None:
        self.rps: dict[str, list[float]] = {name: [] for name in ROUTES}
        self.cpu: dict[str, list[float]] = {name: [] for name in ROUTES}
        self.ratios: dict[str, list[float]] = {key: [] for key in RATIOS}
        #: The same ratios from server CPU per request (bottom's over top's): what rps would
        #: show if each worker had a core to itself.
        self.cpu_ratios: dict[str, list[float]] = {key: [] for key in RATIOS}
        self.guarded_requests = self.other_sql = self.verification_sql = 0
        self.verifications = self.unguarded_sql = 0


class Bench:
    """The two servers, the load generator and the session cookie."""

    def __init__(self, servers: dict[str, Server], runner: Any, script: Path, cookie: str,
                 seconds: float) -> None:
        self.servers, self.runner, self.script = servers, runner, script
        self.cookie, self.seconds = cookie, seconds

    def load(self, name: str, seconds: float) -> tuple[Run, float | None, dict[str, int]]:
        """Load one route: its run, server CPU us per request, and SQL counter deltas."""
        app, path = ROUTES[name]
        server, port = self.servers[app], self.servers["authtuna"].port
        before, cpu_before = counters(port), server_cpu(server.process.pid)
        run = self.runner(server.port, path, self.cookie if name == "guarded" else "", seconds,
                          self.script)
        cpu_after, after = server_cpu(server.process.pid), counters(port)
        problem = run.problem()
        if problem:
            raise SystemExit(f"{name} {path}: {problem}; void")
        cpu = (None if cpu_before is None or cpu_after is None
               else (cpu_after - cpu_before) / run.requests * 1e6)
        return run, cpu, {k: after[k] - before[k] for k in after}

    def round(self, n: int, totals: Totals) -> None:
        """Load each route once (the order rotates with ``n``); record and print the round."""
        self.cookie = refresh_cookie(self.servers["authtuna"].port, self.cookie)
        names = list(ROUTES)
        runs: dict[str, Run] = {}
        cpu: dict[str, float | None] = {}
        sql: dict[str, dict[str, int]] = {}
        for name in names[n % len(names):] + names[:n % len(names)]:
            runs[name], cpu[name], sql[name] = self.load(name, self.seconds)
            totals.rps[name].append(runs[name].rps)
        for key, (top, bottom, _) in RATIOS.items():
            totals.ratios[key].append(runs[top].rps / runs[bottom].rps)
            top_cpu, bottom_cpu = cpu[top], cpu[bottom]
            if top_cpu and bottom_cpu:
                totals.cpu_ratios[key].append(bottom_cpu / top_cpu)
        for name, value in cpu.items():
            if value is not None:
                totals.cpu[name].append(value)
        g = sql["guarded"]
        totals.guarded_requests += runs["guarded"].requests
        totals.verification_sql += g["verification_queries"]
        totals.verifications += g["verifications"]
        totals.other_sql += g["queries"] - g["verification_queries"]
        totals.unguarded_sql += sum(sql[name]["queries"] for name in ROUTES if name != "guarded")
        rps = " ".join(f"{runs[name].rps:>13,.0f}" for name in ROUTES)
        ratios = " ".join(f"{totals.ratios[key][-1]:>{len(key)}.3f}" for key in RATIOS)
        print(f"{n + 1:>5} {rps}  {ratios}  {g['verification_queries']:>5} "
              f"{g['queries'] - g['verification_queries']:>5}")


def header() -> None:
    """Columns: rps per route, the round's ratios, SQL statements under the guarded load
    (in session verifications, and others)."""
    routes = " ".join(f"{name:>13}" for name in ROUTES)
    line = f"{'round':>5} {routes}  {' '.join(RATIOS)}  {'SQL: verif':>5} {'other':>5}"
    print(line)
    print("-" * len(line))


def report(totals: Totals) -> bool:
    """Print the summary; True when every target is met and no SQL ran outside verifications."""
    print()
    for name in ROUTES:
        cpu = (f", server CPU {statistics.median(totals.cpu[name]):.0f} us/request"
               if totals.cpu[name] else "")
        print(f"{name:<13} median {statistics.median(totals.rps[name]):>7,.0f} rps, best "
              f"{max(totals.rps[name]):>7,.0f} rps{cpu}")
    passed = True
    for key, (_, _, target) in RATIOS.items():
        values = totals.ratios[key]
        median = statistics.median(values)
        verdict = "" if target is None else f"; target >= {target:.2f}"
        passed &= target is None or median >= target
        by_cpu = totals.cpu_ratios[key]
        cpu = f"; by server CPU {statistics.median(by_cpu):.3f}" if by_cpu else ""
        print(f"{key:<22}: median of per-round ratios {median:.3f} (range "
              f"{min(values):.3f}-{max(values):.3f}{verdict}){cpu}")
    print(f"SQL under guarded load: {totals.verification_sql} statements in "
          f"{totals.verifications} session verifications (every 10 s), {totals.other_sql} "
          f"others over {totals.guarded_requests:,} requests; {totals.unguarded_sql} under the "
          "other routes")
    print("every response was 200")
    return passed and totals.other_sql == 0 and totals.unguarded_sql == 0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--seconds", type=float, default=5.0)
    parser.add_argument("--python-client", action="store_true",
                        help="use the asyncio client even if wrk is installed")
    parser.add_argument("--gc-freeze", action="store_true",
                        help="both servers call gc.freeze() once started (see the README)")
    parser.add_argument("--no-startup-freeze", action="store_true",
                        help="AUTHTUNA_GC_FREEZE_AFTER_STARTUP=false in the AuthTuna app")
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
    totals = Totals()
    with tempfile.TemporaryDirectory(prefix="authtuna-bench-") as tmp:
        script = Path(tmp) / "bench.lua"
        script.write_text(WRK_SCRIPT)
        config = {"db": f"{tmp}/bench.db", "bcrypt_rounds": 4, "username": USERNAME,
                  "password": PASSWORD, "gc_freeze_after_startup": not args.no_startup_freeze}
        freeze = args.gc_freeze
        with serve("benchmarks.bench_rps:create_plain_app", gc_freeze=freeze) as plain, \
                serve("benchmarks.bench_rps:create_app", config, gc_freeze=freeze) as server:
            status, cookie = asyncio.run(login(server.port, USERNAME, PASSWORD, BROWSER))
            if status != 200 or not cookie:
                raise SystemExit(f"login failed: {status}")
            bench = Bench({"plain": plain, "authtuna": server}, runner, script, cookie,
                          args.seconds)
            frozen = ("; both call gc.freeze() after start-up" if args.gc_freeze
                      else "; AuthTuna's GC_FREEZE_AFTER_STARTUP off" if args.no_startup_freeze
                      else "")
            print(f"Hypercorn, 1 worker per app, 127.0.0.1{frozen}; load: {tool}; {args.rounds} "
                  f"rounds x {args.seconds:g} s per route, order rotating (after a warm-up)\n")
            bench.cookie = refresh_cookie(server.port, cookie)
            for name in ROUTES:  # warm-up: imports, caches, first session verification
                bench.load(name, 2)
            header()
            for n in range(args.rounds):
                bench.round(n, totals)
    print("PASS" if report(totals) else "BELOW TARGET: run with --profile to see where time goes")


# ---- --profile: where an authenticated request spends its time, in process -----------------


def profile(requests: int = 3000) -> None:
    """Time the JSON routes through Quart's test client (no HTTP server) and cProfile the
    two AuthTuna ones, with the browser headers of the load.

    Prints microseconds per request for each route (best of 5 batches) and, per AuthTuna
    route, the functions of quart_authtuna with the most cumulative time per request.
    """
    import cProfile
    import pstats

    async def run(tmp: str) -> None:
        plain_app = create_plain_app({})
        app = create_app({"db": f"{tmp}/bench.db", "username": USERNAME, "password": PASSWORD})
        async with app.test_app() as test_app, plain_app.test_app() as plain_test_app:
            client = test_app.test_client()
            plain_client = plain_test_app.test_client()
            response = await client.post(
                "/auth/login", json={"username_or_email": USERNAME, "password": PASSWORD},
                headers={"Origin": "http://localhost", **BROWSER})
            assert response.status_code == 200, response.status_code
            headers = browser_headers()

            async def batch(on: Any, path: str, n: int) -> float:
                start = time.perf_counter()
                for _ in range(n):
                    got = await on.get(path, headers=headers)
                    assert got.status_code == 200, got.status_code
                return (time.perf_counter() - start) / n * 1e6

            routes = {"plain": (plain_client, BARE_PATH),
                      "bare": (test_app.test_client(), BARE_PATH),  # no cookie
                      "plain project": (plain_client, AUTH_PATH),
                      "guarded": (client, AUTH_PATH)}
            for on, path in routes.values():
                await batch(on, path, 300)
            took = {name: min([await batch(on, path, requests // 3) for _ in range(5)])
                    for name, (on, path) in routes.items()}
            print("in-process (Quart test client, no HTTP server), us per request: "
                  + ", ".join(f"{name} {us:.0f}" for name, us in took.items()) + "\n")
            for name in ("bare", "guarded"):
                on, path = routes[name]
                profiler = cProfile.Profile()
                profiler.enable()
                await batch(on, path, requests)
                profiler.disable()
                _print_profile(pstats.Stats(profiler), name, requests)

    with tempfile.TemporaryDirectory(prefix="authtuna-bench-") as tmp:
        asyncio.run(run(tmp))


def _print_profile(stats: Any, name: str, requests: int) -> None:
    rows = [(ct / requests * 1e6, tt / requests * 1e6, f"{Path(file).name}:{line}({func})")
            for (file, line, func), (_, _, tt, ct, _) in stats.stats.items()
            if "quart_authtuna" in file]
    print(f"{name}: quart_authtuna functions per request (cProfile inflates small calls), "
          f"{requests} requests:")
    print(f"{'cum us':>8} {'own us':>8}  function")
    for cum, own, where in sorted(rows, reverse=True)[:20]:
        print(f"{cum:>8.1f} {own:>8.1f}  {where}")
    print()


if __name__ == "__main__":
    main()

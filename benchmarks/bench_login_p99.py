"""Benchmark: p99 latency of a bare route, idle vs while 20 password logins run at once.

Password hashing must never block the event loop: bcrypt runs in worker threads, so a burst
of logins may cost CPU but should not stall unrelated requests. One Hypercorn server (one
worker, loopback) serves the benchmark app of ``bench_rps.py`` with the REAL bcrypt cost
(BCRYPT_ROUNDS=12) and a user whose hash has that cost (so no rehash at login).

Each round measures ``/bare`` twice with the same probe, PROBE_CONNECTIONS keep-alive
connections each sending requests one after another with a short pause (REQUESTS in all):

1. idle: nothing else runs;
2. under logins: 20 clients each POST /auth/login (JSON, correct password, Origin header)
   in a loop, so 20 logins are always in flight, from before the probe starts until after
   it ends. Every login must answer 200.

It prints p50/p99 of each phase per round, the pooled p99s over all rounds, and the ratio
loaded/idle of the pooled p99s (target <= 2x; the median of the per-round ratios is printed
too, as the rounds are paired against drift on a shared machine), with the number of logins
completed. bcrypt runs in quart_authtuna's own pool of CPUs-1 threads (at least one), so the
logins queue for CPU instead of taking every core from the event loop.

Run: ``.venv/bin/python benchmarks/bench_login_p99.py [--rounds N] [--requests N]``
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks._server import HttpClient, login, serve  # noqa: E402
from benchmarks.bench_rps import PASSWORD, USERNAME  # noqa: E402

CONCURRENT_LOGINS = 20
PROBE_CONNECTIONS = 4
PAUSE = 0.005  # seconds between two requests of one probe connection


def percentile(values: list[float], q: float) -> float:
    """The q-th percentile (nearest rank) of ``values``."""
    ordered = sorted(values)
    rank = max(1, round(q / 100 * len(ordered) + 0.5 - 1e-9))
    return ordered[min(rank, len(ordered)) - 1]


async def probe(port: int, requests: int) -> list[float]:
    """Latencies (ms) of ``requests`` GET /bare over PROBE_CONNECTIONS connections."""
    latencies: list[float] = []
    per_connection = requests // PROBE_CONNECTIONS

    async def worker() -> None:
        client = HttpClient(port)
        try:
            await client.request("GET", "/bare")  # connect outside the measurement
            for _ in range(per_connection):
                start = time.perf_counter()
                status, _, _ = await client.request("GET", "/bare")
                latencies.append((time.perf_counter() - start) * 1000)
                assert status == 200, status
                await asyncio.sleep(PAUSE)
        finally:
            await client.close()

    await asyncio.gather(*(worker() for _ in range(PROBE_CONNECTIONS)))
    return latencies


class LoginLoad:
    """CONCURRENT_LOGINS clients logging in again and again, in a thread with its own loop."""

    def __init__(self, port: int) -> None:
        self.port = port
        self.completed = 0
        self.failures: list[int] = []
        self.in_flight = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=lambda: asyncio.run(self._run()), daemon=True)

    async def _client(self) -> None:
        while not self._stop.is_set():
            self.in_flight += 1
            status, cookie = await login(self.port, USERNAME, PASSWORD)
            self.in_flight -= 1
            if status == 200 and cookie:
                self.completed += 1
            else:
                self.failures.append(status)

    async def _run(self) -> None:
        await asyncio.gather(*(self._client() for _ in range(CONCURRENT_LOGINS)))

    def __enter__(self) -> LoginLoad:
        self._thread.start()
        deadline = time.monotonic() + 10
        while self.in_flight < CONCURRENT_LOGINS and time.monotonic() < deadline:
            time.sleep(0.01)
        time.sleep(0.5)  # let the first hashes start in the worker threads
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join(60)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--requests", type=int, default=400)
    args = parser.parse_args()

    idle_all: list[float] = []
    loaded_all: list[float] = []
    ratios: list[float] = []
    logins = 0
    with tempfile.TemporaryDirectory(prefix="authtuna-bench-") as tmp:
        config = {"db": f"{tmp}/bench.db", "bcrypt_rounds": 12, "username": USERNAME,
                  "password": PASSWORD}
        with serve("benchmarks.bench_rps:create_app", config) as server:
            port = server.port
            start = time.perf_counter()
            status, _ = asyncio.run(login(port, USERNAME, PASSWORD))
            one_login = (time.perf_counter() - start) * 1000
            if status != 200:
                raise SystemExit(f"login failed: {status}")
            asyncio.run(probe(port, 100))  # warm-up
            print(f"Hypercorn, 1 worker, 127.0.0.1:{port}; BCRYPT_ROUNDS=12 (one login alone: "
                  f"{one_login:.0f} ms); probe: {args.requests} GET /bare over "
                  f"{PROBE_CONNECTIONS} connections, {PAUSE * 1000:g} ms pause; load: "
                  f"{CONCURRENT_LOGINS} concurrent logins\n")
            header = (f"{'round':>5} {'idle p50':>9} {'idle p99':>9} {'login p50':>10} "
                      f"{'login p99':>10} {'ratio p99':>10} {'logins':>7}")
            print(header)
            print("-" * len(header))
            for n in range(1, args.rounds + 1):
                idle = asyncio.run(probe(port, args.requests))
                with LoginLoad(port) as load:
                    loaded = asyncio.run(probe(port, args.requests))
                if load.failures:
                    raise SystemExit(f"round {n}: {len(load.failures)} logins failed "
                                     f"(statuses {sorted(set(load.failures))}); void")
                logins += load.completed
                ratios.append(percentile(loaded, 99) / percentile(idle, 99))
                idle_all += idle
                loaded_all += loaded
                print(f"{n:>5} {percentile(idle, 50):>9.2f} {percentile(idle, 99):>9.2f} "
                      f"{percentile(loaded, 50):>10.2f} {percentile(loaded, 99):>10.2f} "
                      f"{percentile(loaded, 99) / percentile(idle, 99):>10.2f} "
                      f"{load.completed:>7}")

    idle_p99, loaded_p99 = percentile(idle_all, 99), percentile(loaded_all, 99)
    print()
    print(f"/bare p99 idle            : {idle_p99:.2f} ms (p50 {statistics.median(idle_all):.2f} "
          f"ms, {len(idle_all)} requests)")
    print(f"/bare p99 under 20 logins : {loaded_p99:.2f} ms (p50 "
          f"{statistics.median(loaded_all):.2f} ms, {len(loaded_all)} requests, {logins} logins "
          "completed meanwhile)")
    ratio = loaded_p99 / idle_p99
    print(f"ratio p99 loaded/idle     : {ratio:.2f}x pooled, {statistics.median(ratios):.2f}x "
          "median of per-round ratios (target <= 2x)")
    print("PASS" if ratio <= 2 else "ABOVE TARGET")


if __name__ == "__main__":
    main()

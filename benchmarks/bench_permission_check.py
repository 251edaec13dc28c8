"""Benchmark: permission checks on resolved Grants are flat in the number of roles held.

A user's roles are resolved once (``Grants.from_rows``) into frozensets of (permission,
scope) and (role, scope) pairs, so ``has_permission`` costs one set lookup per ancestor
of the target scope: O(scope depth), independent of how many roles the user holds. This
script builds Grants for users holding 10, 100, 1,000 and 10,000 roles (3 permissions
each, held at random scopes of depth 1-3) and times 100,000 ``has_permission`` checks
(best of 5 runs, loop overhead included). Every size uses the same 1,000 depth-3 target
scopes, so the ancestor cache is equally warm, and permissions the user holds, mostly
denied there, so most checks walk all four ancestors: the worst case. It prints ns per
check and the ratio to the 10-role case, which should stay near 1.0 (residual growth is
CPU-cache pressure from larger sets, not more work). It also times ``from_rows``, the one
step that is linear in the number of rows, for each size.
"""

from __future__ import annotations

import random
import sys
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from quart_authtuna.core.rbac.grants import Grants  # noqa: E402

SIZES = (10, 100, 1_000, 10_000)
CHECKS = 100_000
RUNS = 5
POOL = 1_000
PERMS_PER_ROLE = 3
KINDS = ("org", "project", "team")

Row = tuple[str, str, int | None, str | None]


def random_scope(rng: random.Random, depth: int) -> str:
    """A scope like ``org:3/project:17/team:5`` of the given depth."""
    return "/".join(f"{KINDS[i]}:{rng.randrange(20)}" for i in range(depth))


def build_rows(n_roles: int, rng: random.Random) -> list[Row]:
    """Rows for a user holding ``n_roles`` roles, each with 3 permissions, at random scopes."""
    rows: list[Row] = []
    for i in range(n_roles):
        scope = random_scope(rng, rng.randint(1, 3))
        level = rng.choice((None, rng.randrange(100)))
        rows.extend((f"role{i}", scope, level, f"res{i}:act{j}") for j in range(PERMS_PER_ROLE))
    return rows


def best_of(fn: Callable[[], object], runs: int = RUNS) -> float:
    """Best wall time in seconds of ``runs`` calls to ``fn``."""
    best = float("inf")
    for _ in range(runs):
        start = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - start)
    return best


def probes(rows: list[Row], rng: random.Random) -> list[tuple[str, str]]:
    """``CHECKS`` (held permission, depth-3 scope) pairs; scopes from a pool shared by sizes."""
    pool_rng = random.Random(0)
    pool = [random_scope(pool_rng, 3) for _ in range(POOL)]
    perms = [perm or "" for _, _, _, perm in rows]
    return [(rng.choice(perms), pool[i % POOL]) for i in range(CHECKS)]


def time_checks(grants: Grants, pairs: list[tuple[str, str]]) -> tuple[float, int]:
    """Best-of-``RUNS`` seconds for all checks, and how many were allowed."""
    check = grants.has_permission
    allowed = sum(check(p, s) for p, s in pairs)

    def run() -> None:
        for p, s in pairs:
            check(p, s)

    return best_of(run), allowed


def main() -> None:
    """Run every size and print the table."""
    print(f"{CHECKS:,} has_permission checks at depth-3 scopes, best of {RUNS} runs\n")
    header = (f"{'roles':>7} {'rows':>7} {'from_rows ms':>13} {'ns/check':>9} {'vs 10':>6} "
              f"{'allowed':>8}")
    print(header)
    print("-" * len(header))
    base: float | None = None
    for n in SIZES:
        rng = random.Random(n)
        rows = build_rows(n, rng)
        build_s = best_of(lambda rows=rows: Grants.from_rows(rows))
        grants = Grants.from_rows(rows)
        seconds, allowed = time_checks(grants, probes(rows, rng))
        ns = seconds / CHECKS * 1e9
        base = base or ns
        print(f"{n:>7,} {len(rows):>7,} {build_s * 1e3:>13.2f} {ns:>9.1f} "
              f"{ns / base:>6.2f} {allowed:>8,}")


if __name__ == "__main__":
    main()

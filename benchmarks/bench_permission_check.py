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

``--orgs`` adds the organizations case: a user in 1,000 organizations (OrgMember at
``org:<o>``) and 10 teams in each (TeamMember, or TeamLead in one, at
``org:<o>/team:<t>``), with the default roles' permissions: 11,000 role rows. It times
``has_permission`` at team scopes against a 10-role user at the same scopes (target: within
2x), then stores those rows in a real database (SQLite in a temporary directory, or
``--url postgresql+asyncpg://...``), loads the grants the way session verification does
and counts the statements sent (target: one) and the time it takes.
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


def org_rows(n_orgs: int = 1_000, teams: int = 10) -> list[Row]:
    """OrgMember in each organization, TeamMember in each team (TeamLead in the first)."""
    from quart_authtuna.core.defaults import ROLE_PERMISSIONS

    def held(role: str, scope: str) -> list[Row]:
        perms = ROLE_PERMISSIONS.get(role) or (None,)
        return [(role, scope, None, perm) for perm in perms]

    rows: list[Row] = []
    for o in range(n_orgs):
        rows += held("OrgMember", f"org:o{o}")
        for t in range(teams):
            rows += held("TeamLead" if t == 0 else "TeamMember", f"org:o{o}/team:t{t}")
    return rows


def org_checks(rounds: int = 9) -> tuple[float, float, float]:
    """ns per check at team scopes for a 10-role user and the 1,000 x 10 user, and the
    median of the per-round ratios: each round times both back to back, so load from other
    jobs on a shared machine hits both sides of a ratio alike."""
    import statistics

    rng = random.Random(11)
    targets = [f"org:o{rng.randrange(1_000)}/team:t{rng.randrange(10)}" for _ in range(POOL)]
    names = ("team:manage", "team:invite_member", "org:create", "team:delete")
    pairs = [(names[i % len(names)], targets[i % POOL]) for i in range(CHECKS)]
    small = Grants.from_rows([("TeamLead", f"org:o{i}/team:t0", None, "team:manage")
                              for i in range(10)])
    big = Grants.from_rows(org_rows())
    times: list[tuple[float, float]] = []
    for _ in range(rounds):
        times.append((time_checks(small, pairs)[0], time_checks(big, pairs)[0]))
    ns = [statistics.median(t[i] for t in times) / CHECKS * 1e9 for i in (0, 1)]
    return ns[0], ns[1], statistics.median(b / a for a, b in times)


async def org_loading(url: str | None) -> tuple[int, int, float]:
    """Store the 1,000 x 10 user's roles, then load its grants as verification does:
    (rows loaded, data statements, best-of-5 ms)."""
    import tempfile

    from cryptography.fernet import Fernet
    from sqlalchemy import event, insert, select

    from quart_authtuna.core import AuthService, Settings
    from quart_authtuna.core.db.models import Organization, Role, Team, UserRole
    from quart_authtuna.core.rbac.checker import load_grants

    folder = tempfile.mkdtemp()
    db = {"DEFAULT_DATABASE_URI": url or f"sqlite+aiosqlite:///{folder}/bench.db"}
    if url:
        db["DATABASE_SCHEMA"] = f"bench_orgs_{random.randrange(1 << 30)}"
        db["AUTO_CREATE_DATABASE"] = True  # a throwaway schema
    settings = Settings.from_sources(overrides={**db, "BCRYPT_ROUNDS": 4,
                                                "PASSWORD_PEPPER": "p" * 48,
                                                "JWT_SECRET_KEY": "j" * 48,
                                                "ENCRYPTION_PRIMARY_KEY": "e" * 48,
                                                "FERNET_KEYS": [Fernet.generate_key().decode()]})
    async with AuthService(settings) as svc:
        user = await svc.users.create("member@example.com", "member",
                                      "correct horse battery staple")
        async with svc.transaction() as tx:
            ids = {r.name: r.id for r in (await tx.scalars(select(Role))).all()}
            orgs = [{"id": f"o{o}", "name": f"Org {o}", "created_at": 0.0} for o in range(1_000)]
            await tx.execute(insert(Organization), orgs)
            await tx.execute(insert(Team), [
                {"id": f"t{o}-{t}", "name": f"T{t}", "organization_id": f"o{o}",
                 "created_at": 0.0} for o in range(1_000) for t in range(10)])
            seen = {(role, scope) for role, scope, _, _ in org_rows()}
            await tx.execute(insert(UserRole), [
                {"user_id": user.id, "role_id": ids[role], "scope": scope,
                 "given_by_id": "system", "given_at": 0.0} for role, scope in sorted(seen)])
        statements: list[str] = []

        def record(*args: object) -> None:
            statements.append(str(args[2]))

        best, rows = float("inf"), 0
        for _ in range(RUNS):
            statements.clear()
            event.listen(svc.engine.sync_engine, "before_cursor_execute", record)
            start = time.perf_counter()
            async with svc.transaction() as tx:
                grants = await load_grants(tx, user.id)
            best = min(best, time.perf_counter() - start)
            event.remove(svc.engine.sync_engine, "before_cursor_execute", record)
            rows = len(grants.roles)
        if url:
            from sqlalchemy import text

            async with svc.engine.begin() as conn:
                await conn.execute(text(f'DROP SCHEMA "{db["DATABASE_SCHEMA"]}" CASCADE'))
    data = [s for s in statements if not s.lstrip().upper().startswith(("BEGIN", "COMMIT",
                                                                         "ROLLBACK"))]
    return rows, len(data), best * 1e3


def main_orgs(url: str | None) -> None:
    import asyncio

    small, big, ratio = org_checks()
    print(f"\nOrganizations: {CHECKS:,} checks at org:<o>/team:<t> scopes, 9 paired rounds "
          f"(best of {RUNS} each)")
    print(f"  10 roles:                  {small:7.1f} ns/check (median)")
    print(f"  1,000 orgs x 10 teams:     {big:7.1f} ns/check (median)")
    print(f"  median per-round ratio:    {ratio:7.2f}x  (target <= 2x)")
    roles, statements, ms = asyncio.run(org_loading(url))
    print(f"  loading {roles:,} (role, scope) grants: {statements} statement(s), {ms:.1f} ms "
          f"({'PostgreSQL' if url else 'SQLite'}, target: one statement)")


if __name__ == "__main__":
    main()
    if "--orgs" in sys.argv:
        main_orgs(sys.argv[sys.argv.index("--url") + 1] if "--url" in sys.argv else None)

"""Benchmark: the admin pages cost the same at page 1 and page 1,000 on a large database.

On PostgreSQL (``--url``, default ``$AUTHTUNA_TEST_DATABASE_URL``), in a schema of its own
that is dropped afterwards, the script seeds 100,000 users (each holding ``User`` at
``global``) and 1,000,000 audit events with a few bulk ``INSERT ... SELECT generate_series``
statements (three events share each timestamp, so the ``id`` tie-break is exercised), then
ANALYZEs. An Admin signs in through the real login route, and the real app (Quart test
client inside ``app.test_app()``: every hook, guard, query and template, no network) answers
the user search page (``/admin/users``, HTML, 25 a page) and the audit log (``/admin/audit``,
HTML, 50 a page; unfiltered and filtered by event type) at page 1 and page 1,000. The page
1,000 cursor is computed from the data (the last row of page 999, found by OFFSET in the
benchmark only) and encoded as the app encodes it; the answer must hold a full page.

Each page is requested ``--requests`` times (30) after 3 warm-ups, page 1 and page 1,000
alternately so drift on a shared machine hits both alike; the table shows the median and
best wall time and the SQL statements each request sent (counted on the engine,
transaction control excluded). Every response must be 200, or the script exits 1. It also
checks that the statements do not change with the page size (the largest page allowed).
Targets: median <= 50 ms, page 1,000 / page 1 <= 1.5x, statements independent of size.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import re
import secrets
import statistics
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from sqlalchemy import event, text  # noqa: E402
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine  # noqa: E402

from quart_authtuna.core.admin_queries import encode_cursor as users_cursor  # noqa: E402
from quart_authtuna.core.audit_queries import encode_cursor as audit_cursor  # noqa: E402
from quart_authtuna.core.db.models import AuditEvent  # noqa: E402

SECRETS = {
    "PASSWORD_PEPPER": "bench-pepper-" + "p" * 40,
    "JWT_SECRET_KEY": "bench-jwt-secret-" + "j" * 40,
    "ENCRYPTION_PRIMARY_KEY": "bench-encryption-key-" + "e" * 40,
    "FERNET_KEYS": ["Rm9yQmVuY2htYXJrc09ubHlOb3RBUmVhbEtleTAwMDA="],
}
PASSWORD = "correct horse battery staple"
BASE = 1_700_000_000.0
EVENT_TYPES = ("LOGIN_SUCCESS", "LOGIN_FAILED", "SESSION_CREATED", "TOKEN_USED",
               "PASSWORD_CHANGED", "ROLE_ASSIGNED", "MFA_ENABLED", "API_KEY_CREATED",
               "SESSION_TERMINATED", "USER_UPDATED")
USERS_PAGE, AUDIT_PAGE, DEEP = 25, 50, 1000
_CONTROL = re.compile(r"^\s*(BEGIN|COMMIT|ROLLBACK|SAVEPOINT|RELEASE)\b", re.IGNORECASE)


def build_app(url: str, schema: str) -> Any:
    """Quart + AuthTuna on ``schema``; sessions re-verified once an hour (no verification
    statements inside the measured requests)."""
    from quart import Quart

    from quart_authtuna import AuthTuna

    app = Quart(__name__)
    settings = {**SECRETS, "DEFAULT_DATABASE_URI": url, "DATABASE_SCHEMA": schema,
                "BCRYPT_ROUNDS": 4, "SESSION_SECURE": False, "API_BASE_URL": "http://localhost",
                "SESSION_DB_VERIFICATION_INTERVAL": 3600,
                "AUTO_CREATE_DATABASE": True}  # a throwaway schema
    app.config.update({f"AUTHTUNA_{k}": v for k, v in settings.items()})
    AuthTuna(app)
    return app


async def seed(engine: AsyncEngine, schema: str, users: int, events: int) -> None:
    """Bulk rows in a handful of statements, then ANALYZE."""
    s = f'"{schema}"'
    steps = [
        (f"users ({users:,})", f"""
            INSERT INTO {s}.users (id, username, username_canonical, email, email_canonical,
                is_active, email_verified, requires_password_reset, mfa_enabled, created_at)
            SELECT 'u' || g, 'user' || g, 'user' || g, 'user' || g || '@example.com',
                   'user' || g || '@example.com', g % 50 <> 0, g % 7 <> 0, false, g % 11 = 0,
                   {BASE} + g * 60
            FROM generate_series(1, {users}) AS g"""),
        ("user roles", f"""
            INSERT INTO {s}.user_roles (user_id, role_id, scope, given_by_id, given_at)
            SELECT 'u' || g, (SELECT id FROM {s}.roles WHERE name = 'User'), 'global',
                   'system', {BASE}
            FROM generate_series(1, {users}) AS g"""),
        (f"audit events ({events:,})", f"""
            INSERT INTO {s}.audit_events (user_id, actor_id, event_type, timestamp,
                                          ip_address, details)
            SELECT 'u' || (1 + (g::bigint * 7919) % {users}),
                   CASE WHEN g % 10 = 0 THEN 'u1' END,
                   (ARRAY{list(EVENT_TYPES)!r})[1 + g % {len(EVENT_TYPES)}],
                   {BASE} + (g / 3) * 2.0,
                   '10.' || (g % 256) || '.' || ((g / 256) % 256) || '.' || (g % 97),
                   jsonb_build_object('n', g, 'method', 'password')
            FROM generate_series(1, {events}) AS g"""),
        ("analyze", f"ANALYZE {s}.users; ANALYZE {s}.user_roles; ANALYZE {s}.audit_events"),
    ]
    for name, sql in steps:
        start = time.perf_counter()
        async with engine.begin() as conn:
            for statement in sql.split("; "):
                await conn.execute(text(statement))
        print(f"  seeded {name} in {time.perf_counter() - start:.1f} s", flush=True)


async def deep_cursors(engine: AsyncEngine, schema: str) -> dict[str, str]:
    """The cursors of page 1,000 (after the last row of page 999), as the app writes them."""
    s = f'"{schema}"'
    async with engine.connect() as conn:
        created, user_id = (await conn.execute(text(
            f"SELECT created_at, id FROM {s}.users ORDER BY created_at DESC, id DESC "
            f"OFFSET {USERS_PAGE * (DEEP - 1) - 1} LIMIT 1"))).one()
        cursors = {"users": users_cursor("newest", created, user_id)}
        for name, where in (("audit", ""), ("audit_type", "WHERE event_type = 'LOGIN_FAILED'")):
            at, event_id = (await conn.execute(text(
                f"SELECT timestamp, id FROM {s}.audit_events {where} "
                f"ORDER BY timestamp DESC, id DESC "
                f"OFFSET {AUDIT_PAGE * (DEEP - 1) - 1} LIMIT 1"))).one()
            cursors[name] = audit_cursor("older", AuditEvent(id=event_id, timestamp=at))
    return cursors


@contextmanager
def statements(engine: AsyncEngine) -> Iterator[list[str]]:
    """The data statements ``engine`` sends inside the block."""
    sent: list[str] = []

    def record(_c: Any, _cur: Any, statement: str, *_: Any) -> None:
        if not _CONTROL.match(statement):
            sent.append(statement)

    event.listen(engine.sync_engine, "before_cursor_execute", record)
    try:
        yield sent
    finally:
        event.remove(engine.sync_engine, "before_cursor_execute", record)


async def fetch(client: Any, engine: AsyncEngine, path: str, query: dict[str, str],
                rows: int, marker: bytes) -> tuple[float, int]:
    """One GET: its wall time (ms) and statements; exits 1 unless 200 with ``rows`` rows."""
    with statements(engine) as sent:
        start = time.perf_counter()
        response = await client.get(path, query_string=query)
        body = await response.get_data()
        elapsed = (time.perf_counter() - start) * 1000
    if response.status_code != 200:
        raise SystemExit(f"FAIL: {path} {query} answered {response.status_code}")
    if body.count(marker) != rows:
        raise SystemExit(f"FAIL: {path} {query} showed {body.count(marker)} rows, not {rows}")
    return elapsed, len(sent)


async def measure(client: Any, engine: AsyncEngine, path: str, queries: list[dict[str, str]],
                  rows: int, marker: bytes, requests: int) -> list[tuple[list[float], int]]:
    """Each query ``requests`` times, interleaved (so drift on a shared machine hits them
    alike) after 3 warm-up rounds: the wall times (ms) and the statements of each query."""
    times: list[list[float]] = [[] for _ in queries]
    counts: list[set[int]] = [set() for _ in queries]
    for n in range(3 + requests):
        for i, query in enumerate(queries):
            elapsed, sent = await fetch(client, engine, path, query, rows, marker)
            counts[i].add(sent)
            if n >= 3:
                times[i].append(elapsed)
    if any(len(c) != 1 for c in counts):
        raise SystemExit(f"FAIL: {path} sent a varying number of statements: {counts}")
    return [(t, c.pop()) for t, c in zip(times, counts, strict=True)]


async def run(url: str, users: int, events: int, requests: int) -> int:
    schema = f"bench_admin_{secrets.token_hex(4)}"
    admin_engine = create_async_engine(url)
    app = build_app(url, schema)
    try:
        async with app.test_app() as test_app:
            svc = app.extensions["authtuna"].service
            admin = await svc.users.create("benchadmin@example.com", "benchadmin", PASSWORD,
                                           email_verified=True)
            await svc.roles.assign_to_user(admin.id, "Admin", "system", "global")
            client = test_app.test_client()
            login = await client.post(
                "/auth/login", json={"username_or_email": "benchadmin", "password": PASSWORD},
                headers={"Origin": "http://localhost", "Accept": "application/json"})
            if login.status_code != 200:
                raise SystemExit(f"FAIL: login answered {login.status_code}")
            print(f"schema {schema}: seeding", flush=True)
            await seed(svc.engine, schema, users, events)
            deep = await deep_cursors(svc.engine, schema)
            user_row, event_row = b'<td data-label="User">', b'<td data-label="When"'
            pages = [
                ("/admin/users", "users", {}, USERS_PAGE, user_row),
                ("/admin/audit", "audit", {}, AUDIT_PAGE, event_row),
                ("/admin/audit", "audit_type", {"event_type": "LOGIN_FAILED"}, AUDIT_PAGE,
                 event_row),
            ]
            table: list[str] = []
            failed = False
            for path, key, args, rows, marker in pages:
                label = path + (f"?event_type={args['event_type']}" if args else "")
                (first, n1), (later, n2) = await measure(
                    client, svc.engine, path, [args, {**args, "cursor": deep[key]}], rows,
                    marker, requests)
                biggest = 100 if key == "users" else 200
                _, n3 = await fetch(client, svc.engine, path, {**args, "limit": str(biggest)},
                                    biggest, marker)
                m1, m2 = statistics.median(first), statistics.median(later)
                ratio = m2 / m1
                failed |= m1 > 50 or m2 > 50 or ratio > 1.5 or not n1 == n2 == n3
                table.append(f"| {label} | {m1:.1f} ({min(first):.1f}) | "
                             f"{m2:.1f} ({min(later):.1f}) | {ratio:.2f} | {n1} / {n2} / {n3} |")
            print(f"\n{users:,} users, {events:,} audit events; median (best) of {requests} "
                  "requests, ms\n")
            print("| page | page 1 | page 1,000 | ratio | statements (p1 / p1000 / max size) |")
            print("|---|---|---|---|---|")
            print("\n".join(table))
            print("\nall targets met" if not failed else "\nSOME TARGET MISSED")
            return 0
    finally:
        async with admin_engine.begin() as conn:
            await conn.execute(text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
        await admin_engine.dispose()
        print(f"dropped schema {schema}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--url", default=os.environ.get("AUTHTUNA_TEST_DATABASE_URL"),
                        help="postgresql+asyncpg:// URL (default $AUTHTUNA_TEST_DATABASE_URL)")
    parser.add_argument("--users", type=int, default=100_000)
    parser.add_argument("--events", type=int, default=1_000_000)
    parser.add_argument("--requests", type=int, default=30)
    options = parser.parse_args()
    if not options.url or not options.url.startswith("postgresql"):
        raise SystemExit("give a PostgreSQL URL: --url or AUTHTUNA_TEST_DATABASE_URL")
    raise SystemExit(asyncio.run(run(options.url, options.users, options.events,
                                     options.requests)))


if __name__ == "__main__":
    main()

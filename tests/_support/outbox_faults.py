"""A real database fault for atomicity tests: a trigger that refuses every insert into the mail
outbox, so a flow's transaction fails exactly where its mail is written (on commit's flush)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from sqlalchemy import func, select, text

from quart_authtuna.core import AuthService
from quart_authtuna.core.db.models import AuditEvent, OutboxMail

_TABLE = OutboxMail.__tablename__
_SQLITE = [f"""CREATE TRIGGER refuse_outbox BEFORE INSERT ON {_TABLE}
               BEGIN SELECT RAISE(ABORT, 'outbox refused by the test'); END"""]
_SQLITE_DROP = ["DROP TRIGGER refuse_outbox"]
_PG = ["""CREATE FUNCTION refuse_outbox() RETURNS trigger LANGUAGE plpgsql AS $$
          BEGIN RAISE EXCEPTION 'outbox refused by the test' USING ERRCODE = 'check_violation';
          END $$""",
       f"""CREATE TRIGGER refuse_outbox BEFORE INSERT ON {_TABLE}
           FOR EACH ROW EXECUTE FUNCTION refuse_outbox()"""]
_PG_DROP = [f"DROP TRIGGER refuse_outbox ON {_TABLE}", "DROP FUNCTION refuse_outbox()"]


@asynccontextmanager
async def outbox_refuses(svc: AuthService) -> AsyncIterator[None]:
    """While open, writing mail to ``svc``'s outbox fails (IntegrityError at commit)."""
    pg = svc.engine.dialect.name == "postgresql"
    async with svc.engine.begin() as conn:
        for statement in _PG if pg else _SQLITE:
            await conn.execute(text(statement))
    try:
        yield
    finally:
        async with svc.engine.begin() as conn:
            for statement in _PG_DROP if pg else _SQLITE_DROP:
                await conn.execute(text(statement))


async def outbox_kinds(svc: AuthService) -> list[str]:
    """The kinds of the mails waiting in the outbox, sorted."""
    async with svc.transaction() as tx:
        return sorted((await tx.scalars(select(OutboxMail.kind))).all())


async def audit_count(svc: AuthService, event_type: str) -> int:
    async with svc.transaction() as tx:
        return int(await tx.scalar(select(func.count()).where(
            AuditEvent.event_type == event_type)) or 0)

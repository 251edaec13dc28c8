"""The transactional mail outbox: a flow writes its mail in its own transaction; a sender
delivers it after commit, on start-up, and again with backoff until the server takes it.

Delivery is at least once: a process killed between the server's "250" and the row's
deletion sends that message again after the lease. Nothing acknowledged is ever dropped,
except a row no configured Fernet key opens (development's ephemeral keys after a restart),
which is logged.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Awaitable, Callable
from dataclasses import asdict

from sqlalchemy import delete, func, select, update
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncSession

from .crypto.fernet import Encryptor
from .db.base import new_id
from .db.models import OutboxMail
from .db.unit_of_work import UnitOfWork
from .errors import DatabaseUnavailable
from .mail_transport import Message
from .settings import Settings
from .types import Clock

logger = logging.getLogger("quart_authtuna.mail")
Deliver = Callable[[Message], Awaitable[None]]


class MailQueue:
    """Persisted outgoing mail and the one sender task of this process.

    Arguments:
        db: the unit of work the rows live in.
        clock: epoch seconds (due times and backoff).
        settings: MAIL_RETRY_BACKOFF_SECONDS and MAIL_RETRY_MAX_SECONDS.
        encryptor: encrypts each message at rest (its links carry single-use secrets).
        deliver: hands one message to the transport; raising means "try again later".
    """

    #: Seconds a claimed row stays invisible to other senders while this one delivers it.
    lease_seconds: float = 60.0
    #: Rows claimed per transaction.
    batch_size: int = 20
    #: Seconds between looks at an outbox this process has nothing for.
    idle_poll: float = 60.0

    def __init__(self, db: UnitOfWork, clock: Clock, settings: Settings, encryptor: Encryptor,
                 deliver: Deliver) -> None:
        self._db = db
        self._clock = clock
        self._settings = settings
        self._encryptor = encryptor
        self._deliver = deliver
        self._wake = asyncio.Event()
        self._lock = asyncio.Lock()
        self._task: asyncio.Task[None] | None = None
        self._dirty = False  # mail was added (or a try failed) since the last drain
        self._stopping = False

    async def put(self, message: Message, session: AsyncSession | None = None) -> None:
        """Write ``message`` in ``session``'s transaction (or its own); sent after commit."""
        now = self._clock()
        payload = self._encryptor.encrypt(json.dumps(asdict(message)))
        async with self._db.transaction(session) as tx:
            tx.add(OutboxMail(id=new_id(), kind=message.kind, created_at=now,
                              next_attempt_at=now, attempts=0, payload=payload))
            self._db.after_commit(tx, self._poke)

    async def _poke(self) -> None:
        self._dirty = True
        self._wake.set()

    async def start(self) -> None:
        """Start the sender: it delivers what an earlier process left (at once, in the
        background), then whatever each commit adds, and retries failures when their
        backoff ends."""
        if self._task is not None:
            return
        try:
            left = await self._next_due() is not None
        except (SQLAlchemyError, OSError, DatabaseUnavailable):
            left = True  # look again soon
        if left:
            await self._poke()
        self._task = asyncio.get_running_loop().create_task(self._run())

    async def stop(self) -> None:
        """Stop the sender after the message in hand; undelivered rows wait for a restart."""
        task, self._task = self._task, None
        if task is not None:
            self._stopping = True  # wait_for may swallow a cancel that races a wake-up
            self._wake.set()
            task.cancel()
            await asyncio.gather(task, return_exceptions=True)
            self._stopping = False

    async def _run(self) -> None:
        """Sleep until a commit adds mail, a retry falls due, or IDLE_POLL passes (rows a
        killed sibling process had claimed); then drain. An idle outbox, or one another
        caller of :meth:`drain` already emptied, costs no query."""
        wait = self.idle_poll
        while True:
            poked = True
            try:
                await asyncio.wait_for(self._wake.wait(), wait)
            except TimeoutError:
                poked = False
            if self._stopping:
                return
            self._wake.clear()
            wait = self.idle_poll
            try:
                if await self._drain(only_if_poked=poked) is not None:
                    due = await self._next_due()  # a retry, or a row another sender held
                    if due is not None:
                        wait = min(wait, max(0.5, due - self._clock()))
            except (SQLAlchemyError, OSError, DatabaseUnavailable) as exc:  # database down
                logger.warning("mail outbox unreachable: %s", type(exc).__name__)
                self._dirty = True
                wait = min(wait, float(self._settings.mail_retry_backoff_seconds))

    async def _next_due(self) -> float | None:
        async with self._db.transaction() as tx:
            due: float | None = await tx.scalar(select(func.min(OutboxMail.next_attempt_at)))
        return due

    async def drain(self) -> int:
        """Deliver every message due now; the number delivered."""
        return await self._drain(only_if_poked=False) or 0

    async def _drain(self, *, only_if_poked: bool) -> int | None:
        """The number delivered; with ``only_if_poked``, None (and no query at all) unless
        a commit added mail since the last drain."""
        sent = 0
        async with self._lock:
            if only_if_poked and not self._dirty:
                return None
            self._dirty = False
            while rows := await self._claim():
                delivered, failed = await self._send(rows)
                sent += delivered
                if failed:
                    break
        return sent

    async def _claim(self) -> list[OutboxMail]:
        now = self._clock()
        async with self._db.transaction() as tx:
            rows = list((await tx.scalars(
                select(OutboxMail).where(OutboxMail.next_attempt_at <= now)
                .order_by(OutboxMail.next_attempt_at).limit(self.batch_size)
                .with_for_update(skip_locked=True))).all())
            if rows:
                await tx.execute(update(OutboxMail).where(
                    OutboxMail.id.in_([r.id for r in rows])).values(
                    next_attempt_at=now + self.lease_seconds,
                    attempts=OutboxMail.attempts + 1)
                    .execution_options(synchronize_session=False))  # rows keep earlier tries
        return rows

    async def _send(self, rows: list[OutboxMail]) -> tuple[int, bool]:
        """Deliver claimed rows in order; at the first failure put the rest back (the server
        is likely down) with the backoff. ``(delivered, failed)``."""
        for index, row in enumerate(rows):
            try:
                message = Message(**json.loads(self._encryptor.decrypt(row.payload)))
            except ValueError:
                logger.error("outbox mail %s (%s) cannot be decrypted; dropped", row.id, row.kind)
                await self._forget(row.id)
                continue
            try:
                await self._deliver(message)
            except Exception as exc:  # noqa: BLE001 - any transport failure is retried later
                logger.warning("sending the %s email failed (attempt %d): %s", row.kind,
                               row.attempts + 1, type(exc).__name__)
                await self._back_off(rows[index:], type(exc).__name__)
                return index, True
            await self._forget(row.id)
        return len(rows), False

    async def _forget(self, row_id: str) -> None:
        async with self._db.transaction() as tx:
            await tx.execute(delete(OutboxMail).where(OutboxMail.id == row_id))

    async def _back_off(self, rows: list[OutboxMail], error: str) -> None:
        s, now = self._settings, self._clock()
        async with self._db.transaction() as tx:
            for row in rows:
                delay = min(s.mail_retry_max_seconds,
                            s.mail_retry_backoff_seconds * 2 ** min(row.attempts, 30))
                await tx.execute(update(OutboxMail).where(OutboxMail.id == row.id).values(
                    next_attempt_at=now + delay, last_error=error[:200]))

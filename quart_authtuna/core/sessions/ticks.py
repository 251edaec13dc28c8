"""One batch per event-loop tick: the work asked for while the loop runs one round of ready
tasks goes out together, with at most one batch in flight (what arrives meanwhile waits for
it and goes out in the next, so batches grow with the load instead of the queries)."""

from __future__ import annotations

import asyncio
import functools
from collections.abc import Iterable
from typing import Any


class TickBatch:
    """Scheduling for a batch: subclasses hold the pending work, ``_take`` hands it over
    (None when there is none), ``_run`` does it and ``_waiters`` names its futures."""

    def __init__(self) -> None:
        self._scheduled = False
        self._running: asyncio.Task[None] | None = None
        #: Batches run so far (for tests and benchmarks).
        self.batches = 0

    def _take(self) -> Any | None:
        raise NotImplementedError

    async def _run(self, work: Any) -> None:
        raise NotImplementedError

    def _waiters(self, work: Any) -> Iterable[asyncio.Future[Any]]:
        raise NotImplementedError

    def _schedule(self) -> None:
        if not self._scheduled and self._running is None:
            self._scheduled = True
            asyncio.get_running_loop().call_soon(self._start)

    def _start(self) -> None:
        self._scheduled = False
        if self._running is not None:
            return
        work = self._take()
        if work is None:
            return
        self.batches += 1
        self._running = asyncio.ensure_future(self._run_or_fail(work))
        self._running.add_done_callback(functools.partial(self._finished, work))

    async def _run_or_fail(self, work: Any) -> None:
        """A failed batch hands its error to every waiter not answered yet (503 upstream)."""
        try:
            await self._run(work)
        except Exception as exc:
            for future in self._waiters(work):
                if not future.done():
                    future.set_exception(exc)

    def _finished(self, work: Any, task: asyncio.Task[None]) -> None:
        self._running = None
        # The server stopping, perhaps before the batch even began: its waiters are cancelled
        # (an exception set for a request itself being cancelled would be logged as never
        # retrieved).
        if task.cancelled():
            for future in self._waiters(work):
                future.cancel()
        self._start()  # what arrived meanwhile


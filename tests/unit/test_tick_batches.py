"""The one-batch-per-tick scheduling shared by the batched session reads and rotations."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from quart_authtuna.core.sessions.ticks import TickBatch


class Echo(TickBatch):
    """Answers each key with the batch number it went out in; ``gate`` holds a batch open."""

    def __init__(self) -> None:
        super().__init__()
        self.pending: dict[str, asyncio.Future[int]] = {}
        self.gate = asyncio.Event()
        self.gate.set()
        self.seen: list[asyncio.Future[int]] = []
        self.error: Exception | None = None

    async def ask(self, key: str) -> int:
        future = self.pending[key] = asyncio.get_running_loop().create_future()
        self._schedule()
        return await asyncio.shield(future)

    def _waiters(self, work: dict[str, asyncio.Future[int]]) -> list[asyncio.Future[int]]:
        return list(work.values())

    def _take(self) -> dict[str, asyncio.Future[int]] | None:
        work, self.pending = self.pending, {}
        return work or None

    async def _run(self, work: dict[str, asyncio.Future[int]]) -> None:
        self.seen.extend(work.values())
        await self.gate.wait()
        if self.error is not None:
            raise self.error
        for future in work.values():
            future.set_result(self.batches)


async def test_one_tick_is_one_batch_and_what_arrives_meanwhile_the_next() -> None:
    batch = Echo()
    batch.gate.clear()
    first = [asyncio.ensure_future(batch.ask(k)) for k in "abc"]
    await asyncio.sleep(0)
    await asyncio.sleep(0)  # the first batch is running, held at the gate
    later = [asyncio.ensure_future(batch.ask(k)) for k in "de"]
    await asyncio.sleep(0)
    assert batch.batches == 1
    batch.gate.set()
    assert await asyncio.gather(*first) == [1, 1, 1]
    assert await asyncio.gather(*later) == [2, 2]
    assert batch.batches == 2


@pytest.mark.parametrize("begun", [True, False])
async def test_a_cancelled_batch_cancels_its_waiters(begun: bool) -> None:
    """The server stopping cancels a batch in flight, perhaps before its first step: its
    waiters are cancelled, not left waiting, and never handed a CancelledError as a result
    (asyncio logs such a future as never retrieved when the loop closes first)."""
    batch = Echo()
    batch.gate.clear()
    waiters = [asyncio.ensure_future(batch.ask(k)) for k in "ab"]
    await asyncio.sleep(0)  # the requests ask
    await asyncio.sleep(0)  # the batch is made
    if begun:
        await asyncio.sleep(0)  # and held at the gate
    running: Any = batch._running
    assert running is not None and bool(batch.seen) is begun
    running.cancel()
    await asyncio.wait_for(asyncio.gather(*waiters, running, return_exceptions=True), 5)
    assert running.cancelled() and all(w.cancelled() for w in waiters)
    assert batch._running is None


async def test_a_failed_batch_hands_its_error_to_every_waiter_and_the_next_runs() -> None:
    batch = Echo()
    batch.error = RuntimeError("database down")
    with pytest.raises(RuntimeError, match="database down"):
        await asyncio.gather(batch.ask("a"), batch.ask("b"))
    batch.error = None
    assert await batch.ask("c") == 2

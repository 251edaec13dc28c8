"""The part every cross-process broadcaster shares: deliver here at once, send to the others,
keep one listening connection open, and reconnect by itself with backoff.

While the channel is down, events this process publishes wait in a bounded backlog and go out
after reconnection; events other processes sent meanwhile are lost (pub/sub keeps nothing), so
each (re)connection delivers a ``reconnected`` event: every cache is verified again once. The
verification interval bounds the delay in between.
"""

from __future__ import annotations

import asyncio
import logging
import random
import secrets
from collections import deque

from sqlalchemy import Executable

from ..revocation import Handler, RevocationEvent
from .wire import decode, encode

logger = logging.getLogger("quart_authtuna.broadcast")

BACKOFF_FIRST = 0.1
BACKOFF_MAX = 5.0
#: Seconds between liveness checks of an idle listening connection.
PING_EVERY = 5.0
PING_TIMEOUT = 3.0
BACKLOG = 10_000


class ListeningBroadcaster:
    """Base class: subclasses open, watch, send on and shut one connection.

    Arguments:
        channel: the NOTIFY channel or Redis channel of this database (``wire.channel_for``).
    """

    name = "listening"
    #: Whether :meth:`statements` sends every event in its publishing transaction.
    sends_with_commit = False
    #: Errors that mean "the connection is gone" (subclasses name their driver's).
    errors: tuple[type[BaseException], ...] = (OSError,)

    def __init__(self, channel: str) -> None:
        self.channel = channel
        self.origin = secrets.token_hex(8)
        self.connections = 0
        self._handlers: list[Handler] = []
        self._backlog: deque[str] = deque(maxlen=BACKLOG)
        self._up = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self._lost = asyncio.Event()
        #: One command at a time on the connection (sends and pings).
        self._io = asyncio.Lock()
        self._applying: set[asyncio.Task[None]] = set()

    @property
    def connected(self) -> bool:
        return self._up.is_set()

    @property
    def epoch(self) -> int | None:
        """This connection's number (``connections``) while connected, else None; always
        None unless the broadcaster sends with the commit (:meth:`statements`): a change
        published after its commit by a process cut off from the channel would reach the
        others only when that process reconnects, so their caches cannot be vouched for."""
        return self.connections if self._up.is_set() and self.sends_with_commit else None

    def subscribe(self, handler: Handler) -> None:
        self._handlers.append(handler)

    def statements(self, event: RevocationEvent) -> list[Executable]:
        """None here: messages are sent after the commit (see PostgresBroadcaster)."""
        return []

    async def publish(self, event: RevocationEvent, *, sent: bool = False) -> None:
        """Apply here, then send to the other processes (or keep it until reconnected);
        ``sent``: the publishing transaction already sent it (:meth:`statements`)."""
        await self._deliver(event)
        if sent:
            return
        for message in encode(event, self.origin):
            self._backlog.append(message)
        if self.connected:
            await self._flush()

    async def start(self, wait: float = 2.0) -> None:
        """Start listening in the background; wait up to ``wait`` s for the first connection
        (a broker that is down does not stop start-up: the task keeps trying)."""
        if self._task is None:
            self._task = asyncio.create_task(self._run(), name=f"authtuna-{self.name}")
        try:
            await asyncio.wait_for(self._up.wait(), wait)
        except TimeoutError:
            logger.warning("revocation channel (%s) not connected yet; retrying", self.name)

    async def wait_connected(self, timeout: float) -> None:
        await asyncio.wait_for(self._up.wait(), timeout)

    async def close(self) -> None:
        task, self._task = self._task, None
        if task is not None:
            task.cancel()
            try:
                await task
            except asyncio.CancelledError:
                pass
        self._up.clear()

    # ---- the connection loop -----------------------------------------------------------

    async def _run(self) -> None:
        backoff = BACKOFF_FIRST
        while True:
            self._lost = asyncio.Event()
            try:
                await self._open()
            except self.errors as exc:
                await self._shut()
                delay = backoff * random.uniform(0.5, 1.0)
                logger.warning("revocation channel (%s) unavailable (%s); retrying in %.1f s",
                               self.name, type(exc).__name__, delay)
                await asyncio.sleep(delay)
                backoff = min(backoff * 2, BACKOFF_MAX)
                continue
            backoff = BACKOFF_FIRST
            self.connections += 1
            self._up.set()
            try:
                await self._deliver(RevocationEvent("reconnected"))
                await self._flush()
                await self._watch()
            except self.errors as exc:
                logger.warning("revocation channel (%s) lost (%s); reconnecting", self.name,
                               type(exc).__name__)
            finally:
                self._up.clear()
                await self._shut()

    async def _flush(self) -> None:
        """Send the backlog in order; on failure keep the rest and drop the connection."""
        async with self._io:
            while self._backlog and self.connected:
                try:
                    await self._send(self._backlog[0])
                except self.errors as exc:
                    logger.warning("revocation channel (%s): sending failed (%s)", self.name,
                                   type(exc).__name__)
                    self._lost.set()
                    return
                self._backlog.popleft()

    def _receive(self, message: str | bytes) -> None:
        """A message from the channel: apply it unless it is our own echo."""
        decoded = decode(message)
        if decoded is None:
            logger.warning("revocation channel (%s): ignored a malformed message", self.name)
            return
        origin, event = decoded
        if origin != self.origin:
            for handler in self._handlers:
                task = asyncio.ensure_future(handler(event))
                self._applying.add(task)
                task.add_done_callback(self._applying.discard)

    async def _deliver(self, event: RevocationEvent) -> None:
        for handler in self._handlers:
            await handler(event)

    async def _watch(self) -> None:
        """Return (or raise) when the connection is lost; ping it while idle."""
        while True:
            try:
                await asyncio.wait_for(self._lost.wait(), PING_EVERY)
                return
            except TimeoutError:
                async with self._io:
                    await asyncio.wait_for(self._ping(), PING_TIMEOUT)

    # ---- per broker --------------------------------------------------------------------

    async def _open(self) -> None:
        """Connect and start listening on :attr:`channel` (calling :meth:`_receive`)."""
        raise NotImplementedError

    async def _send(self, message: str) -> None:
        raise NotImplementedError

    async def _ping(self) -> None:
        raise NotImplementedError

    async def _shut(self) -> None:
        """Close the connection quietly (it may be half-open or already gone)."""
        raise NotImplementedError

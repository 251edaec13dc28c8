"""A controllable clock for expiry and window tests (no sleeping)."""

from __future__ import annotations


class FakeClock:
    """Returns ``now``; ``advance`` moves it forward."""

    def __init__(self, start: float = 1_800_000_000.0) -> None:
        self.now = start

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds

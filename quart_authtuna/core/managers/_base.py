"""The small base every manager shares: a handle on the service."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from ..service import AuthService


class Manager:
    """A group of operations on one table family, bound to an AuthService."""

    def __init__(self, service: AuthService) -> None:
        self._svc = service

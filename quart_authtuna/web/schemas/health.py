"""Schemas of the health check (``authtuna_health``, at HEALTHZ_PATH)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from .envelope import ErrorItem
from .operations import Op, ok


@dataclass
class Revocations:
    """How revocations reach the other processes, and whether that channel is up."""

    broadcaster: Literal["local", "postgres", "redis"]
    connected: bool


@dataclass
class HealthOut:
    database: Literal["ok", "unreachable"]
    revocations: Revocations


@dataclass
class Unhealthy:
    """503: what is down (``errors[0].code`` is ``unavailable``); ``Retry-After`` is set."""

    status: int
    errors: list[ErrorItem]
    data: HealthOut


ROUTES: dict[str, Op] = {
    "GET authtuna_health.healthz": Op(responses={200: ok(HealthOut), 503: Unhealthy},
                                      form=False),
}

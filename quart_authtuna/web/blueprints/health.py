"""``GET HEALTHZ_PATH`` for load balancers (``AUTHTUNA_HEALTHZ_ENABLED``): no sign-in, JSON,
200 when the database answers and the revocation channel is connected, else 503."""

from __future__ import annotations

from quart import Response

from .. import current
from ..guards import authtuna_blueprint
from ..respond import json_response, with_headers

health = authtuna_blueprint("authtuna_health", __name__)


@health.get("")
async def healthz() -> Response:
    """The service's health; cheap enough to probe every second (see ``core.health``)."""
    report = await current.service().health.check()
    data = {"database": "ok" if report.database else "unreachable",
            "revocations": {"broadcaster": report.broadcaster,
                            "connected": report.broadcaster_connected}}
    if report.healthy:
        return json_response(200, data)
    problem = ("The database does not answer." if not report.database
               else "The revocation channel is not connected.")
    return with_headers(json_response(503, data, errors=[
        {"code": "unavailable", "message": problem, "param": None}]), {"Retry-After": "5"})

"""The admin dashboard (upstream ``/admin/dashboard``): counts now and the last 30 days.

The area's root redirects here. Reading it needs only ``admin:access:panel`` (checked for
the whole area); its JSON twin is upstream's ``get_dashboard_stats`` given a route.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Final

from quart.typing import ResponseReturnValue

from ....core.admin_stats import DashboardStats
from ....core.rbac.assignment import MANAGE_USERS
from ....decorators import require_user
from ...journey import service
from ...respond import json_response, render_page, wants_json
from .area import admin
from .chart import Chart, bar_chart

DAYS: Final = 30


def day_label(epoch: float) -> str:
    """``"3 Feb"``: a day on the chart."""
    day = datetime.fromtimestamp(epoch, UTC)
    return f"{day.day} {day:%b}"


def activity_charts(stats: DashboardStats) -> tuple[Chart, Chart]:
    """The chart for wide screens and the one for phones (taller for its width)."""
    labels = [day_label(d.start) for d in stats.days]
    series = [("signups", ("sign-up", "sign-ups"), [d.signups for d in stats.days]),
              ("signins", ("sign-in", "sign-ins"), [d.signins for d in stats.days])]
    return bar_chart(labels, series), bar_chart(labels, series, width=360, height=240)


@admin.get("/dashboard")
async def dashboard() -> ResponseReturnValue:
    """Accounts by state, live sessions, and sign-ups and sign-ins per day."""
    stats = await service().admin_stats.dashboard(DAYS)
    if wants_json():
        return json_response(200, data=stats.as_json(), days=DAYS)
    grants = (await require_user()).grants
    return await render_page("admin/dashboard.html", stats=stats, charts=activity_charts(stats),
                             days=DAYS, day_label=day_label,
                             may_search=grants.has_permission(MANAGE_USERS, "global"))

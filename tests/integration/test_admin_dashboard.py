"""The admin dashboard over HTTP: counts, the per-day series on the right UTC day (on SQLite
and PostgreSQL alike), the server-drawn chart, who may see it, and its fixed cost."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Any

import pyotp
import pytest

from quart_authtuna.core import AuthService
from tests._support.clock import FakeClock
from tests._support.queries import page_costs
from tests._support.web import ORIGIN, signed_in_client

JSON = {"Accept": "application/json", "Origin": ORIGIN}
DAY = 86_400


async def _stats(client: Any) -> dict[str, Any]:
    response = await client.get("/admin/dashboard", headers=JSON)
    assert response.status_code == 200, await response.get_data(as_text=True)
    data: dict[str, Any] = (await response.get_json())["data"]
    return data


def _date(epoch: float) -> str:
    return datetime.fromtimestamp(epoch, UTC).date().isoformat()


def _day(stats: dict[str, Any], epoch: float) -> dict[str, Any]:
    [day] = [d for d in stats["days"] if d["date"] == _date(epoch)]
    return day


async def test_counts_follow_new_users_suspension_mfa_and_sessions(
        app: Any, client: Any, make_user: Any, login: Any, svc: AuthService,
        clock: FakeClock) -> None:
    await make_user("boss", roles=(("Admin", "global"),))
    await login("boss")
    before = await _stats(client)
    assert before["live_sessions"] >= 1 and before["users"] >= 1
    keys = {"users", "active", "verified", "mfa_enabled", "suspended", "live_sessions"}
    assert keys < set(before)
    spammer = await make_user("spammer")
    await make_user("unverified", email_verified=False)
    careful = await make_user("careful")
    setup = await svc.mfa.setup_totp(careful.id)
    await svc.mfa.verify_and_enable_totp(careful.id, pyotp.TOTP(setup.secret).at(clock.now))
    await signed_in_client(app, "spammer")
    await signed_in_client(app, "boss")  # a second browser
    middle = await _stats(client)
    assert {k: middle[k] - before[k] for k in keys} == {
        "users": 3, "active": 3, "verified": 2, "mfa_enabled": 1, "suspended": 0,
        "live_sessions": 2}
    await svc.users.suspend_user(spammer.id, "system", "spam")  # ends its sessions too
    after = await _stats(client)
    assert {k: after[k] - before[k] for k in keys} == {
        "users": 3, "active": 2, "verified": 2, "mfa_enabled": 1, "suspended": 1,
        "live_sessions": 1}


async def test_series_puts_sign_ups_and_sign_ins_on_their_utc_day(
        app: Any, client: Any, make_user: Any, login: Any, clock: FakeClock) -> None:
    """Half a second either side of midnight lands on either side of it: the day is the
    floor, also on PostgreSQL (whose CAST to integer rounds)."""
    clock.advance(40 * DAY)  # the defaults were provisioned 40 days ago, out of the window
    today = clock.now
    midnight = today // DAY * DAY
    clock.now = midnight - 0.5
    await make_user("lastnight")
    clock.now = midnight
    await make_user("thismorning")
    clock.now = today - 5 * DAY
    await make_user("fivedays")
    await signed_in_client(app, "fivedays")
    await signed_in_client(app, "fivedays")
    window_start = midnight - 29 * DAY
    clock.now = window_start - 0.5
    await make_user("outside")
    clock.now = window_start
    await make_user("firstday")
    clock.now = today
    await make_user("boss", roles=(("Admin", "global"),))
    await login("boss")
    stats = await _stats(client)
    assert len(stats["days"]) == 30
    assert stats["days"][0]["date"] == _date(window_start)
    assert stats["days"][-1]["date"] == _date(today)
    assert [d["start"] for d in stats["days"]] == [window_start + i * DAY for i in range(30)]
    assert _day(stats, midnight - 1) == {"date": _date(midnight - 1), "start": midnight - DAY,
                                         "signups": 1, "signins": 0}
    assert (_day(stats, today)["signups"], _day(stats, today)["signins"]) == (2, 1)
    assert (_day(stats, today - 5 * DAY)["signups"],
            _day(stats, today - 5 * DAY)["signins"]) == (1, 2)
    assert _day(stats, window_start)["signups"] == 1
    assert sum(d["signups"] for d in stats["days"]) == 5  # not "outside", not the defaults
    assert sum(d["signins"] for d in stats["days"]) == 3


async def test_page_draws_the_chart_server_side_with_a_text_alternative(
        app: Any, client: Any, make_user: Any, login: Any, clock: FakeClock) -> None:
    clock.advance(40 * DAY)
    clock.advance(-3 * DAY)
    await make_user("early")
    await signed_in_client(app, "early")
    clock.advance(3 * DAY)
    await make_user("boss", roles=(("Admin", "global"),))
    await login("boss")
    html = await (await client.get("/admin/dashboard")).get_data(as_text=True)
    assert re.search(r'<a href="/admin/dashboard" aria-current="page">Dashboard</a>', html)
    svgs = re.findall(r"<svg .*?</svg>", html, re.S)
    assert len(svgs) == 2  # wide and narrow; CSS shows one
    for svg, size in zip(svgs, ("wide", "narrow"), strict=True):
        assert 'role="img"' in svg and f'<title id="chart-{size}-title">' in svg
        assert f'aria-labelledby="chart-{size}-title chart-{size}-desc"' in svg
        assert "<desc" in svg and "style=" not in svg
        # 1 sign-up and 1 sign-in three days ago, 1 sign-up (boss) and 1 sign-in today
        assert svg.count("<rect") == 4
        assert "1 sign-up</title>" in svg and "1 sign-in</title>" in svg
    assert "<script" not in html
    figures = html[html.index("<details"):html.index("</details>")]
    assert figures.count('<th scope="row">') == 30
    assert 'href="/admin/users?is_active=false"' in html  # tiles link to the filtered search


@pytest.mark.settings(SESSION_LIFETIME_SECONDS=40 * DAY)
async def test_a_quiet_month_shows_an_empty_state_not_an_empty_chart(
        client: Any, make_user: Any, login: Any, clock: FakeClock) -> None:
    await make_user("boss", roles=(("Admin", "global"),))
    await login("boss")
    clock.advance(31 * DAY)  # the sign-in and every account are older than the window
    html = await (await client.get("/admin/dashboard")).get_data(as_text=True)
    assert "No sign-ups or sign-ins in the last 30 days." in html and "<svg" not in html
    assert html.count('<th scope="row">') == 30  # the figures are still there, all zero


async def test_the_prefix_root_is_left_to_the_app(client: Any, make_user: Any,
                                                 login: Any) -> None:
    """Upstream has no /admin page, and the seeds' apps route /admin themselves
    (test_seed_examples_web.py serves its own /admin beside this area)."""
    await make_user("mod", roles=(("Moderator", "global"),))
    await login("mod")
    assert (await client.get("/admin")).status_code == 404
    assert (await client.get("/admin/dashboard")).status_code == 200


async def test_needs_panel_access(app: Any, client: Any, make_user: Any, login: Any) -> None:
    anonymous = app.test_client()
    assert (await anonymous.get("/admin/dashboard", headers=JSON)).status_code == 401
    await make_user("plain")
    await login("plain")
    assert (await client.get("/admin/dashboard", headers=JSON)).status_code == 403
    assert (await client.get("/admin/dashboard")).status_code == 403


async def test_dashboard_costs_the_same_statements_whatever_the_rows(
        app: Any, client: Any, make_user: Any, login: Any, svc: AuthService,
        clock: FakeClock) -> None:
    await make_user("boss", roles=(("Admin", "global"),))
    await login("boss")
    few = await page_costs(client, svc.engine, "/admin/dashboard")
    for n in range(12):
        clock.advance(-n * 3600 * 5)
        await make_user(f"many{n}")
        await signed_in_client(app, f"many{n}")
        clock.advance(n * 3600 * 5)
    many = await page_costs(client, svc.engine, "/admin/dashboard")
    assert few == many, (few, many)
    assert few == (3, 3), few  # the aggregate and two GROUP BY days, nothing per row

"""The dashboard chart's geometry: round axis steps, bars inside the plot, sparse labels."""

from __future__ import annotations

import pytest

from quart_authtuna.web.blueprints.admin.chart import bar_chart, nice_scale

UNITS = ("sign-up", "sign-ups")


@pytest.mark.parametrize(("peak", "expected"), [
    (0, (1, 1)), (-3, (1, 1)), (1, (1, 1)), (3, (3, 1)), (4, (4, 1)), (5, (6, 2)),
    (7, (8, 2)), (10, (10, 5)), (19, (20, 5)), (100, (100, 50)), (1234, (1500, 500)),
])
def test_nice_scale_gives_a_round_step_and_a_top_at_or_above_the_peak(
        peak: int, expected: tuple[int, int]) -> None:
    top, step = nice_scale(peak)
    assert (top, step) == expected
    assert top >= peak and top % step == 0
    assert str(step).strip("0") in ("1", "2", "5")


def test_bars_sit_in_the_plot_scaled_to_the_axis() -> None:
    labels = [f"{d} Jan" for d in range(1, 31)]
    signups = [0] * 30
    signins = [0] * 30
    signups[0], signups[29], signins[29], signins[10] = 1, 4, 8, 3
    chart = bar_chart(labels, [("signups", UNITS, signups),
                               ("signins", ("sign-in", "sign-ins"), signins)])
    ups, ins = chart.series
    assert (ups.key, ins.key) == ("signups", "signins")
    assert [b.value for b in ups.bars] == [1, 4] and [b.value for b in ins.bars] == [3, 8]
    plot = chart.bottom - chart.top
    for bar in (*ups.bars, *ins.bars):
        assert chart.left <= bar.x and bar.x + bar.width <= chart.right + 0.01
        assert bar.y >= chart.top - 0.01 and abs(bar.y + bar.height - chart.bottom) < 0.02
        assert bar.height == pytest.approx(bar.value / 8 * plot, abs=0.01)  # axis top is 8
    tallest = max(ins.bars, key=lambda b: b.value)
    assert tallest.y == pytest.approx(chart.top, abs=0.01)
    # a day's two bars side by side, sign-ups first; days left to right
    last_up, last_in = ups.bars[-1], ins.bars[-1]
    assert last_up.x + last_up.width == pytest.approx(last_in.x, abs=0.02)
    assert ups.bars[0].x < ups.bars[1].x
    assert ups.bars[0].title == "1 Jan: 1 sign-up" and ups.bars[1].title == "30 Jan: 4 sign-ups"
    assert [t.label for t in chart.ticks] == ["0", "2", "4", "6", "8"]
    assert chart.ticks[0].y == chart.bottom and chart.ticks[-1].y == pytest.approx(chart.top)


def test_labels_count_back_from_today() -> None:
    labels = [f"d{i}" for i in range(30)]
    chart = bar_chart(labels, [("signups", UNITS, [0] * 30)])
    assert [x.label for x in chart.labels] == ["d1", "d8", "d15", "d22", "d29"]
    assert [x.label for x in bar_chart(labels, [], every=14).labels] == ["d1", "d15", "d29"]
    xs = [x.x for x in chart.labels]
    assert xs == sorted(xs) and chart.left < xs[0] and xs[-1] < chart.right
    assert chart.series[0].bars == ()


def test_a_small_tiny_value_still_shows_and_one_day_works() -> None:
    chart = bar_chart(["today"], [("signins", ("sign-in", "sign-ins"), [1])])
    [bar] = chart.series[0].bars
    assert bar.height == pytest.approx(chart.bottom - chart.top)
    chart = bar_chart([f"d{i}" for i in range(30)],
                      [("signups", UNITS, [1000] + [1] * 29)])
    assert min(b.height for b in chart.series[0].bars) >= 1.5

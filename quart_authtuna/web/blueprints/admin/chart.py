"""The dashboard's bar chart as plain numbers: the template draws them as an inline SVG.

No JavaScript and no library: :func:`bar_chart` lays out grouped bars (one group per
label, one bar per series), a y axis with round ticks, and sparse x labels, in the
coordinates of a ``viewBox`` that the page scales to its width (the dashboard draws a wide
one and a narrow one, and CSS shows the one that fits the screen).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Bar:
    x: float
    y: float
    width: float
    height: float
    value: int
    #: What the bar says when hovered (its ``<title>``), e.g. ``"12 Jan: 3 sign-ups"``.
    title: str


@dataclass(frozen=True, slots=True)
class Series:
    """One kind of bar; ``key`` names its CSS class (``at-chart-<key>``)."""

    key: str
    bars: tuple[Bar, ...]


@dataclass(frozen=True, slots=True)
class Tick:
    y: float
    label: str


@dataclass(frozen=True, slots=True)
class XLabel:
    x: float
    label: str


@dataclass(frozen=True, slots=True)
class Chart:
    """Everything to draw; the plot area is ``left..right`` by ``top..bottom``."""

    width: int
    height: int
    left: float
    right: float
    top: float
    bottom: float
    series: tuple[Series, ...]
    ticks: tuple[Tick, ...]
    labels: tuple[XLabel, ...]


def nice_scale(peak: int, ticks: int = 4) -> tuple[int, int]:
    """``(top, step)``: the axis top (a multiple of ``step``, at least ``peak``) and a round
    whole step (1, 2 or 5 times a power of ten) giving about ``ticks`` intervals."""
    if peak <= 0:
        return 1, 1
    raw = peak / ticks
    power = 10 ** math.floor(math.log10(raw)) if raw >= 1 else 1
    step = next(m * power for m in (1, 2, 5, 10) if m * power >= raw)
    return step * math.ceil(peak / step), step


def _plural(value: int, unit: tuple[str, str]) -> str:
    return f"{value} {unit[0] if value == 1 else unit[1]}"


def bar_chart(labels: Sequence[str], series: Sequence[tuple[str, tuple[str, str], Sequence[int]]],
              *, width: int = 720, height: int = 240, every: int = 7) -> Chart:
    """Grouped bars: ``labels[i]`` names group ``i``; each series is ``(key, (singular,
    plural), values)`` with one value per label. Zero values draw no bar. Every ``every``-th
    label counting back from the last is shown."""
    left, right, top, bottom = 36.0, width - 12.0, 10.0, height - 26.0
    count = max(len(labels), 1)
    peak = max((v for _, _, values in series for v in values), default=0)
    axis_top, step = nice_scale(peak)
    plot_h = bottom - top
    group = (right - left) / count
    bar_w = group * 0.8 / max(len(series), 1)
    drawn = []
    for j, (key, unit, values) in enumerate(series):
        bars = []
        for i, value in enumerate(values):
            if value <= 0:
                continue
            h = max(value / axis_top * plot_h, 1.5)
            bars.append(Bar(round(left + i * group + group * 0.1 + j * bar_w, 2),
                            round(bottom - h, 2), round(bar_w, 2), round(h, 2), value,
                            f"{labels[i]}: {_plural(value, unit)}"))
        drawn.append(Series(key, tuple(bars)))
    ticks = tuple(Tick(round(bottom - v / axis_top * plot_h, 2), str(v))
                  for v in range(0, axis_top + 1, step))
    shown = tuple(XLabel(round(left + (i + 0.5) * group, 2), labels[i])
                  for i in range(len(labels)) if (len(labels) - 1 - i) % every == 0)
    return Chart(width, height, left, right, top, bottom, tuple(drawn), ticks, shown)

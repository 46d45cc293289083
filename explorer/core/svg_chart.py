"""Small hand-written SVG charts (no plotting dependency, no Qt): lines, bars and points.

Each chart is a frame with round ticks and a light grid, its axes named, drawn in a
fixed coordinate system (`viewBox`) so it scales to any width: the report shrinks it to
a phone's screen. They are written to sit inside an HTML page (no XML namespace, which
HTML does not need). Every text in a chart is escaped: class and factor names come
from the user's files.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from html import escape

import numpy as np

WIDTH, HEIGHT = 560, 360  # the charts' own units; they scale with the page
# A colour per class or series: Tableau 10, distinguishable in colour and in grey.
PALETTE = (
    "#1f77b4",
    "#ff7f0e",
    "#2ca02c",
    "#d62728",
    "#9467bd",
    "#8c564b",
    "#e377c2",
    "#7f7f7f",
    "#bcbd22",
    "#17becf",
)


def ticks(lo: float, hi: float, n: int = 5) -> list[float]:
    """About n round tick values covering [lo, hi]."""
    if not hi > lo:
        return [lo]
    step = 10 ** math.floor(math.log10((hi - lo) / n))
    for mult in (1, 2, 5, 10):
        if (hi - lo) / (step * mult) <= n:
            step *= mult
            break
    first = math.ceil(lo / step) * step
    return [first + i * step for i in range(int((hi - first) / step + 1e-9) + 1)]


@dataclass(frozen=True)
class Axes:
    """What a chart shows: its title and what its axes are."""

    title: str
    x_label: str
    y_label: str
    x_range: tuple[float, float] = (0.0, 1.0)
    y_range: tuple[float, float] = (0.0, 1.0)


class Frame:
    """A chart's frame: data coordinates -> SVG units, and the SVG drawn so far."""

    left, top, right, bottom = 64, 32, 16, 48  # margins in SVG units

    def __init__(self, axes: Axes, label: str):
        """`label`: the chart's accessible name (its `aria-label`)."""
        self.axes = axes
        (x0, x1), (y0, y1) = (_widened(*axes.x_range), _widened(*axes.y_range))
        self.x0, self.x1, self.y0, self.y1 = x0, x1, y0, y1
        self.parts = [
            f'<svg viewBox="0 0 {WIDTH} {HEIGHT}" '
            f'width="{WIDTH}" height="{HEIGHT}" role="img" aria-label="{escape(label)}" '
            'font-family="sans-serif" font-size="12">',
            f'<rect width="{WIDTH}" height="{HEIGHT}" fill="white"/>',
            f'<text x="{WIDTH / 2}" y="18" text-anchor="middle" font-size="14">'
            f"{escape(axes.title)}</text>",
        ]

    def px(self, x: float) -> float:
        return self.left + (x - self.x0) / (self.x1 - self.x0) * self._w

    def py(self, y: float) -> float:
        return HEIGHT - self.bottom - (y - self.y0) / (self.y1 - self.y0) * self._h

    @property
    def _w(self) -> float:
        return WIDTH - self.left - self.right

    @property
    def _h(self) -> float:
        return HEIGHT - self.top - self.bottom

    def grid(self, x_ticks: bool = True) -> None:
        """Ticks, grid lines and the axes' names (x ticks off where bars are labelled)."""
        out = self.parts
        if x_ticks:
            for t in ticks(self.x0, self.x1):
                out.append(
                    f'<line x1="{self.px(t):.1f}" y1="{self.top}" x2="{self.px(t):.1f}" '
                    f'y2="{HEIGHT - self.bottom}" stroke="#eee"/>'
                    f'<text x="{self.px(t):.1f}" y="{HEIGHT - self.bottom + 16}" '
                    f'text-anchor="middle">{t:g}</text>'
                )
        for t in ticks(self.y0, self.y1):
            out.append(
                f'<line x1="{self.left}" y1="{self.py(t):.1f}" x2="{WIDTH - self.right}" '
                f'y2="{self.py(t):.1f}" stroke="#eee"/>'
                f'<text x="{self.left - 6}" y="{self.py(t) + 4:.1f}" '
                f'text-anchor="end">{t:g}</text>'
            )
        out += [
            f'<rect x="{self.left}" y="{self.top}" width="{self._w}" height="{self._h}" '
            'fill="none" stroke="#444"/>',
            f'<text x="{self.left + self._w / 2}" y="{HEIGHT - 10}" text-anchor="middle">'
            f"{escape(self.axes.x_label)}</text>",
            f'<text transform="translate(14 {self.top + self._h / 2}) rotate(-90)" '
            f'text-anchor="middle">{escape(self.axes.y_label)}</text>',
        ]

    def svg(self) -> str:
        return "\n".join([*self.parts, "</svg>"]) + "\n"


def _widened(lo: float, hi: float) -> tuple[float, float]:
    """A range with room around it; an empty or single-valued one made one unit wide."""
    if not (math.isfinite(lo) and math.isfinite(hi)) or hi < lo:
        return 0.0, 1.0
    if hi == lo:
        return lo - 0.5, hi + 0.5
    pad = (hi - lo) * 0.05
    return lo - pad, hi + pad


def line_chart(series: dict[str, tuple[Sequence[float], Sequence[float]]], axes: Axes) -> str:
    """One polyline (with a dot per point) per named series of (xs, ys), in PALETTE
    order, named in a legend at the top right."""
    frame = Frame(axes, axes.title)
    frame.grid()
    # the legend's left edge: room for the longest name (about 7 units a character)
    legend = WIDTH - frame.right - 36 - 7 * max((len(n) for n in series), default=0)
    for i, (name, (xs, ys)) in enumerate(series.items()):
        colour = PALETTE[i % len(PALETTE)]
        points = [
            f"{frame.px(x):.1f},{frame.py(y):.1f}"
            for x, y in zip(xs, ys, strict=True)
            if math.isfinite(y)
        ]
        if len(points) > 1:
            frame.parts.append(
                f'<polyline points="{" ".join(points)}" fill="none" stroke="{colour}" '
                'stroke-width="2"/>'
            )
        frame.parts += [
            f'<circle cx="{p.split(",")[0]}" cy="{p.split(",")[1]}" r="2.5" fill="{colour}"/>'
            for p in points
        ]
        y = frame.top + 16 + 16 * i
        frame.parts.append(
            f'<line x1="{legend}" y1="{y - 4}" x2="{legend + 20}" y2="{y - 4}" '
            f'stroke="{colour}" stroke-width="3"/>'
            f'<text x="{legend + 26}" y="{y}">{escape(name)}</text>'
        )
    return frame.svg()


def bar_chart(values: Sequence[float], labels: Sequence[str], axes: Axes, strong: Sequence[bool]):
    """One bar per value, labelled below; `strong` bars drawn dark, the others light."""
    frame = Frame(axes, axes.title)
    frame.grid(x_ticks=False)
    n = max(len(values), 1)
    slot = (WIDTH - frame.left - frame.right) / n
    every = math.ceil(n / 24)  # at most ~24 labels fit under the bars
    for i, (value, label, dark) in enumerate(zip(values, labels, strong, strict=True)):
        x = frame.left + i * slot + slot * 0.15
        top = frame.py(max(value, 0.0))
        frame.parts.append(
            f'<rect x="{x:.1f}" y="{top:.1f}" width="{slot * 0.7:.1f}" '
            f'height="{max(frame.py(0.0) - top, 0.0):.1f}" '
            f'fill="{PALETTE[0] if dark else "#aec7e8"}"/>'
        )
        if i % every == 0:
            frame.parts.append(
                f'<text x="{x + slot * 0.35:.1f}" y="{HEIGHT - frame.bottom + 16}" '
                f'text-anchor="middle">{escape(label)}</text>'
            )
    return frame.svg()


def scatter_chart(points: np.ndarray, groups: np.ndarray | None, axes: Axes) -> str:
    """Points (N, 2) as small dots, coloured by group (N,) int in PALETTE order."""
    frame = Frame(axes, axes.title)
    frame.grid()
    colours = np.zeros(len(points), int) if groups is None else np.asarray(groups) % len(PALETTE)
    for (x, y), c in zip(points, colours, strict=True):
        frame.parts.append(
            f'<circle cx="{frame.px(x):.1f}" cy="{frame.py(y):.1f}" r="2" '
            f'fill="{PALETTE[c]}" fill-opacity="0.7"/>'
        )
    return frame.svg()

"""Many points on a plane as a density image: how many fall in each cell of a fine grid,
and the count-weighted mean colour of their groups (classes or factor values).

The latent plot draws a million codes this way where they crowd: the grid is built once
per set of codes (one pass of bincounts over the points, cheap enough for every training
epoch) and the view only resamples its pixels, so panning and zooming cost what the
screen's pixels cost, not the points'. Each point is spread over the 3 × 3 cells around it,
when drawn, as a dot a few pixels wide covers them, so the image and the dots it gives
way to on zooming in look alike.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

FINE = 1024  # cells along each axis: about a screen pixel each for a plot filling a screen
SPREAD = 3  # cells a point covers along each axis (the drawn dot's width in cells)
# The darkest levels of a perceptual map vanish on a dark plot, its lightest on a light one.
VIRIDIS = np.array(
    [
        [0.267, 0.005, 0.329],
        [0.275, 0.194, 0.496],
        [0.213, 0.360, 0.552],
        [0.153, 0.498, 0.558],
        [0.122, 0.633, 0.530],
        [0.290, 0.761, 0.427],
        [0.627, 0.855, 0.224],
        [0.993, 0.906, 0.144],
    ]
)


@dataclass(frozen=True)
class Density:
    """Points binned on a grid over `extent`; row 0 is the bottom (y0), column 0 the left.

    counts: (H, W) float64 points per cell (they sum to the points binned).
    sums: (H, W, 3) the sum of the colours (0..1) of each cell's points, or None when the
        points have no groups.
    values: (H, W) the sum of the values of each cell's points (a quantity coloured through
        a map, e.g. the reconstruction error), or None when the points have none.
    table: (H + 1, W + 1) summed-area table of counts, for counts over a rectangle.
    """

    counts: np.ndarray
    sums: np.ndarray | None
    extent: tuple[float, float, float, float]  # x0, x1, y0, y1
    table: np.ndarray
    values: np.ndarray | None = None

    def count_in(self, x0: float, x1: float, y0: float, y1: float) -> float:
        """How many points lie in the cells that overlap the rectangle (an upper bound of
        the points inside it, exact to a cell); cost independent of the points."""
        h, w = self.counts.shape
        ex0, ex1, ey0, ey1 = self.extent
        c0, c1 = np.clip(np.floor((np.array([x0, x1]) - ex0) / (ex1 - ex0) * w), 0, w)
        r0, r1 = np.clip(np.floor((np.array([y0, y1]) - ey0) / (ey1 - ey0) * h), 0, h)
        c1, r1 = min(c1 + 1, w), min(r1 + 1, h)
        c0, c1, r0, r1 = int(c0), int(c1), int(r0), int(r1)
        t = self.table
        return float(t[r1, c1] - t[r0, c1] - t[r1, c0] + t[r0, c0])

    def cell_area(self) -> float:
        x0, x1, y0, y1 = self.extent
        h, w = self.counts.shape
        return (x1 - x0) * (y1 - y0) / (h * w)


def bin_points(
    xy: np.ndarray,
    extent: tuple[float, float, float, float],
    shape: tuple[int, int] = (FINE, FINE),
    groups: np.ndarray | None = None,
    palette: np.ndarray | None = None,
    values: np.ndarray | None = None,
) -> Density:
    """Bin points xy (N, 2) on a grid of `shape` (H, W) over `extent` (x0, x1, y0, y1).

    groups: (N,) int, each point's index into palette (K, 3) colours 0..1; points with
    a negative group are left out. values: (N,) a quantity per point, summed per cell
    (groups are then ignored); points with a non-finite value are left out. Non-finite
    points are left out. Points outside the
    extent count in its edge cells. An extent of zero width or height is widened to one
    unit around its centre.
    """
    x0, x1, y0, y1 = (float(v) for v in extent)
    if not x1 > x0:
        x0, x1 = x0 - 0.5, x0 + 0.5
    if not y1 > y0:
        y0, y1 = y0 - 0.5, y0 + 0.5
    h, w = shape
    x, y = xy[:, 0], xy[:, 1]
    keep = np.isfinite(x) & np.isfinite(y)
    coloured = groups is not None and palette is not None and values is None
    if coloured:
        keep &= groups >= 0
    if values is not None:
        keep &= np.isfinite(values)
    if not keep.all():
        x, y = x[keep], y[keep]
        groups = groups[keep] if coloured else None
        values = values[keep] if values is not None else None
    # in place where it can be: at ten million points every temporary costs a pass
    col = np.subtract(x, x0, dtype=np.float64)
    col *= w / (x1 - x0)
    np.clip(col, 0, w - 1, out=col)
    cell = col.astype(np.int64)  # (non-negative: truncation is the floor)
    row = np.subtract(y, y0, dtype=np.float64)
    row *= h / (y1 - y0)
    np.clip(row, 0, h - 1, out=row)
    cell += row.astype(np.int64) * w
    sums = value_sums = None
    if values is not None:
        counts = np.bincount(cell, minlength=h * w).astype(np.float64).reshape(h, w)
        value_sums = np.bincount(cell, weights=values, minlength=h * w).reshape(h, w)
    elif not coloured:
        counts = np.bincount(cell, minlength=h * w).astype(np.float64).reshape(h, w)
    else:
        # One pass over the points: their counts per group and cell. A cell's colour sum
        # is its groups' counts times their colours, a pass over the cells (K of them).
        cell += groups.astype(np.int64) * (h * w)
        per_group = np.bincount(cell, minlength=len(palette) * h * w).reshape(-1, h * w)
        per_group = per_group.astype(np.float64)  # (a float product takes the fast path)
        counts = per_group.sum(0).reshape(h, w)
        sums = (np.asarray(palette, np.float64).T @ per_group).T.reshape(h, w, 3)
    table = np.zeros((h + 1, w + 1))
    table[1:, 1:] = counts.cumsum(0).cumsum(1)
    return Density(counts, sums, (x0, x1, y0, y1), table, value_sums)


def _spread(grid: np.ndarray) -> np.ndarray:
    """grid (H, W, ...) summed over each cell's SPREAD × SPREAD neighbourhood, / SPREAD²."""
    h, w = grid.shape[:2]
    r = SPREAD // 2
    padded = np.zeros((h + 2 * r, w + 2 * r, *grid.shape[2:]))
    padded[r : r + h, r : r + w] = grid
    rows = sum(padded[i : i + h] for i in range(SPREAD))
    return sum(rows[:, j : j + w] for j in range(SPREAD)) / SPREAD**2


@dataclass(frozen=True)
class ValueScale:
    """How a quantity becomes a colour: `lut` (K, 3) colours 0..1 from `lo` to `hi`
    (values beyond them take the end colours)."""

    lut: np.ndarray
    lo: float
    hi: float

    def colours(self, values: np.ndarray) -> np.ndarray:
        """values (...) -> their colours (..., 3), 0..1; NaN takes the low end."""
        span = self.hi - self.lo
        t = (values - self.lo) / span if span > 0 else np.zeros_like(values)
        t = np.nan_to_num(np.clip(t, 0.0, 1.0))
        return self.lut[np.minimum((t * len(self.lut)).astype(np.int64), len(self.lut) - 1)]


def density_rgba(
    density: Density,
    alpha_floor: float = 0.69,
    dark: bool = False,
    densest: float | None = None,
    scale: ValueScale | None = None,
) -> np.ndarray:
    """The density as straight-alpha RGBA pixels (H, W, 4) uint8, row 0 at the bottom.

    Each point is spread over the SPREAD × SPREAD cells around it, as its dot would
    cover them. Opacity grows with log-density from `alpha_floor` (a lone point: the
    opacity its dot is drawn with) to 1 at the densest cell; empty cells are transparent.
    Colour is, for points with values and a `scale`, the mean value of the cell's points
    through the scale's map; else the cell's count-weighted mean group colour, or, for
    points without groups, a perceptual map (viridis) of log-density (its darkest quarter
    left out on a `dark` plot, where it would vanish).
    """
    counts = _spread(density.counts)
    top = counts.max() if densest is None else densest
    level = np.minimum(np.log1p(counts) / max(np.log1p(top), 1e-12), 1.0)  # 0..1
    alpha = np.where(counts > 0, alpha_floor + (1 - alpha_floor) * level, 0.0)
    if density.values is not None and scale is not None:
        rgb = scale.colours(_spread(density.values) / np.maximum(counts, 1e-12))
    elif density.sums is not None:
        rgb = _spread(density.sums) / np.maximum(counts, 1e-12)[..., None]
    else:
        ramp = VIRIDIS[2:] if dark else VIRIDIS
        t = level * (len(ramp) - 1)
        i = np.minimum(t.astype(np.int64), len(ramp) - 2)
        f = (t - i)[..., None]
        rgb = ramp[i] * (1 - f) + ramp[i + 1] * f
    out = np.empty((*counts.shape, 4), np.uint8)
    out[..., :3] = np.clip(rgb * 255 + 0.5, 0, 255)
    out[..., 3] = np.clip(alpha * 255 + 0.5, 0, 255)
    return out

"""Points on a plane bucketed in a grid of cells, to find the few near a spot or inside a
rectangle without a pass over all of them.

The latent plot asks on every mouse move for the data point nearest the cursor, and on
every pan or zoom step near the points for those in view. A scan of all N points (or of
an x-sorted strip of them, the whole plot's height tall) costs in proportion to N; here a
query reads only the cells its rectangle overlaps, so it costs what the points there
cost. The points are ordered cell by cell, rows of cells bottom to top: the cells of one
row are contiguous, and so are whole rows (a lasso's edges take the rows they span,
core.selection.in_polygon).

The cell of a coordinate is one monotone function of it, the same for the points and for
a query's bounds, so every point inside a rectangle is in a cell the rectangle's cells
cover; the exact comparison is then made on those candidates alone.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

# Cells along each axis: a cell's number fits 16 bits, which NumPy's stable sort orders
# by radix in a few passes (several times quicker than sorting the points by x).
CELLS = 256


def _cells(v: np.ndarray | float, lo: float, scale: float) -> np.ndarray:
    """The cell column (or row) of coordinates v: floor((v - lo) * scale), within the grid."""
    c = np.floor((np.asarray(v, np.float64) - lo) * scale)
    return np.clip(c, 0, CELLS - 1).astype(np.int64)


@dataclass(frozen=True)
class PointGrid:
    """Points (N, 2) by cell. Non-finite points are in no cell and never found.

    order: (n,) the data index of each finite point, cell by cell (row-major, row 0 at the
        bottom; within a cell, by index).
    xs, ys: (n,) their coordinates in that order (the points' own dtype).
    starts: (CELLS² + 1,) where each cell's points begin in `order`; the last is n.
    origin: (x0, y0) of the grid; scale: (sx, sy) cells per plane unit.
    """

    order: np.ndarray
    xs: np.ndarray
    ys: np.ndarray
    starts: np.ndarray
    origin: tuple[float, float]
    scale: tuple[float, float]

    @classmethod
    def build(cls, xy: np.ndarray) -> PointGrid:
        """The grid over the extent of the finite points of xy (N, 2)."""
        x, y = xy[:, 0], xy[:, 1]
        finite = np.isfinite(x) & np.isfinite(y)
        index = None if finite.all() else np.flatnonzero(finite)
        if index is not None:
            x, y = x[index], y[index]
        if len(x):
            x0, x1, y0, y1 = float(x.min()), float(x.max()), float(y.min()), float(y.max())
        else:
            x0 = x1 = y0 = y1 = 0.0
        # a point on the far edge falls in the last cell (clipped); a zero span, in one
        sx = CELLS / (x1 - x0) if x1 > x0 else 0.0
        sy = CELLS / (y1 - y0) if y1 > y0 else 0.0
        cell = _cells(y, y0, sy) * CELLS + _cells(x, x0, sx)
        order = np.argsort(cell.astype(np.uint16), kind="stable")
        starts = np.zeros(CELLS * CELLS + 1, np.int64)
        np.cumsum(np.bincount(cell, minlength=CELLS * CELLS), out=starts[1:])
        xs, ys = x[order], y[order]
        if index is not None:
            order = index[order]
        return cls(order, xs, ys, starts, (x0, y0), (sx, sy))

    def __len__(self) -> int:
        return len(self.order)

    def _span(self, lo: float, hi: float, axis: int) -> tuple[int, int]:
        """The first and last cell (inclusive) along `axis` (0: x, 1: y) over [lo, hi]."""
        a, b = _cells(np.array([lo, hi]), self.origin[axis], self.scale[axis])
        return int(a), int(b)

    def rows(self, y0: float, y1: float) -> tuple[int, int]:
        """The positions [first, last) of the points in the rows of cells over [y0, y1]:
        every point with y0 ≤ y ≤ y1 is among them."""
        r0, r1 = self._span(y0, y1, 1)
        return int(self.starts[r0 * CELLS]), int(self.starts[(r1 + 1) * CELLS])

    def candidates(self, x0: float, x1: float, y0: float, y1: float) -> np.ndarray:
        """The positions (k,) of the points in the cells the rectangle overlaps: every
        point inside it is among them."""
        if not len(self) or not (x0 <= x1 and y0 <= y1):
            return np.zeros(0, np.int64)
        c0, c1 = self._span(x0, x1, 0)
        r0, r1 = self._span(y0, y1, 1)
        first = np.arange(r0, r1 + 1) * CELLS
        lo, hi = self.starts[first + c0], self.starts[first + c1 + 1]
        if c0 == 0 and c1 == CELLS - 1:  # whole rows: one run
            return np.arange(lo[0], hi[-1])
        lengths = hi - lo
        # the runs [lo, hi) of each row, end to end
        shift = np.repeat(lo - (np.cumsum(lengths) - lengths), lengths)
        return np.arange(int(lengths.sum())) + shift

    def in_box(self, x0: float, x1: float, y0: float, y1: float) -> np.ndarray:
        """The data indices (n,) of the points with x0 ≤ x ≤ x1 and y0 ≤ y ≤ y1, in cell
        order."""
        at = self.candidates(x0, x1, y0, y1)
        x, y = self.xs[at], self.ys[at]
        # (float64 bounds: compared exactly with the points' float32, not rounded to it)
        x0, x1, y0, y1 = (np.float64(v) for v in (x0, x1, y0, y1))
        return self.order[at[(x >= x0) & (x <= x1) & (y >= y0) & (y <= y1)]]

    def nearest(self, x: float, y: float, rx: float, ry: float) -> int | None:
        """The data index of the point nearest (x, y) within the ellipse of radii rx, ry
        (distance measured in those units: the screen's pixels for the plot), if any."""
        at = self.candidates(x - rx, x + rx, y - ry, y + ry)
        if not len(at):
            return None
        dx = (self.xs[at] - np.float64(x)) / rx
        dy = (self.ys[at] - np.float64(y)) / ry
        d2 = dx * dx + dy * dy
        i = int(np.argmin(d2))
        return int(self.order[at[i]]) if d2[i] <= 1.0 else None

"""Selections of data points: which codes a lasso or box drawn on the plane encloses, the
set algebra that adds to or subtracts from a selection, and the direction between two.

A selection is a sorted array of data indices (int64, each once: `as_set`). Finding the
points inside a polygon is exact (ray casting) and vectorised: the points come bucketed in
rows of cells (core.point_grid, which the latent plot keeps for hover), so each polygon
edge tests only the points in the rows its y-span crosses, one contiguous run. A closed
outline spans each y at least twice, so the work is about twice the points in the
polygon's rows, not edges × points.
"""

from __future__ import annotations

from enum import Enum

import numpy as np

from explorer.core.figures import tile
from explorer.core.point_grid import PointGrid


class Combine(Enum):
    """How a newly drawn region meets the selection there was."""

    REPLACE = "replace"
    ADD = "add"
    SUBTRACT = "subtract"


def in_polygon(grid: PointGrid, polygon: np.ndarray) -> np.ndarray:
    """The indices (n,), sorted, of the points inside `polygon` (k, 2), k ≥ 3 vertices in
    order (closed implicitly; it may cross itself: even-odd rule).

    grid: the points, as `PointGrid.build` buckets them. A horizontal ray goes right from
    each point; an edge crosses it when the point's y lies in the edge's half-open y-span
    [min, max) and the edge passes right of the point. An odd count of crossings is inside.
    """
    polygon = np.asarray(polygon, dtype=np.float64)
    if len(polygon) < 3 or not len(grid):
        return np.zeros(0, np.int64)
    x1, y1 = polygon[:, 0], polygon[:, 1]
    x2, y2 = np.roll(x1, -1), np.roll(y1, -1)
    first, last = grid.rows(y1.min(), y1.max())
    inside = np.zeros(last - first, bool)  # over the rows of the polygon's y-range
    for ax, ay, bx, by in zip(x1, y1, x2, y2, strict=True):
        if ay == by:  # a horizontal edge crosses no horizontal ray
            continue
        low, high = min(ay, by), max(ay, by)
        a, b = grid.rows(low, high)
        py = grid.ys[a:b]
        edge_x = ax + (py - ay) * ((bx - ax) / (by - ay))
        inside[a - first : b - first] ^= (py >= low) & (py < high) & (grid.xs[a:b] < edge_x)
    return np.sort(grid.order[first:last][inside])


def box_polygon(x0: float, x1: float, y0: float, y1: float) -> np.ndarray:
    """The rectangle between two corners as a polygon (4, 2)."""
    return np.array([[x0, y0], [x1, y0], [x1, y1], [x0, y1]], dtype=np.float64)


def as_set(indices: np.ndarray) -> np.ndarray:
    """Indices (n,) as a selection: sorted, each once, int64. (Sort and drop repeats:
    np.unique's hashing took seconds for a million indices.)"""
    out = np.sort(np.asarray(indices, np.int64))
    if len(out) > 1:
        out = out[np.concatenate([[True], out[1:] != out[:-1]])]
    return out


def combine(current: np.ndarray, drawn: np.ndarray, how: Combine) -> np.ndarray:
    """The selection `current` after a region holding the points `drawn` was drawn (both
    selections: sorted, each index once)."""
    if how is Combine.ADD:
        return as_set(np.concatenate([current, drawn]))
    if how is Combine.SUBTRACT:
        return current[~np.isin(current, drawn, kind="table")] if len(drawn) else current
    return drawn


def means(codes: np.ndarray, a: np.ndarray, b: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The mean codes (d,) of selections b and a, in that order: the direction from B to A,
    the attribute vector of the VAE literature (what A has that B has not), is
    mean(A) − mean(B). Raises ValueError if either selection is empty."""
    if not len(a) or not len(b):
        raise ValueError("both selections need at least one point")
    return codes[b].astype(np.float64).mean(0), codes[a].astype(np.float64).mean(0)


def sheet(images: np.ndarray) -> np.ndarray:
    """Images (n, H, W) or (n, H, W, C) uint8 tiled in a near-square grid, row by row, on
    white: (rows·H + gaps, cols·W + gaps, C) floats in [0, 1]."""
    images = np.asarray(images)
    if images.ndim == 3:
        images = images[..., None]
    cols = max(1, int(np.ceil(np.sqrt(len(images)))))
    rows = max(1, int(np.ceil(len(images) / cols)))
    return tile(images.astype(np.float32) / 255.0, rows, cols)


def group_direction(codes: np.ndarray, members: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The means of the codes (N, d) outside and inside a group, `members` (N,) bool: the
    direction from the rest to the group is their difference. Raises ValueError when the
    group or the rest is empty."""
    inside, outside = np.flatnonzero(members), np.flatnonzero(~members)
    if not len(inside) or not len(outside):
        raise ValueError("the group and the rest both need at least one point")
    return codes[outside].astype(np.float64).mean(0), codes[inside].astype(np.float64).mean(0)


def walk(z: np.ndarray, direction: np.ndarray, steps: np.ndarray) -> np.ndarray:
    """The codes z + t·direction for each t of `steps` (k,): (k, d)."""
    return np.asarray(z, np.float64)[None] + np.asarray(steps, np.float64)[:, None] * direction

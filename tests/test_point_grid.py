"""The grid the latent plot finds points in (explorer.core.point_grid, no Qt): exact answers,
and work bounded by the points where a query looks, not by all of them."""

from __future__ import annotations

import numpy as np

from explorer.core.point_grid import PointGrid
from explorer.core.selection import box_polygon, in_polygon


def clusters(n: int, seed: int = 0) -> np.ndarray:
    """(n, 2) float32 codes in ten overlapping Gaussian classes, as a trained plot has."""
    rng = np.random.default_rng(seed)
    centres = rng.normal(scale=2.0, size=(10, 2))
    return (centres[rng.integers(0, 10, n)] + rng.normal(size=(n, 2))).astype(np.float32)


def test_a_box_holds_exactly_the_points_between_its_bounds():
    xy = clusters(20_000)
    xy[:3] = [np.nan, 0.0], [0.0, np.inf], [-np.inf, np.nan]  # in no cell: never found
    grid = PointGrid.build(xy)
    assert len(grid) == len(xy) - 3
    x, y = xy[:, 0].astype(np.float64), xy[:, 1].astype(np.float64)
    finite = np.isfinite(x) & np.isfinite(y)
    # bounds on a point's own float32 value and a hair either side of it, and beyond all
    at = float(xy[10, 0])
    for box in (
        (at, at + 1.0, -1.0, 2.0),
        (np.nextafter(at, np.inf), at + 1.0, -1.0, 2.0),
        (np.nextafter(at, -np.inf), at + 1.0, -1.0, 2.0),
        (-1e30, 1e30, -np.inf, np.inf),
        (100.0, 200.0, 0.0, 1.0),
    ):
        x0, x1, y0, y1 = box
        want = np.flatnonzero(finite & (x >= x0) & (x <= x1) & (y >= y0) & (y <= y1))
        np.testing.assert_array_equal(np.sort(grid.in_box(*box)), want)


def test_the_nearest_point_is_the_nearest_within_the_radius():
    xy = clusters(20_000, seed=1)
    grid = PointGrid.build(xy)
    rng = np.random.default_rng(2)
    x, y = xy[:, 0].astype(np.float64), xy[:, 1].astype(np.float64)
    found = 0
    for px, py in rng.uniform(-6, 6, size=(200, 2)):
        rx, ry = 0.05, 0.02  # a wider plane unit across than up, as on a screen
        d2 = ((x - px) / rx) ** 2 + ((y - py) / ry) ** 2
        want = int(np.argmin(d2)) if d2.min() <= 1.0 else None
        assert grid.nearest(px, py, rx, ry) == want
        found += want is not None
    assert 20 < found < 200  # queries that find one and queries that find none


def test_points_on_a_line_and_no_points():
    xy = np.c_[np.full(50, 3.0), np.arange(50.0)]  # no width: one column of cells
    grid = PointGrid.build(xy)
    np.testing.assert_array_equal(np.sort(grid.in_box(3.0, 3.0, 10.0, 12.0)), [10, 11, 12])
    assert grid.nearest(3.1, 20.2, 0.5, 0.5) == 20
    empty = PointGrid.build(np.zeros((0, 2), np.float32))
    assert len(empty.in_box(-1, 1, -1, 1)) == 0 and empty.nearest(0, 0, 1, 1) is None


def test_a_lasso_over_float32_points_leaves_out_the_ones_in_no_cell():
    xy = clusters(5000, seed=3)
    xy[7] = np.nan
    box = box_polygon(-1.0, 1.5, -0.5, 2.0)
    x, y = xy[:, 0].astype(np.float64), xy[:, 1].astype(np.float64)
    want = np.flatnonzero((x >= -1.0) & (x < 1.5) & (y >= -0.5) & (y < 2.0))
    assert len(want) > 100
    np.testing.assert_array_equal(in_polygon(PointGrid.build(xy), box), want)


def test_the_cursor_looks_at_the_points_near_it_not_a_strip_of_the_plot():
    """A hover at a million points, the whole cloud in a 900 × 700 px view: the nearest
    point within 8 px is found among the points of a few cells around the cursor. (The
    x-sorted index it replaces scanned the points in an x-strip the plot's height tall.)"""
    xy = clusters(1_000_000)
    grid = PointGrid.build(xy)
    x, y = xy[:, 0], xy[:, 1]
    px = (x.max() - x.min()) / 900  # plane units per pixel
    py = (y.max() - y.min()) / 700
    rx, ry = 8 * px, 8 * py
    cx, cy = np.median(x), np.median(y)  # amid the crowd
    touched = len(grid.candidates(cx - rx, cx + rx, cy - ry, cy + ry))
    in_box = len(grid.in_box(cx - rx, cx + rx, cy - ry, cy + ry))
    strip = np.count_nonzero(np.abs(x - cx) <= rx)
    assert in_box <= touched < 2 * in_box  # the box's own points, and the cells' margins
    assert strip > 5 * touched
    assert grid.nearest(cx, cy, rx, ry) is not None

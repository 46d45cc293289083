"""How the latent plot draws its data points: one by one, or as their density.

For a data set of more than `ALWAYS_POINTS` points, where the view holds more than
`POINTS_AT_MOST` of them, their density is drawn instead (an image binned once per set of
codes, explorer.core.density), and the points themselves only where the view holds few
enough to tell apart (those inside it), so a pan or zoom step costs what the screen's
pixels cost, not a million points'. The image spreads each point over a dot's width in the
points' own colours, so the two agree where the view switches between them.

`LevelOfDetail` is a mixin of the latent plot (explorer.ui.latent_view), which calls
`_init_levels` once while it is built and `_set_points` with each new set of points; its
hover, clicks and selections find the points through `point_grid` and `xy`, and its range
is fitted to their `_extent`. It reads two attributes of the plot: `point_style` (the
user's point size) and `_dark` (the palette).
"""

from __future__ import annotations

import logging
from typing import ClassVar

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QTimer
from PySide6.QtGui import QColor

from explorer.core.density import FINE, Density, ValueScale, bin_points, density_rgba
from explorer.core.point_grid import PointGrid
from explorer.ui.cached import cache_pixmaps
from explorer.ui.density_image import DensityImage
from explorer.ui.point_cloud import PointCloud
from explorer.ui.workers import LatestJob

log = logging.getLogger(__name__)


def _bucket(xy: np.ndarray) -> tuple[np.ndarray, PointGrid]:
    """The points xy (N, 2) and their grid (on a worker thread; `xy` tells which set)."""
    return xy, PointGrid.build(xy)


class LevelOfDetail:
    """The data points of a pg.PlotWidget, drawn at the level of detail its view needs."""

    # The most points drawn one by one in a view; a view holding more shows their density.
    # The point item draws this many well within a frame on a laptop's CPU.
    POINTS_AT_MOST: ClassVar[int] = 20_000
    # Data sets up to this size are always drawn as points (as they were before density
    # came): they still draw at a few frames' cost and keep their look.
    ALWAYS_POINTS: ClassVar[int] = 100_000
    # The most points binned anew for a zoomed-in view's own density (a few frames' work).
    DETAIL_AT_MOST: ClassVar[int] = 2_000_000

    def _init_levels(self) -> None:
        """The point items, added to the plot, and the state they are drawn from."""
        # The data points: one item for all groups, cached as one pixmap, so a marker
        # move repaints a pixmap and not 60k points.
        self.points = PointCloud()
        cache_pixmaps(self.points)
        self.addItem(self.points)
        # Where the view holds too many points to draw: their density, under the points
        # (not cached: every pan or zoom redraws it anyway, a cache would only add a copy).
        self.density = DensityImage()
        self.density.setZValue(-1)
        self.addItem(self.density)
        self._density: Density | None = None  # the binned codes, None while drawn as points
        # Zoomed in on the density: the points in view binned at the screen's resolution
        # once the view rests (not in the view box's bounds: it covers the view alone).
        self.detail = DensityImage()
        self.detail.setZValue(-1)
        self.addItem(self.detail, ignoreBounds=True)
        self._detail_timer = QTimer(self, singleShot=True, interval=150)
        self._detail_timer.timeout.connect(self._show_detail)
        self._palette: np.ndarray | None = None  # (K, 3) the groups' colours, 0..1
        self._xy = np.zeros((0, 2))  # (N, 2) every data point on the plane
        self._group_of = np.zeros(0, np.int16)  # (N,) each point's index in `groups`
        self._colours: list[QColor] = []  # each group's
        self._extent: tuple[float, float, float, float] | None = None  # x0, x1, y0, y1
        self._point_size = 5
        # the quantity the points are coloured by, (N,), and its map; None: groups' colours
        self._values: np.ndarray | None = None
        self._scale: ValueScale | None = None
        # Where the data points are drawn, bucketed in a grid so the point near the cursor
        # and the points in view are found in the few cells there, not a scan of every
        # point on each mouse move or pan step; built when first needed, not on every
        # refresh (training refreshes each epoch).
        self._grid: PointGrid | None = None
        # A large set is bucketed on a worker thread meanwhile (NumPy's sort releases the
        # GIL; at ten million points it would stall the first hover after an epoch): its
        # points are looked up (hover focus, points in view) once it is ready, the density
        # shown until then. A LatestJob: one set at a time, the newest, and its outcome
        # reaches the GUI thread only while this view exists (workers.TaskThread).
        self._bucketing = False  # a grid of the current points is being built
        self._bucketer = LatestJob(self)
        self._bucketer.done.connect(self._bucketed)
        self._bucketer.failed.connect(self._bucketing_failed)
        self.plotItem.vb.sigRangeChanged.connect(self._show_level)

    def _set_points(
        self,
        xy: np.ndarray,
        groups: list[tuple[str, str, np.ndarray]],
        values: np.ndarray | None = None,
        scale: ValueScale | None = None,
    ) -> None:
        """Every data point xy (N, 2) in its group's colour (or, with `values` (N,), the
        colour `scale` gives its value): drawn one by one when they are few, else binned
        into the density image, and the level the view needs shown."""
        self._grid = None
        self._xy = xy
        self._values, self._scale = values, scale
        self._point_size = self.point_style.size or (5 if len(xy) < 5000 else 3)
        self._colours = [pg.mkColor(colour) for _, colour, _ in groups]
        if len(xy):
            x, y = xy[:, 0], xy[:, 1]  # (column by column: far quicker than min(axis=0))
            self._extent = (float(x.min()), float(x.max()), float(y.min()), float(y.max()))
        else:
            self._extent = None
        self.detail.clear()
        self._bucketing = False
        if len(xy) <= self.ALWAYS_POINTS:
            self._density = None
            self.density.clear()
            drawn = [(index, c) for (_, _, index), c in zip(groups, self._colours, strict=True)]
            self.points.set_points(xy, drawn, self._point_size)
            return
        self._group_of = np.full(len(xy), -1, np.int16)
        for g, (_, _, index) in enumerate(groups):
            self._group_of[index] = g
        # One neutral group (points without labels): shaded by density alone.
        coloured = len(groups) > 1 or (groups and groups[0][0] != "")
        self._palette = (
            np.array([[c.redF(), c.greenF(), c.blueF()] for c in self._colours])
            if coloured
            else None
        )
        self._bucket_later()
        self._density = self._bin(slice(None), self._extent)
        self.density.set_image(self._rgba(self._density), self._extent)
        self._show_level()

    def _bin(
        self,
        index: np.ndarray | slice,
        extent: tuple[float, float, float, float],
        shape: tuple[int, int] = (FINE, FINE),
    ) -> Density:
        """The points `index` (n,) (or a slice: all, without a copy) binned over `extent`
        on a grid of `shape` (H, W)."""
        groups = self._group_of[index] if self._palette is not None else None
        values = self._values[index] if self._values is not None else None
        return bin_points(self._xy[index], extent, shape, groups, self._palette, values)

    def _rgba(self, density: Density, densest: float | None = None) -> np.ndarray:
        alpha = self._colours[0].alphaF() if self._colours else 1.0  # a lone dot's
        return density_rgba(
            density, alpha_floor=alpha, dark=self._dark, densest=densest, scale=self._scale
        )

    def _in_box(self, x0: float, x1: float, y0: float, y1: float) -> np.ndarray | None:
        """The indices (n,) of the data points inside the rectangle; None while they are
        being bucketed."""
        grid = self.point_grid()
        return None if grid is None else grid.in_box(x0, x1, y0, y1)

    def _show_level(self) -> None:
        """The points inside the view when they are few enough to draw, else the density."""
        if self._density is None:
            return
        (x0, x1), (y0, y1) = self.plotItem.vb.viewRange()
        # a dot's width beyond the view's edges: dots cut by an edge are drawn whole
        px, py = self.plotItem.vb.viewPixelSize()
        pad = self._point_size
        x0, x1, y0, y1 = x0 - pad * px, x1 + pad * px, y0 - pad * py, y1 + pad * py
        inside = None
        # the density's count is exact to a cell: the points are looked up only when near
        if self._density.count_in(x0, x1, y0, y1) <= 4 * self.POINTS_AT_MOST:
            inside = self._in_box(x0, x1, y0, y1)
            if inside is not None and len(inside) > self.POINTS_AT_MOST:
                inside = None
        # the view's own density is stale once the view moves: the fine image until it rests
        self.detail.set_drawn(False)
        self.density.set_drawn(inside is None)
        self._detail_timer.start()
        if inside is None:
            if len(self.points.xy):
                self.points.set_points(np.zeros((0, 2)), [], self._point_size)
            return
        groups = self._group_of[inside]
        self.points.set_points(
            self._xy[inside],
            [(np.flatnonzero(groups == g), c) for g, c in enumerate(self._colours)],
            self._point_size,
        )

    def _show_detail(self) -> None:
        """Once the view rests zoomed in on the density (its cells larger than the screen's
        pixels), the points in view binned anew at the screen's resolution: the blocks of the
        fine image become dots as the points' own would be, and the density meets the points
        drawn one by one at the next zoom step without a jump."""
        if self._density is None or not self.density.drawn:
            return
        vb = self.plotItem.vb
        (x0, x1), (y0, y1) = vb.viewRange()
        w, h = max(int(vb.width()), 1), max(int(vb.height()), 1)
        fine = self._density
        fine_w = fine.counts.shape[1] * (x1 - x0) / (fine.extent[1] - fine.extent[0])
        if fine_w >= w / 1.5 or fine.count_in(x0, x1, y0, y1) > self.DETAIL_AT_MOST:
            return  # the fine image is as sharp as the screen, or too many points to bin now
        view = (x0, x1, y0, y1)
        inside = self._in_box(*view)
        if inside is None:
            return  # (shown once the points are bucketed: _show_level starts this again)
        detail = self._bin(inside, view, (h, w))
        # full opacity where the fine grid's densest cell would be, as dense per area
        densest = fine.counts.max() * detail.cell_area() / fine.cell_area()
        self.detail.set_image(self._rgba(detail, densest=max(densest, 1.0)), view)
        self.detail.set_drawn(True)
        self.density.set_drawn(False)

    def close(self) -> bool:
        # pyqtgraph's close drops the plot item: nothing may draw the levels after it
        self._detail_timer.stop()
        self._density = None
        return super().close()

    @property
    def xy(self) -> np.ndarray:
        """(N, 2) every data point where the plot puts it."""
        return self._xy

    def point_grid(self) -> PointGrid | None:
        """Every data point bucketed in its grid (core.point_grid); None while a large set
        is being bucketed."""
        if self._grid is None and not self._bucketing:
            self._grid = PointGrid.build(self._xy)
        return self._grid

    def _bucket_later(self) -> None:
        """Bucket the points on a worker thread; _show_level runs again once they are."""
        self._bucketing = True
        self._bucketer.submit(_bucket, self._xy)

    def _bucketed(self, built: tuple[np.ndarray, PointGrid]) -> None:
        xy, grid = built
        if xy is self._xy and self._bucketing:  # (not a set replaced meanwhile)
            self._grid, self._bucketing = grid, False
            self._show_level()

    def _bucketing_failed(self, message: str) -> None:
        """Looked up without a grid no more: the next lookup builds one here, and fails
        where it is seen."""
        log.warning("bucketing the plotted points failed: %s", message)
        self._bucketing = False

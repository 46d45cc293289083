"""The selection drawn on the latent plot: the other points veiled, the selected ones drawn
over the veil in their own colours, and a marker where the image under the gallery's
cursor sits.

A veil rather than a highlight colour: every colour is some class's (or factor value's) in
one palette or another, while a dimmed rest reads as "not selected" in any. Up to
`POINTS_AT_MOST` selected points are drawn one by one; more are drawn as their density (as
the plot draws a million points), so a selection shows whether the plot draws points or
their density.
"""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QObject, QRectF
from PySide6.QtGui import QColor, QPainter, QPalette

from explorer.core.density import FINE, bin_points, density_rgba
from explorer.ui.density_image import DensityImage
from explorer.ui.latent_view import LatentView
from explorer.ui.plot_marks import Symbol
from explorer.ui.point_cloud import PointCloud
from explorer.ui.selection_model import SelectionModel
from explorer.ui.theme import PlotColours, follow_palette

_DOT_PX = 6  # a selected point's dot: a pixel wider than the plot's, so it covers it
# cells along each axis of the selection's density: half the plot's (FINE), a quarter of
# the work each time the selection changes, over a part of the plot
_DENSITY_CELLS = FINE // 2
_VEIL_ALPHA = 190  # of the plot's background over the points not selected


class Veil(pg.GraphicsObject):
    """The visible part of the plot, filled with a translucent colour."""

    def __init__(self):
        super().__init__()
        self.colour = QColor(0, 0, 0, 0)

    def boundingRect(self) -> QRectF:
        vb = self.getViewBox()
        return QRectF() if vb is None else vb.viewRect()

    def viewRangeChanged(self) -> None:
        self.prepareGeometryChange()

    def paint(self, p: QPainter, *args) -> None:
        p.fillRect(self.boundingRect(), self.colour)


class SelectionOverlay(QObject):
    POINTS_AT_MOST = 20_000  # as many as the plot itself draws one by one

    def __init__(self, view: LatentView, selection: SelectionModel):
        super().__init__(view)
        self.view, self.selection = view, selection
        self.veil = Veil()
        self.points = PointCloud()
        self.density = DensityImage()
        self.ink = QColor("#111")  # the selection's density, the thumbnail's marker
        self.marker = Symbol("s", 16, pg.mkPen(self.ink, width=3))
        # over the plot's points (z 0) and density (-1), under the marks that follow the
        # cursor (5 and up)
        for z, item in enumerate((self.veil, self.density, self.points), start=2):
            item.setZValue(z)
        self.marker.setZValue(11)
        for item in (self.veil, self.points, self.density, self.marker):
            view.addItem(item, ignoreBounds=True)  # never rescale the plot
        self.veil.hide()
        follow_palette(view, self._recolour)
        s = view.session
        selection.changed.connect(self.redraw)
        for signal in (s.codesChanged, s.planeChanged, s.datasetChanged, s.colourByChanged):
            signal.connect(self.redraw)  # (after the view's own slot: its points are new)

    def _recolour(self, palette: QPalette) -> None:
        colours = PlotColours.of(palette)
        self.veil.colour = QColor(colours.background)
        self.veil.colour.setAlpha(_VEIL_ALPHA)
        self.ink = QColor(colours.text)
        self.marker.setPen(pg.mkPen(self.ink, width=3))
        self.redraw()

    def redraw(self) -> None:
        """The selected points where the plot draws them now, the rest veiled."""
        xy, index = self.view.xy, self.selection.indices
        index = index[index < len(xy)]
        self.veil.setVisible(len(index) > 0)
        self.veil.update()
        if len(index) <= self.POINTS_AT_MOST:
            self.density.clear()
            # each in its group's colour (opaque): which class it is stays readable
            group_of = np.full(len(xy), -1)
            for g, (_, _, members) in enumerate(self.view.groups):
                group_of[members] = g
            chosen = group_of[index]
            groups = []
            for g, (_, colour, _) in enumerate(self.view.groups):
                c = pg.mkColor(colour)
                c.setAlpha(255)
                groups.append((np.flatnonzero(chosen == g), c))
            groups.append((np.flatnonzero(chosen < 0), self.ink))
            self.points.set_points(xy[index], groups, _DOT_PX)
            return
        self.points.set_points(np.zeros((0, 2)), [], _DOT_PX)
        chosen = xy[index]
        x, y = chosen[:, 0], chosen[:, 1]
        extent = (float(x.min()), float(x.max()), float(y.min()), float(y.max()))
        palette = np.array([[self.ink.redF(), self.ink.greenF(), self.ink.blueF()]])
        grid = (_DENSITY_CELLS, _DENSITY_CELLS)
        binned = bin_points(chosen, extent, grid, np.zeros(len(chosen), int), palette)
        self.density.set_image(density_rgba(binned, alpha_floor=0.9), extent)

    def mark(self, index: int) -> None:
        """A marker on data point `index` (a thumbnail under the cursor); -1: none."""
        xy = self.view.xy
        if 0 <= index < len(xy):
            self.marker.place(*xy[index])
        else:
            self.marker.hide()

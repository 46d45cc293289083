"""The selection drawn on the latent plot: its points highlighted over the others, and a
marker where the image under the gallery's cursor sits.

Up to `POINTS_AT_MOST` selected points are drawn one by one, in the selection's colour
over the plot's own dots; more are drawn as their density (as the plot draws a million
points), so a selection shows whether the plot draws points or their density.
"""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QObject
from PySide6.QtGui import QColor

from explorer.core.density import FINE, bin_points, density_rgba
from explorer.ui.density_image import DensityImage
from explorer.ui.latent_view import LatentView
from explorer.ui.plot_marks import Symbol
from explorer.ui.point_cloud import PointCloud
from explorer.ui.selection_model import SelectionModel
from explorer.ui.selection_tool import SELECTION_COLOUR

_DOT_PX = 6  # a selected point's dot: a pixel wider than the plot's, so it covers it


class SelectionOverlay(QObject):
    POINTS_AT_MOST = 20_000  # as many as the plot itself draws one by one

    def __init__(self, view: LatentView, selection: SelectionModel):
        super().__init__(view)
        self.view, self.selection = view, selection
        self.colour = QColor(SELECTION_COLOUR)
        self.points = PointCloud()
        self.density = DensityImage()
        # under the marks that follow the cursor (z 5 and up), over the plot's points
        self.points.setZValue(3)
        self.density.setZValue(3)
        self.marker = Symbol("s", 16, pg.mkPen(self.colour, width=3))
        self.marker.setZValue(11)
        for item in (self.points, self.density, self.marker):
            view.addItem(item, ignoreBounds=True)  # never rescale the plot
        s = view.session
        selection.changed.connect(self.redraw)
        for signal in (s.codesChanged, s.planeChanged, s.datasetChanged):
            signal.connect(self.redraw)  # (after the view's own slot: its points are new)

    def redraw(self) -> None:
        """The selected points where the plot draws them now."""
        xy, index = self.view.xy, self.selection.indices
        index = index[index < len(xy)]
        if len(index) <= self.POINTS_AT_MOST:
            self.density.clear()
            group = [(np.arange(len(index)), self.colour)]
            self.points.set_points(xy[index], group, _DOT_PX)
            return
        self.points.set_points(np.zeros((0, 2)), [], _DOT_PX)
        chosen = xy[index]
        x, y = chosen[:, 0], chosen[:, 1]
        extent = (float(x.min()), float(x.max()), float(y.min()), float(y.max()))
        palette = np.array([[self.colour.redF(), self.colour.greenF(), self.colour.blueF()]])
        binned = bin_points(chosen, extent, (FINE, FINE), np.zeros(len(chosen), int), palette)
        self.density.set_image(density_rgba(binned, alpha_floor=0.9), extent)

    def mark(self, index: int) -> None:
        """A marker on data point `index` (a thumbnail under the cursor); -1: none."""
        xy = self.view.xy
        if 0 <= index < len(xy):
            self.marker.place(*xy[index])
        else:
            self.marker.hide()

"""Grid lines of a plot drawn as an item of its own, straight into the view.

pyqtgraph draws a plot's grid as part of its axes: each axis then spans the whole plot,
and where the axes are cached (explorer.ui.cached) every pan or zoom step re-renders two
plot-sized pixmaps and blends them over the plot, the largest share of a step on a large
data set. Here the lines are drawn at the axes' own tick positions and fading (major
lines stronger, as pyqtgraph fades them), a few dozen cosmetic lines with no pixmap,
while the axes keep only their ticks and labels, cached as before.
"""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QLineF, QRectF
from PySide6.QtGui import QColor, QPainter, QPen


class PlotGrid(pg.GraphicsObject):
    """Grid lines at the ticks of `plot`'s bottom and left axes, `alpha` (0..1) at most."""

    def __init__(self, plot: pg.PlotItem, alpha: float = 0.15):
        super().__init__()
        self.plot = plot
        self.alpha = alpha
        self.setZValue(-10)  # under everything in the view
        plot.vb.sigRangeChanged.connect(self.prepareGeometryChange)
        plot.vb.sigResized.connect(self.prepareGeometryChange)

    def boundingRect(self) -> QRectF:
        return self.plot.vb.viewRect()

    def paint(self, p: QPainter, option, widget=None) -> None:
        vb = self.plot.vb
        rect = vb.viewRect()
        p.setRenderHint(QPainter.RenderHint.Antialiasing, False)
        for name, vertical in (("bottom", True), ("left", False)):
            axis = self.plot.getAxis(name)
            lo, hi = (rect.left(), rect.right()) if vertical else (rect.top(), rect.bottom())
            pixels = vb.width() if vertical else vb.height()
            if pixels <= 0 or not hi > lo:
                continue
            colour = QColor(axis.pen().color())
            for level, (_, values) in enumerate(axis.tickValues(lo, hi, pixels)):
                # pyqtgraph's own fading: finer levels and crowded ticks fainter
                fade = np.clip(0.05 * pixels / (len(values) + 1), 0.0, 1.0) / (level + 1)
                colour.setAlphaF(float(self.alpha * fade))
                pen = QPen(colour, 0)  # cosmetic: a pixel wide at any zoom
                p.setPen(pen)
                for v in values:
                    if vertical:
                        p.drawLine(QLineF(v, rect.top(), v, rect.bottom()))
                    else:
                        p.drawLine(QLineF(rect.left(), v, rect.right(), v))

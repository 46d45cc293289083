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
        # (alpha 0..1, lines) per tick level, worked out once per view range: a marker
        # move repaints part of the view many times a second within one range
        self._lines: list[tuple[float, list[QLineF]]] | None = None
        plot.vb.sigRangeChanged.connect(self._moved)
        plot.vb.sigResized.connect(self._moved)

    def _moved(self) -> None:
        self.prepareGeometryChange()
        self._lines = None

    def boundingRect(self) -> QRectF:
        return self.plot.vb.viewRect()

    def _grid(self) -> list[tuple[float, list[QLineF]]]:
        vb = self.plot.vb
        rect = vb.viewRect()
        out = []
        for name, vertical in (("bottom", True), ("left", False)):
            lo, hi = (rect.left(), rect.right()) if vertical else (rect.top(), rect.bottom())
            pixels = vb.width() if vertical else vb.height()
            if pixels <= 0 or not hi > lo:
                continue
            ticks = self.plot.getAxis(name).tickValues(lo, hi, pixels)
            for level, (_, values) in enumerate(ticks):
                # pyqtgraph's own fading: finer levels and crowded ticks fainter
                fade = np.clip(0.05 * pixels / (len(values) + 1), 0.0, 1.0) / (level + 1)
                if vertical:
                    lines = [QLineF(v, rect.top(), v, rect.bottom()) for v in values]
                else:
                    lines = [QLineF(rect.left(), v, rect.right(), v) for v in values]
                out.append((float(self.alpha * fade), lines))
        return out

    def paint(self, p: QPainter, option, widget=None) -> None:
        if self._lines is None:
            self._lines = self._grid()
        p.setRenderHint(QPainter.RenderHint.Antialiasing, False)
        colour = QColor(self.plot.getAxis("bottom").pen().color())  # (follows the palette)
        for alpha, lines in self._lines:
            colour.setAlphaF(alpha)
            p.setPen(QPen(colour, 0))  # cosmetic: a pixel wide at any zoom
            p.drawLines(lines)

"""Marks that follow the cursor over the latent plot: its marker, the focused point's ring
and its posterior's ellipses.

They change on every mouse move, so they are Qt's own graphics items: the scene finds
their bounds and paints them without calling into Python. pyqtgraph's scatter and curve
items compute their bounds and pixel sizes in Python each time the scene asks, several
times per repaint, which on a 64-dimensional model's window made them a large share of
a move's frame (`scripts/bench_ui.py --only hover`, the whole frame).

Both mirror the `getData()` of the pyqtgraph items beside them: (xs, ys) arrays.
"""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from pyqtgraph.graphicsItems.ScatterPlotItem import Symbols
from PySide6.QtGui import QPainterPath, QPen, QTransform
from PySide6.QtWidgets import QGraphicsItem, QGraphicsPathItem


def _symbol_path(symbol: str, size_px: float) -> QPainterPath:
    """pyqtgraph's symbol of that name, `size_px` across, upright on the screen."""
    # (pyqtgraph draws its unit symbols in a y-up frame: flipped for screen pixels)
    return QTransform.fromScale(size_px, -size_px).map(Symbols[symbol])


class Symbol(QGraphicsPathItem):
    """A symbol of fixed size in screen pixels at one point of the plot, or hidden."""

    def __init__(self, symbol: str, size_px: float, pen: QPen):
        super().__init__()
        self.size_px = size_px
        self.setFlag(QGraphicsItem.GraphicsItemFlag.ItemIgnoresTransformations)
        self.set_symbol(symbol)
        self.setPen(pen)
        self.hide()

    def set_symbol(self, symbol: str) -> None:
        self.setPath(_symbol_path(symbol, self.size_px))

    def place(self, x: float, y: float) -> None:
        self.setPos(x, y)
        self.show()

    def getData(self) -> tuple[np.ndarray, np.ndarray]:
        if not self.isVisible():
            return np.zeros(0), np.zeros(0)
        return np.array([self.pos().x()]), np.array([self.pos().y()])


class Outline(QGraphicsPathItem):
    """A line through points in plot coordinates, drawn with a cosmetic copy of `pen` (its
    width in screen pixels at any zoom)."""

    def __init__(self, pen: QPen):
        super().__init__()
        pen = QPen(pen)
        pen.setCosmetic(True)
        self.setPen(pen)
        self._xy = np.zeros((0, 2))

    def set_points(self, xy: np.ndarray) -> None:
        """xy: (k, 2) in plot coordinates; (0, 2) draws nothing."""
        self._xy = np.asarray(xy, dtype=np.float64)
        if len(self._xy):
            self.setPath(pg.arrayToQPath(self._xy[:, 0], self._xy[:, 1]))
        else:
            self.setPath(QPainterPath())

    def getData(self) -> tuple[np.ndarray, np.ndarray]:
        return self._xy[:, 0], self._xy[:, 1]

"""Tens of thousands of scatter points as one plot item, built in milliseconds.

pyqtgraph's ScatterPlotItem computes a style key per point in Python, every time the
codes change (each training epoch, each plane change). Here a
group of points shares one pre-drawn dot, and all of a group's dots are drawn by a
single QPainter.drawPixmapFragments call fed straight from a NumPy array (the
fragment struct is ten doubles: x, y, source rect, scale x/y, rotation, opacity).
Points keep a fixed size in screen pixels whatever the zoom.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pyqtgraph as pg
import shiboken6
from PySide6.QtCore import QPointF, QRectF, Qt
from PySide6.QtGui import QColor, QPainter, QPixmap

_FRAGMENT_FIELDS = 10  # QPainter.PixmapFragment: x, y, sx, sy, w, h, scale x, y, rotation, opacity


def dot_pixmap(colour: QColor, size_px: float, dpr: float) -> QPixmap:
    """An antialiased disc of `size_px` (logical pixels) drawn at device pixel ratio dpr."""
    side = int(np.ceil((size_px + 2) * dpr))
    pixmap = QPixmap(side, side)
    pixmap.fill(Qt.GlobalColor.transparent)
    p = QPainter(pixmap)
    p.setRenderHint(QPainter.RenderHint.Antialiasing)
    p.setPen(Qt.PenStyle.NoPen)
    p.setBrush(colour)
    r = size_px * dpr / 2
    p.drawEllipse(QPointF(side / 2, side / 2), r, r)
    p.end()
    return pixmap


class PointCloud(pg.GraphicsObject):
    """Points (N, 2) in plot coordinates, drawn group by group in a colour each."""

    def __init__(self):
        super().__init__()
        self.xy = np.zeros((0, 2))
        self.groups: list[tuple[np.ndarray, QColor]] = []  # (point indices, colour)
        self.size_px = 5.0
        self.extent: tuple[float, float, float, float] | None = None  # x0, x1, y0, y1
        self._bounds = QRectF()
        self._dots: dict[tuple[int, float], QPixmap] = {}  # (colour rgba, dpr) -> dot
        self._fragments = np.zeros((0, _FRAGMENT_FIELDS))

    def set_points(
        self, xy: np.ndarray, groups: Sequence[tuple[np.ndarray, QColor]], size_px: float
    ) -> None:
        self.prepareGeometryChange()
        self.xy = np.asarray(xy, dtype=np.float64)
        self.groups = list(groups)
        if size_px != self.size_px:
            self._dots.clear()
        self.size_px = size_px
        if len(self.xy):
            # column by column: min(axis=0) of an (N, 2) array strides across rows, far slower
            x, y = self.xy[:, 0], self.xy[:, 1]
            self.extent = (float(x.min()), float(x.max()), float(y.min()), float(y.max()))
            x0, x1, y0, y1 = self.extent
            self._bounds = QRectF(x0, y0, x1 - x0, y1 - y0)
        else:
            self.extent = None
            self._bounds = QRectF()
        self.informViewBoundsChanged()
        self.update()

    # -- what the view box asks of an item ---------------------------------------------
    def dataBounds(self, ax: int, frac: float = 1.0, orthoRange=None):
        if self.extent is None:
            return None, None
        return self.extent[2 * ax : 2 * ax + 2]

    def pixelPadding(self) -> float:
        return self.size_px / 2 + 1

    def viewTransformChanged(self) -> None:
        self.prepareGeometryChange()  # the padding in plot units follows the zoom

    def boundingRect(self) -> QRectF:
        if self._bounds.isNull() and not len(self.xy):
            return QRectF()
        px, py = self.pixelVectors()
        if px is None:
            return QRectF(self._bounds)
        pad = self.pixelPadding()
        dx, dy = abs(px.x()) * pad + abs(py.x()) * pad, abs(px.y()) * pad + abs(py.y()) * pad
        return self._bounds.adjusted(-dx, -dy, dx, dy)

    # -- drawing -----------------------------------------------------------------------
    def _dot(self, colour: QColor, dpr: float) -> QPixmap:
        key = (colour.rgba(), dpr)
        if key not in self._dots:
            self._dots[key] = dot_pixmap(colour, self.size_px, dpr)
        return self._dots[key]

    def paint(self, p: QPainter, option, widget=None) -> None:
        if not len(self.xy):
            return
        t = p.transform()
        x, y = self.xy[:, 0], self.xy[:, 1]
        dev_x = t.m11() * x + t.m21() * y + t.dx()
        dev_y = t.m12() * x + t.m22() * y + t.dy()
        dpr = widget.devicePixelRatioF() if widget is not None else 1.0
        p.resetTransform()
        if len(self._fragments) < len(self.xy):
            self._fragments = np.zeros((len(self.xy), _FRAGMENT_FIELDS))
        for index, colour in self.groups:
            if not len(index):
                continue
            dot = self._dot(colour, dpr)
            frags = self._fragments[: len(index)]
            frags[:, 0] = dev_x[index]
            frags[:, 1] = dev_y[index]
            frags[:, 2:4] = 0.0
            frags[:, 4] = dot.width()
            frags[:, 5] = dot.height()
            frags[:, 6:8] = 1.0 / dpr
            frags[:, 8] = 0.0
            frags[:, 9] = 1.0
            first = shiboken6.wrapInstance(frags.ctypes.data, QPainter.PixmapFragment)
            p.drawPixmapFragments(first, len(index), dot)

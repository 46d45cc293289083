"""A density image on the latent plot: the binned points (explorer.core.density) as a
picture spanning their extent, for where too many points crowd to draw one by one.

Only the cells inside the visible part of the plot are drawn, resampled to the screen
(nearest cell, so a zoomed-in cell is a crisp block): the cost of a pan or zoom step is
bounded by the screen's pixels whatever the number of points behind the image.
"""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QRectF
from PySide6.QtGui import QImage, QPainter


class DensityImage(pg.GraphicsObject):
    """RGBA pixels (H, W, 4) stretched over a plot rectangle; row 0 at its bottom.

    Hidden with `set_drawn(False)` rather than setVisible: the view box leaves invisible
    items out of its auto-range, and the image's rectangle is where all the points are.
    """

    def __init__(self):
        super().__init__()
        self._image = QImage()
        self._rect = QRectF()
        self.drawn = True

    def set_drawn(self, drawn: bool) -> None:
        if drawn != self.drawn:
            self.drawn = drawn
            self.update()

    def set_image(self, rgba: np.ndarray, extent: tuple[float, float, float, float]) -> None:
        """Show straight-alpha pixels rgba (H, W, 4) uint8 over extent (x0, x1, y0, y1)."""
        self.prepareGeometryChange()
        h, w = rgba.shape[:2]
        pixels = np.ascontiguousarray(rgba)
        wrapped = QImage(pixels.data, w, h, 4 * w, QImage.Format.Format_RGBA8888)
        # premultiplied ARGB32: the raster engine's fast path (a copy: `pixels` may go)
        self._image = wrapped.convertToFormat(QImage.Format.Format_ARGB32_Premultiplied)
        x0, x1, y0, y1 = extent
        self._rect = QRectF(x0, y0, x1 - x0, y1 - y0)
        self.informViewBoundsChanged()
        self.update()

    def clear(self) -> None:
        self.prepareGeometryChange()
        self._image = QImage()
        self._rect = QRectF()
        self.informViewBoundsChanged()
        self.update()

    def dataBounds(self, ax: int, frac: float = 1.0, orthoRange=None):
        """The image's extent along axis `ax` for the view box's auto-range; none when empty
        (a null rectangle would pull the range to the origin)."""
        r = self._rect
        if r.isNull():
            return None, None
        return (r.left(), r.right()) if ax == 0 else (r.top(), r.bottom())

    def boundingRect(self) -> QRectF:
        return QRectF(self._rect)

    def paint(self, p: QPainter, option, widget=None) -> None:
        if self._image.isNull() or not self.drawn:
            return
        inverse, ok = p.transform().inverted()
        if not ok:
            return
        # The part of the image on screen, in whole cells (plot y grows with image rows).
        shown = inverse.mapRect(QRectF(p.viewport())).intersected(self._rect)
        if shown.isEmpty():
            return
        w, h = self._image.width(), self._image.height()
        sx, sy = w / self._rect.width(), h / self._rect.height()
        c0 = int(np.floor((shown.left() - self._rect.left()) * sx))
        c1 = int(np.ceil((shown.right() - self._rect.left()) * sx))
        r0 = int(np.floor((shown.top() - self._rect.top()) * sy))
        r1 = int(np.ceil((shown.bottom() - self._rect.top()) * sy))
        c0, r0, c1, r1 = max(c0, 0), max(r0, 0), min(c1, w), min(r1, h)
        target = QRectF(
            self._rect.left() + c0 / sx, self._rect.top() + r0 / sy, (c1 - c0) / sx, (r1 - r0) / sy
        )
        p.setRenderHint(QPainter.RenderHint.SmoothPixmapTransform, False)
        p.drawImage(target, self._image, QRectF(c0, r0, c1 - c0, r1 - r0))

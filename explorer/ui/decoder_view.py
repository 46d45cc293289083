"""The decoded image (`decodedImage`): the decoder's mean image of the current code.

Shown at fixed levels [0, 1] (brightness means the same thing in every frame), as crisp
enlarged pixels with row 0 at the top, and painted as soon as the code changes: it is
what the user watches while moving the mouse. A plain widget drawing one QImage: a
graphics scene for a few hundred pixels adds its item bookkeeping to every move
(`scripts/bench_ui.py --only hover`).
"""

from __future__ import annotations

import numpy as np
from PySide6.QtCore import QRectF, Qt
from PySide6.QtGui import QColor, QImage, QPainter
from PySide6.QtWidgets import QWidget

from explorer.ui.picture_canvas import BACKGROUND
from explorer.ui.qimage import to_qimage
from explorer.ui.state import Session

_MARGIN = 0.02  # of the widget's shorter side, around the image


class DecoderView(QWidget):
    def __init__(self, session: Session, parent=None):
        super().__init__(parent)
        self.setObjectName("decodedImage")
        self.setMinimumSize(220, 220)
        self.setAutoFillBackground(False)
        # paintEvent covers every pixel: the widgets behind need not paint first
        self.setAttribute(Qt.WidgetAttribute.WA_OpaquePaintEvent)
        self.session = session
        self.image: np.ndarray | None = None  # the last decoded image, float32 in [0, 1]
        self.pixels: np.ndarray | None = None  # what is drawn: uint8 (H, W) or (H, W, C)
        self._qimage: QImage | None = None
        self._background = QColor(BACKGROUND)
        session.codeChanged.connect(self.redraw)
        session.decoderChanged.connect(self.redraw)

    def redraw(self) -> None:
        if self.session.model is None or len(self.session.z) == 0:
            return
        self.image = self.session.decode()
        before = None if self.pixels is None else self.pixels.shape
        self._qimage, self.pixels = to_qimage(self.image)
        # now, not after the other views that follow the same code; only the image's
        # area when that is all that changed (the view is mostly background: half the
        # cost of a hover's repaint)
        if before == self.pixels.shape:
            self.repaint(self.image_rect().toAlignedRect())
        else:
            self.repaint()

    def image_rect(self) -> QRectF:
        """Where the image is drawn: centred, as large as fits, square pixels."""
        if self.pixels is None:
            return QRectF()
        h, w = self.pixels.shape[:2]
        margin = _MARGIN * min(self.width(), self.height())
        scale = min((self.width() - 2 * margin) / w, (self.height() - 2 * margin) / h)
        return QRectF(
            (self.width() - w * scale) / 2, (self.height() - h * scale) / 2, w * scale, h * scale
        )

    def paintEvent(self, event) -> None:
        painter = QPainter(self)
        painter.fillRect(self.rect(), self._background)
        if self._qimage is not None:
            painter.drawImage(self.image_rect(), self._qimage)  # nearest: crisp pixels
        painter.end()

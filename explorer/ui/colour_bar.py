"""The colour bar (`colourBar`) of the latent plot: what a colour means when the points are
coloured by a quantity (reconstruction error, KL, posterior σ): the map from its
minimum to its maximum, with both numbers and the quantity's name.

It floats at the plot's bottom-right corner on a frame of the window's own colours (an
Overlay), so its text is the palette's text on the palette's background: legible in a
light and a dark scheme alike; the map is the one the points are drawn with (viridis,
without its darkest quarter on a dark plot). Hidden while the points are coloured by
label or factor, or while the quantity is being worked out.
"""

from __future__ import annotations

import numpy as np
from PySide6.QtCore import QPoint, QSize, Qt
from PySide6.QtGui import QImage, QPainter, QPalette
from PySide6.QtWidgets import QGridLayout, QLabel, QWidget

from explorer.ui.colour_by import colour_lut, is_quantity, value_scale
from explorer.ui.overlay import Overlay
from explorer.ui.state import Session
from explorer.ui.theme import follow_palette, is_dark

_MARGIN = 8  # pixels from the plot's bottom-right corner (clear of the axes' labels)
_AXIS = 40  # the bottom axis' height, which the bar sits above


def format_value(v: float) -> str:
    """A scale's end as a person reads it: 4 significant digits, no exponent unless it
    is very large or small."""
    return f"{v:.4g}"


class _Ramp(QWidget):
    """The colour map as a horizontal strip, low at the left."""

    def __init__(self):
        super().__init__(objectName="colourBarRamp")
        self.lut = colour_lut(False)
        self.setFixedSize(QSize(120, 12))

    def paintEvent(self, event) -> None:
        pixels = np.empty((1, len(self.lut), 4), np.uint8)
        pixels[0, :, :3] = np.round(self.lut * 255)
        pixels[0, :, 3] = 255
        image = QImage(
            pixels.data, len(self.lut), 1, 4 * len(self.lut), QImage.Format.Format_RGBA8888
        )
        p = QPainter(self)
        p.setRenderHint(QPainter.RenderHint.SmoothPixmapTransform)
        p.drawImage(self.rect(), image)
        p.end()


class ColourBar(Overlay):
    def __init__(self, session: Session):
        super().__init__("colourBar")
        self.session = session
        self.title = QLabel(objectName="colourBarTitle")
        self.low = QLabel(objectName="colourBarMin")
        self.high = QLabel(objectName="colourBarMax")
        self.high.setAlignment(Qt.AlignmentFlag.AlignRight)
        self.ramp = _Ramp()
        grid = QGridLayout(self)
        grid.setContentsMargins(8, 4, 8, 4)
        grid.setVerticalSpacing(2)
        grid.addWidget(self.title, 0, 0, 1, 2)
        grid.addWidget(self.ramp, 1, 0, 1, 2)
        grid.addWidget(self.low, 2, 0)
        grid.addWidget(self.high, 2, 1)
        self.setToolTip("The colours of the points: their value from the lowest to the highest")
        self.setVisible(False)
        session.colourByChanged.connect(self.refresh)
        session.datasetChanged.connect(self.refresh)
        follow_palette(self, self._recolour)  # (the map of a dark plot differs)

    def position(self, over: QWidget) -> QPoint:
        return QPoint(over.width() - self.width() - _MARGIN, over.height() - self.height() - _AXIS)

    def refresh(self) -> None:
        s = self.session
        values = s.colour_values
        shown = is_quantity(s.colour_by) and values is not None
        if shown:
            scale = value_scale(values, is_dark(self.palette()))
            self.ramp.lut = scale.lut
            self.ramp.update()
            self.title.setText(s.colour_by)
            self.low.setText(format_value(scale.lo))
            self.high.setText(format_value(scale.hi))
        self.setVisible(shown)
        self.place()
        self.raise_()

    def _recolour(self, palette: QPalette) -> None:
        self.ramp.lut = colour_lut(is_dark(palette))
        self.ramp.update()

"""The decoded image (`decodedImage`): the decoder's mean image of the current code.

Drawn with a pyqtgraph ImageItem at fixed levels [0, 1] (no auto-levels, so brightness
means the same thing in every frame), crisp pixels, row 0 at the top; painted as soon
as the code changes.
"""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg

from explorer.ui.state import Session


class DecoderView(pg.GraphicsLayoutWidget):
    def __init__(self, session: Session, parent=None):
        super().__init__(parent)
        self.setObjectName("decodedImage")
        self.setBackground("#202124")
        self.setMinimumSize(220, 220)
        self.session = session
        self.view = self.addViewBox(lockAspect=True, enableMouse=False, invertY=True)
        self.view.setMenuEnabled(False)
        self.item = pg.ImageItem(axisOrder="row-major")
        self.view.addItem(self.item)
        self.image: np.ndarray | None = None  # the last decoded image, float32 in [0, 1]
        session.codeChanged.connect(self.redraw)
        session.modelChanged.connect(self._fit)

    def _fit(self) -> None:
        if self.session.model is not None:
            _, h, w = self.session.model.config.image_shape
            self.view.setRange(xRange=(0, w), yRange=(0, h), padding=0.02)

    def redraw(self) -> None:
        if self.session.model is None or len(self.session.z) == 0:
            return
        self.image = self.session.decode()
        self.item.setImage(self.image, levels=(0.0, 1.0), autoLevels=False)
        # Painted now, not after the plot, sliders and status bar that follow the same
        # code: the image is what the user watches (~1 ms after the move, not ~5).
        self.viewport().repaint()

"""A picture made of decoded images (a traversal grid, an interpolation strip).

`picture_panel` lays out such a view: its controls, a note saying what is shown, the
picture.

Dark background, crisp pixels at fixed levels [0, 1], row 0 at the top, optional names
to the left of the rows. New pixels of the same layout only replace the image: labels
and the view's range are rebuilt only when the layout changes, so a view that follows
the code repaints cheaply.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pyqtgraph as pg
from PySide6.QtWidgets import QHBoxLayout, QLabel, QVBoxLayout, QWidget

from explorer.ui.theme import hint_label

BACKGROUND = "#202124"
_LABEL_COLOUR = "#e8eaed"


class PictureCanvas(pg.GraphicsLayoutWidget):
    def __init__(self, object_name: str, parent=None):
        super().__init__(parent)
        self.setObjectName(object_name)
        self.setBackground(BACKGROUND)
        self.view = self.addViewBox(lockAspect=True, enableMouse=False, invertY=True)
        self.view.setMenuEnabled(False)
        self.image = pg.ImageItem(axisOrder="row-major")
        self.view.addItem(self.image)
        self.labels: list[pg.TextItem] = []
        self._layout: tuple | None = None  # (shape, row names, row pitch) of what is shown
        self.view.sigResized.connect(self._fit)  # keep the picture whole at any size

    def show_picture(
        self, picture: np.ndarray, row_names: Sequence[str] = (), row_pitch: float = 0.0
    ) -> None:
        """picture: (H, W, C) in [0, 1]; row_names are drawn every `row_pitch` pixels."""
        self.image.setImage(
            picture[..., 0] if picture.shape[2] == 1 else picture,
            levels=(0.0, 1.0),
            autoLevels=False,
        )
        layout = (picture.shape, tuple(row_names), row_pitch)
        if layout == self._layout:
            return
        self._layout = layout
        self._remove_labels()
        for r, name in enumerate(row_names):
            label = pg.TextItem(name, color=_LABEL_COLOUR, anchor=(1, 0.5))
            label.setPos(-1, (r + 0.5) * row_pitch)
            self.view.addItem(label)
            self.labels.append(label)
        self._fit()

    def _fit(self) -> None:
        """Show the whole picture, and room on the left for the row names."""
        if self._layout is None:
            return
        (height, width, _), row_names, row_pitch = self._layout
        margin = 0.9 * row_pitch if row_names else 0.0
        self.view.setRange(xRange=(-margin, width), yRange=(0, height), padding=0.02)

    def clear_picture(self) -> None:
        self.image.clear()
        self._remove_labels()
        self._layout = None

    def _remove_labels(self) -> None:
        for label in self.labels:
            self.view.removeItem(label)
        self.labels = []


def picture_panel(
    owner: QWidget, controls: QHBoxLayout, object_name: str
) -> tuple[QLabel, PictureCanvas]:
    """Lay out `owner` as its controls, a note and a picture; returns (note, canvas)."""
    note = hint_label(QLabel())
    note.setWordWrap(True)  # a longer note must never widen the dock
    canvas = PictureCanvas(object_name)
    layout = QVBoxLayout(owner)
    layout.setContentsMargins(4, 4, 4, 4)
    layout.addLayout(controls)
    layout.addWidget(note)
    layout.addWidget(canvas, 1)
    return note, canvas

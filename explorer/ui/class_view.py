"""A conditional VAE's class: the selector above the decoded image, and the grid of
every class decoded from the same code.

A CVAE is told the class, so its code holds only what the class leaves open (the
style: slant, width, stroke). The selector (`classCombo`) picks the class the cursor,
the sliders and every view decode; the grid (`classGrid`) shows the current code
decoded as each class at once, which is the clearest picture of "style" there is.
Clicking a cell selects that class.
"""

from __future__ import annotations

import math

import numpy as np
from PySide6.QtCore import QPointF, Signal
from PySide6.QtWidgets import QComboBox, QHBoxLayout, QLabel, QPushButton, QWidget

from explorer.core.figures import decode_images, tile
from explorer.core.model import LatentModel
from explorer.ui.lazy_view import LazyView
from explorer.ui.picture_canvas import picture_panel
from explorer.ui.state import Session
from explorer.ui.workers import LatestJob

COLUMNS = 10  # classes per row of the grid
_GAP = 1


class ClassBar(QWidget):
    """Shown only for a conditional model."""

    gridRequested = Signal()  # "All classes" was pressed

    def __init__(self, session: Session, parent=None):
        super().__init__(parent)
        self.session = session
        self.combo = QComboBox(objectName="classCombo")
        self.combo.setToolTip("The class the cursor, sliders and views decode")
        self.grid_button = QPushButton("All classes", objectName="allClassesButton")
        self.grid_button.setToolTip("This code decoded as every class, side by side")
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(QLabel("Class"))
        layout.addWidget(self.combo, 1)
        layout.addWidget(self.grid_button)
        self.combo.currentIndexChanged.connect(self._chosen)
        self.grid_button.clicked.connect(self.gridRequested)
        session.modelChanged.connect(self._follow_model)
        session.datasetChanged.connect(self._follow_model)
        session.conditionChanged.connect(self.combo.setCurrentIndex)
        self._follow_model()

    def _follow_model(self) -> None:
        """Refill the classes; a new model of the same classes keeps the one chosen."""
        names = self.session.class_names()
        self.setVisible(bool(names))
        if not names:
            return
        keep = self.combo.currentIndex()
        self.combo.blockSignals(True)
        self.combo.clear()
        self.combo.addItems(names)
        self.combo.blockSignals(False)
        chosen = keep if 0 <= keep < len(names) else 0
        self.combo.setCurrentIndex(chosen)
        self.session.set_condition(chosen)

    def _chosen(self, index: int) -> None:
        if index >= 0:
            self.session.set_condition(index)


def class_grid(model: LatentModel, z: np.ndarray, classes: int) -> np.ndarray:
    """z: (d,) decoded as each class, tiled COLUMNS to a row: (H', W', C) in [0, 1]."""
    frames = decode_images(model, np.repeat(z[None], classes, 0), np.arange(classes))
    rows = math.ceil(classes / COLUMNS)
    return tile(frames, rows, min(classes, COLUMNS), gap=_GAP, fill=0.3)


class ClassGridView(LazyView):
    def __init__(self, session: Session, parent=None):
        super().__init__(parent)
        self.session = session
        self.picture: np.ndarray | None = None
        bar = QHBoxLayout()
        self.note, self.canvas = picture_panel(self, bar, "classGrid")
        self.job = LatestJob(self)
        self.job.done.connect(self._show)
        self.canvas.scene().sigMouseClicked.connect(self._clicked)
        session.codeChanged.connect(self.request)
        session.decoderChanged.connect(self.request)  # (a new model, too)

    def request(self) -> None:
        s = self.session
        if s.model is None or not s.model.conditional or len(s.z) == 0:
            self.picture = None
            self.canvas.clear_picture()
            self.note.setText("For a conditional VAE: the current code decoded as every class")
            return
        if self.hidden_now():
            return
        self.job.submit(class_grid, s.model_snapshot(), s.z.copy(), s.model.config.classes)

    def _show(self, picture: np.ndarray) -> None:
        if self.session.model is None or not self.session.model.conditional:
            return
        self.picture = picture
        names = self.session.class_names()
        rows = math.ceil(len(names) / COLUMNS)
        pitch = (picture.shape[0] + _GAP) / rows
        row_names = [names[r * COLUMNS] for r in range(rows)] if rows > 1 else []
        self.canvas.show_picture(picture, row_names, pitch)
        self.note.setText(
            f"The current code as each of the {len(names)} classes ({names[0]} to "
            f"{names[-1]}, left to right): the code holds the style, the class the rest. "
            "Click one to decode that class."
        )

    def class_at(self, scene_pos: QPointF) -> int | None:
        """The class of the cell under a point of the grid's scene, if any."""
        s = self.session
        if self.picture is None or s.model is None or not s.model.conditional:
            return None
        _, h, w = s.model.config.image_shape
        p = self.canvas.view.mapSceneToView(scene_pos)
        col, row = int(p.x() // (w + _GAP)), int(p.y() // (h + _GAP))
        c = row * COLUMNS + col
        inside = p.x() >= 0 and p.y() >= 0 and col < COLUMNS
        return c if inside and c < s.model.config.classes else None

    def _clicked(self, event) -> None:
        c = self.class_at(event.scenePos())
        if c is not None:
            self.session.set_condition(c)

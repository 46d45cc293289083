"""Interpolation (`interpolationStrip`): k decodes on the path between two picked codes.

Shift-click two places on the latent plot (a data point near the click is snapped to,
so two real images can be joined) to set the ends A and B; the strip shows the decodes
along the straight line or, as an option, the spherical path. Hovering a frame makes
its code the current one, so the marker walks the path on the plot.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from PySide6.QtCore import QPointF, Signal
from PySide6.QtWidgets import QCheckBox, QHBoxLayout, QSpinBox, QWidget

from explorer.core.figures import decode_images, interpolation_codes, tile
from explorer.core.model import LatentModel
from explorer.ui.picture_canvas import picture_panel
from explorer.ui.state import Session
from explorer.ui.workers import LatestJob

_GAP = 1
_HOW_TO_PICK = "Shift-click two points of the plot: A, then B"


@dataclass(frozen=True)
class Interpolation:
    codes: np.ndarray  # (k, d) from A to B
    frames: np.ndarray  # (k, H, W, C) their decodes
    picture: np.ndarray  # the frames side by side


def compute_interpolation(
    model: LatentModel, a: np.ndarray, b: np.ndarray, k: int, spherical: bool
) -> Interpolation:
    codes = interpolation_codes(a, b, k, spherical)
    frames = decode_images(model, codes)
    return Interpolation(codes, frames, tile(frames, 1, k, gap=_GAP, fill=0.3))


class InterpolationView(QWidget):
    pathChanged = Signal(object)  # (k, d) codes of the path, or None when there is none

    def __init__(self, session: Session, parent=None):
        super().__init__(parent)
        self.session = session
        self.ends: list[np.ndarray] = []  # the picked codes: none, A, or A and B
        self.result: Interpolation | None = None
        self.steps_spin = QSpinBox(objectName="interpolationSteps", minimum=2, maximum=30)
        self.steps_spin.setValue(10)
        self.steps_spin.setSuffix(" frames")
        self.spherical_check = QCheckBox("Spherical path", objectName="sphericalCheck")
        self.spherical_check.setToolTip(
            "Follow the great circle between A and B (slerp) instead of the straight line"
        )
        bar = QHBoxLayout()
        bar.addWidget(self.steps_spin)
        bar.addWidget(self.spherical_check)
        bar.addStretch(1)
        self.note, self.canvas = picture_panel(self, bar, "interpolationStrip")
        self.note.setText(_HOW_TO_PICK)
        self.job = LatestJob(self)
        self.job.done.connect(self._show)
        self.steps_spin.valueChanged.connect(self.request)
        self.spherical_check.toggled.connect(self.request)
        self.canvas.scene().sigMouseMoved.connect(self._hovered)
        session.modelChanged.connect(self._model_changed)
        session.decoderChanged.connect(self.request)  # (after modelChanged, for a new model)

    def pick(self, z: np.ndarray) -> None:
        """A shift-click: the first pick is A, the second B, a third starts again."""
        self.ends = [*self.ends, np.asarray(z, float)] if len(self.ends) < 2 else [z]
        if len(self.ends) == 1:
            self.note.setText("A is set: shift-click a second point for B")
            self.result = None
            self.canvas.clear_picture()
            self.pathChanged.emit(None)
        self.request()

    def request(self) -> None:
        s = self.session
        if len(self.ends) < 2 or s.model is None:
            return
        a, b = self.ends
        model, k = s.model_snapshot(), self.steps_spin.value()
        self.job.submit(compute_interpolation, model, a, b, k, self.spherical_check.isChecked())

    def _show(self, result: Interpolation) -> None:
        self.result = result
        self.canvas.show_picture(result.picture)
        path = "spherical path" if self.spherical_check.isChecked() else "straight line"
        self.note.setText(
            f"{len(result.codes)} frames from A to B on the {path}; hover a frame to go there"
        )
        self.pathChanged.emit(result.codes)

    def frame_at(self, scene_pos: QPointF) -> int | None:
        """The frame under a point of the strip's scene, if any."""
        if self.result is None:
            return None
        p = self.canvas.view.mapSceneToView(scene_pos)
        w = self.result.frames.shape[2]
        i = int(p.x() // (w + _GAP))
        inside = 0 <= p.y() < self.result.frames.shape[1] and 0 <= i < len(self.result.codes)
        return i if inside else None

    def _hovered(self, scene_pos: QPointF) -> None:
        i = self.frame_at(scene_pos)
        if i is not None:
            self.session.set_z(self.result.codes[i])

    def _model_changed(self) -> None:
        """A new model: A and B are dropped when they belong to another latent space
        (the strip is redrawn on decoderChanged, which follows)."""
        if self.ends and len(self.ends[0]) != self.session.latent_dim:
            self.ends, self.result = [], None
            self.canvas.clear_picture()
            self.note.setText(_HOW_TO_PICK)
            self.pathChanged.emit(None)

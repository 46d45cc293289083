"""The Direction tab: a direction in latent space from two groups of data points, and a
walk of the current code along it (issue 24, item 3: the attribute vectors of the VAE
literature; e.g. the 7s with a crossbar as A, those without as B).

The groups are the selections stored as A and B (Selection tab), or the points of one
label or factor value against the rest. The direction is mean(A) − mean(B) over every
latent dimension, not just the plot's plane. The slider moves the code the user left
(`base`) by t·direction, t in ±`REACH`: at t = 1 a code has moved as far as B's mean is
from A's. The decoded image and the marker follow, as with the latent sliders; a strip
shows the decodes of the walk; the plot shows the direction as an arrow from B's mean to
A's on its plane. A code moved by anything else (hover, sliders) becomes the new base.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QPointF, Qt
from PySide6.QtWidgets import QComboBox, QHBoxLayout, QLabel, QSlider, QWidget

from explorer.core.figures import decode_images, tile
from explorer.core.model import LatentModel
from explorer.core.selection import group_direction, means, walk
from explorer.ui.latent_view import LatentView
from explorer.ui.picture_canvas import picture_panel
from explorer.ui.plot_marks import Outline
from explorer.ui.selection_model import SelectionModel
from explorer.ui.workers import LatestJob

REACH = 2.0  # the slider's t runs over ±REACH
_TICKS = 100  # slider positions per unit of t
STRIP_STEPS = 9  # decodes in the strip, from −REACH to +REACH
_ARROW_COLOUR = "#d62728"
_SELECTIONS = "selections: A − B"
_VS_THE_REST = " (A) vs the rest (B)"
_HOW_TO = "Store two selections as A and B (Selection tab), or pick a label or factor value"


@dataclass(frozen=True)
class Walk:
    codes: np.ndarray  # (k, d) the base code moved by each t of the strip
    picture: np.ndarray  # their decodes side by side


def compute_walk(model: LatentModel, base: np.ndarray, direction: np.ndarray) -> Walk:
    codes = walk(base, direction, np.linspace(-REACH, REACH, STRIP_STEPS))
    frames = decode_images(model, codes)
    return Walk(codes, tile(frames, 1, len(codes), gap=1, fill=0.3))


class DirectionView(QWidget):
    def __init__(self, view: LatentView, selection: SelectionModel, parent=None):
        super().__init__(parent)
        self.view, self.session, self.selection = view, view.session, selection
        self.ends: tuple[np.ndarray, np.ndarray] | None = None  # mean(B), mean(A): (d,) each
        self.base = np.zeros(0)  # (d,) the code the walk starts from
        self.result: Walk | None = None
        self._walking = False  # the slider is moving the code: it stays the base
        self.source = QComboBox(objectName="directionSource")
        self.source.setToolTip("The two groups whose means the direction joins")
        self.value = QComboBox(objectName="directionValue")
        self.value.setToolTip("The label or factor value whose points are A; the rest are B")
        self.slider = QSlider(Qt.Orientation.Horizontal, objectName="directionSlider")
        self.slider.setRange(int(-REACH * _TICKS), int(REACH * _TICKS))
        self.slider.setPageStep(_TICKS // 2)
        self.slider.setToolTip(
            "Move the current code along the direction: at +1 by mean(A) − mean(B)"
        )
        self.t_label = QLabel("t = +0.00")
        bar = QHBoxLayout()
        bar.addWidget(QLabel("From"))
        bar.addWidget(self.source)
        bar.addWidget(self.value)
        bar.addWidget(self.slider, 1)
        bar.addWidget(self.t_label)
        self.note, self.canvas = picture_panel(self, bar, "directionStrip")
        self.job = LatestJob(self)
        self.job.done.connect(self._show)
        # the arrow from B's mean to A's on the plot's plane
        self.shaft = Outline(pg.mkPen(_ARROW_COLOUR, width=2.5))
        self.head = pg.ArrowItem(pen=None, brush=_ARROW_COLOUR, headLen=14, tipAngle=35)
        for item in (self.shaft, self.head):
            item.setZValue(9)
            view.addItem(item, ignoreBounds=True)
        self.head.hide()
        self.source.currentIndexChanged.connect(self._fill_values)
        self.value.currentIndexChanged.connect(self.update_direction)
        self.slider.valueChanged.connect(self._walk)
        selection.storedChanged.connect(self.update_direction)
        s = self.session
        s.datasetChanged.connect(self._fill_sources)
        s.codesChanged.connect(self.update_direction)
        s.planeChanged.connect(self._draw_arrow)
        view.plotItem.vb.sigRangeChanged.connect(self._draw_arrow)  # (the head's angle)
        s.codeChanged.connect(self._code_moved)
        s.modelChanged.connect(self.update_direction)  # (the old codes' direction is gone)
        s.decoderChanged.connect(self.request)
        self._fill_sources()

    @property
    def direction(self) -> np.ndarray | None:
        """(d,) mean(A) − mean(B), or None before there are two groups."""
        return None if self.ends is None else self.ends[1] - self.ends[0]

    # -- the groups ----------------------------------------------------------------------
    def _fill_sources(self) -> None:
        data = self.session.dataset
        self.source.blockSignals(True)
        self.source.clear()
        self.source.addItem(_SELECTIONS)
        if data is not None and data.labels is not None:
            self.source.addItem("label")
        if data is not None and data.factors is not None:
            self.source.addItems(list(data.factor_names or []))
        self.source.blockSignals(False)
        self._fill_values()

    def _fill_values(self) -> None:
        data, what = self.session.dataset, self.source.currentText()
        self.value.blockSignals(True)
        self.value.clear()
        if data is not None and what == "label" and data.labels is not None:
            names = data.class_names
            for v in np.unique(data.labels):
                name = names[v] if names and 0 <= v < len(names) else str(v)
                self.value.addItem(f"= {name}{_VS_THE_REST}", int(v))
        elif data is not None and what != _SELECTIONS and data.factors is not None:
            f = data.factor_names.index(what)
            for v in np.unique(data.factors[:, f]):
                self.value.addItem(f"= {v}{_VS_THE_REST}", int(v))
        self.value.setVisible(self.value.count() > 0)
        self.value.blockSignals(False)
        self.update_direction()

    def _groups(self) -> tuple[tuple[np.ndarray, np.ndarray], str] | str:
        """(mean(B), mean(A)) of the chosen groups and what A and B are, in words; or why
        there are none."""
        s, what = self.session, self.source.currentText()
        codes = s.codes
        if codes is None or s.dataset is None or len(codes) != len(s.dataset):
            return "no codes yet"
        if what == _SELECTIONS:
            stored = self.selection.stored
            if "A" not in stored or "B" not in stored:
                return _HOW_TO
            a, b = (stored[k][stored[k] < len(codes)] for k in ("A", "B"))
            try:
                ends = means(codes, a, b)
            except ValueError as e:
                return f"A has {len(a)} points, B {len(b)}: {e}"
            return ends, f"A: the selection stored as A ({len(a)} points), B: as B ({len(b)})"
        v = self.value.currentData()
        if what == "label":
            column = s.dataset.labels
        else:
            column = s.dataset.factors[:, s.dataset.factor_names.index(what)]
        members = column == v
        try:
            ends = group_direction(codes, members)
        except ValueError as e:
            return str(e)
        name = self.value.currentText().removesuffix(_VS_THE_REST)
        n = int(members.sum())
        return ends, f"A: {what} {name} ({n} points), B: the rest ({len(codes) - n})"

    def update_direction(self) -> None:
        """The direction of the chosen groups, drawn and walked from the current code."""
        groups = self._groups()
        self.ends = None if isinstance(groups, str) else groups[0]
        self.slider.setEnabled(self.ends is not None)
        self._draw_arrow()
        if self.ends is None:
            self.note.setText(groups)
            self.result = None
            self.canvas.clear_picture()
            return
        length = float(np.linalg.norm(self.direction))
        self.note.setText(
            f"mean(A) − mean(B): length {length:.2f} over all {len(self.direction)} latent"
            f" dimensions; {groups[1]}. The strip walks the code from t = −{REACH:g} to"
            f" +{REACH:g}"
        )
        self._code_moved()

    def _draw_arrow(self) -> None:
        s = self.session
        if self.ends is None or s.plane is None or s.latent_dim < 2:
            self.shaft.set_points(np.zeros((0, 2)))
            self.head.hide()
            return
        b, a = (s.plane.to_plane(end) for end in self.ends)
        self.shaft.set_points(np.array([b, a]))
        # the head is drawn in screen pixels, where the axes' scales differ and y points
        # down: its angle is the shaft's on the screen (pyqtgraph's 0 points left)
        vb = self.view.plotItem.vb
        pa, pb = (vb.mapViewToScene(QPointF(*end)) for end in (a, b))
        angle = np.degrees(np.arctan2(pa.y() - pb.y(), pa.x() - pb.x()))
        self.head.setStyle(angle=180 + angle)
        self.head.setPos(*a)
        self.head.show()

    # -- the walk ------------------------------------------------------------------------
    def _code_moved(self) -> None:
        """The code moved by something else: the walk starts from it, at t = 0."""
        if self._walking:
            return
        self.base = self.session.z.copy()
        self.slider.blockSignals(True)
        self.slider.setValue(0)
        self.slider.blockSignals(False)
        self.t_label.setText("t = +0.00")
        self.request()

    def t(self) -> float:
        return self.slider.value() / _TICKS

    def _walk(self) -> None:
        self.t_label.setText(f"t = {self.t():+.2f}")
        if self.ends is None or len(self.base) != self.session.latent_dim:
            return
        self._walking = True
        try:
            self.session.set_z(self.base + self.t() * self.direction)
        finally:
            self._walking = False

    def request(self) -> None:
        s = self.session
        if self.ends is None or s.model is None or len(self.base) != s.latent_dim:
            return
        if not self.isVisible():
            return  # (showEvent asks when the tab is opened)
        self.job.submit(compute_walk, s.model_snapshot(), self.base, self.direction)

    def showEvent(self, event) -> None:
        super().showEvent(event)
        self.request()

    def _show(self, result: Walk) -> None:
        self.result = result
        self.canvas.show_picture(result.picture)

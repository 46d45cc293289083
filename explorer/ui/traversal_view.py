"""Latent traversals (`traversalGrid`): what each dimension does to the current code.

One row per latent dimension (the active ones, or all), the decodes of the current
code with that one coordinate swept evenly across ±range while the others stay: the
figure of the β-VAE papers, live. A kind without a prior sweeps each dimension across
its span instead, where the data's codes lie (`core.code_spans`: an autoencoder's codes
are not near ±3). Decoding runs in the background (`LatestJob`), only
while the view is shown; the grid follows the code once it rests, never per mouse move.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from PySide6.QtCore import QTimer, Signal
from PySide6.QtWidgets import (
    QComboBox,
    QDoubleSpinBox,
    QHBoxLayout,
    QPushButton,
    QSpinBox,
)

from explorer.core.figures import decode_images, tile, traversal_codes
from explorer.core.kind_table import KIND_TABLE
from explorer.core.model import LatentModel
from explorer.ui.lazy_view import LazyView
from explorer.ui.picture_canvas import picture_panel
from explorer.ui.state import Session, active_dims
from explorer.ui.workers import LatestJob

_REST_MS = 150  # the code must rest this long before the grid follows it
_GAP = 1  # pixels between frames
_MAX_ROWS = 12  # of "active dims": more rows are unreadable in the dock
_GAP_FILL = 0.3  # grey lines between frames, visible on black and on white images


@dataclass(frozen=True)
class Traversal:
    z: np.ndarray  # (d,) the code traversed around
    dims: list[int]  # the latent dimension of each row
    values: np.ndarray  # (rows, k) the coordinate of each frame
    frames: np.ndarray  # (rows * k, H, W, C) decoded images, row-major
    picture: np.ndarray  # the frames tiled, (rows·H + gaps, k·W + gaps, C)


def compute_traversal(
    model: LatentModel, z: np.ndarray, dims: list[int], values: np.ndarray
) -> Traversal:
    """The decodes of z (d,) with dimension dims[r] set to values[r] (rows, k), row r."""
    frames = decode_images(model, traversal_codes(z, dims, values))
    picture = tile(frames, len(dims), values.shape[1], gap=_GAP, fill=_GAP_FILL)
    return Traversal(z, dims, values, frames, picture)


class TraversalView(LazyView):
    exportRequested = Signal()  # the user pressed "Export PNG…"

    def __init__(self, session: Session, parent=None):
        super().__init__(parent)
        self.session = session
        self.result: Traversal | None = None  # what is on screen
        self._asked: tuple | None = None  # the inputs of the last job submitted
        self.mark_stale()  # computed when first shown
        self.rows_combo = QComboBox(objectName="traversalRows")
        self.rows_combo.addItems(["active dims", "all dims"])
        self.rows_combo.setToolTip("One row per active latent dimension, or per dimension")
        self.steps_spin = QSpinBox(objectName="traversalSteps", minimum=3, maximum=21, value=9)
        self.steps_spin.setSuffix(" steps")
        self.range_spin = QDoubleSpinBox(
            objectName="traversalRange", minimum=0.5, maximum=6.0, value=3.0, singleStep=0.5
        )
        self.range_spin.setPrefix("± ")
        self.range_spin.setToolTip("Each row sweeps its dimension across this range")
        export = QPushButton("Export…", objectName="exportTraversal")
        export.setToolTip("Save the grid as a PNG")
        export.clicked.connect(self.exportRequested)
        for w in (self.rows_combo, self.steps_spin, self.range_spin):
            signal = w.currentIndexChanged if w is self.rows_combo else w.valueChanged
            signal.connect(self.request)
        bar = QHBoxLayout()
        for w in (self.rows_combo, self.steps_spin, self.range_spin):
            bar.addWidget(w)
        bar.addStretch(1)
        bar.addWidget(export)

        self.note, self.canvas = picture_panel(self, bar, "traversalGrid")

        self.job = LatestJob(self)
        self.job.done.connect(self._show)
        # While the cursor moves the grid waits: it is redrawn once the code rests, so
        # hovering never shares the CPU with decoding a whole grid per mouse move.
        self._rest = QTimer(self, singleShot=True, interval=_REST_MS)
        self._rest.timeout.connect(self.request)
        session.codeChanged.connect(self._code_moved)
        session.decoderChanged.connect(self._code_moved)  # (an epoch's weights wait too)
        session.modelChanged.connect(self._offer_range)
        session.modelChanged.connect(self.request)
        session.codesChanged.connect(self.request)

    def candidates(self) -> np.ndarray:
        """The dimensions the rows are chosen from: all when asked for, else the active
        ones (all when none is active: an untrained or collapsed model)."""
        d = self.session.latent_dim
        active = active_dims(self.session)
        if self.rows_combo.currentIndex() == 1 or active is None or not active.any():
            return np.arange(d)
        return np.flatnonzero(active)

    def rows(self) -> list[int]:
        """The dimensions to traverse: every candidate when "all dims" is chosen, else at
        most `_MAX_ROWS` of them, those with the highest KL."""
        dims = self.candidates()
        kl = np.asarray(self.session.info.kl_per_dim)
        capped = self.rows_combo.currentIndex() == 0 and len(dims) > _MAX_ROWS
        if capped and len(kl) == self.session.latent_dim:
            dims = np.sort(dims[np.argsort(-kl[dims], kind="stable")[:_MAX_ROWS]])
        elif capped:
            dims = dims[:_MAX_ROWS]
        return [int(i) for i in dims]

    def spans_data(self) -> bool:
        """Each row sweeps its dimension's span of the data (a kind without a prior),
        not the ±range set here."""
        model = self.session.model
        return model is not None and not KIND_TABLE[model.kind].prior

    def values(self) -> np.ndarray:
        """(rows, k): the coordinate of each frame of each of `rows()`."""
        rows, k = self.rows(), self.steps_spin.value()
        if self.spans_data():
            span = self.session.spans[rows]
            return np.linspace(span[:, 0], span[:, 1], k, axis=1)
        r = self.range_spin.value()
        return np.tile(np.linspace(-r, r, k), (len(rows), 1))

    def _offer_range(self) -> None:
        """The ±range applies to a kind with a prior only."""
        spans = self.spans_data()
        self.range_spin.setEnabled(not spans)
        self.range_spin.setToolTip(
            "This kind has no prior: each row sweeps its dimension across the span of "
            "the data's codes"
            if spans
            else "Each row sweeps its dimension across this range"
        )

    def request(self) -> None:
        """Recompute for the current code; deferred while the view is hidden."""
        s = self.session
        codes_coming = s.dataset is not None and s.codes is None  # they decide the rows
        if s.model is None or len(s.z) == 0 or codes_coming:
            self.mark_stale()
            return
        if self.hidden_now():
            return
        rows, values = self.rows(), self.values()
        # A training epoch asks twice with the same inputs: its new weights start the
        # code's rest timer, and its codes (which pick the rows) arrive before it fires.
        asked = (s.model_version, s.z.tobytes(), tuple(rows), values.tobytes())
        if asked == self._asked:
            return
        self._asked = asked
        self.job.submit(compute_traversal, s.model_snapshot(), s.z.copy(), rows, values)

    def _code_moved(self) -> None:
        if self.isVisible():
            self._rest.start()
        else:
            self.mark_stale()

    def _show(self, result: Traversal) -> None:
        self.result = result
        pitch = result.frames.shape[1] + _GAP
        self.canvas.show_picture(result.picture, [f"z{d}" for d in result.dims], pitch)
        k = result.values.shape[1]
        n = len(self.candidates())
        which = f" (the {len(result.dims)} of {n} with the most KL)" if n > len(result.dims) else ""
        low, high = result.values[:, 0], result.values[:, -1]
        if len(np.unique(low)) > 1 or len(np.unique(high)) > 1:
            across = "across each one's span of the data's codes"
        else:
            across = f"from {low[0]:+g} to {high[0]:+g}"
        self.note.setText(
            f"{len(result.dims)} dimension(s){which} × {k} steps {across}, around the current code"
        )

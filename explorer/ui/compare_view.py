"""Compare (`compareImages`, `compareTable`): a second model beside the one on screen,
decoding the same point of the plane, with the numbers that tell them apart.

Open model B (a checkpoint trained on data of the same shape, or the model shown
before the current one: train PCA, then an autoencoder, and compare) and move the
cursor over the plot: A (the window's model) and B decode the same point side by side, so an
autoencoder's gaps (garbage) show against a VAE's continuity. The same point means the
same code when both have the same latent size; otherwise the plot's point is read as
B's first two latent dimensions (the rest 0), the plane B would be drawn on.

The table scores both on the open data (at most 2,000 images): reconstruction,
squared error, KL, ELBO, the importance-weighted bound on log p(x), active units, and
the share of prior samples decoded onto the data (core/on_data.py); a figure a kind
does not define shows as "—".
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import numpy as np
from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QFileDialog,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
)

from explorer.core.checkpoint import load_checkpoint
from explorer.core.data import Dataset
from explorer.core.errors import CheckpointError
from explorer.core.figures import decode_images, tile
from explorer.core.kind_table import KIND_TABLE
from explorer.core.metrics import Report, report
from explorer.core.model import LatentModel
from explorer.core.projection import dims_plane
from explorer.ui.lazy_view import LazyView
from explorer.ui.picture_canvas import PictureCanvas
from explorer.ui.state import Session
from explorer.ui.workers import LatestJob

_IMAGES = 2000  # data images scored per model
_IW_K = 20  # importance samples per image for the bound
_PRIOR_SAMPLES = 500  # prior samples checked for being on the data
_GAP = 2

# (row name, tooltip, Report.to_dict key, format); nats are per image
_ROWS = (
    ("kind", "", "kind", "{}"),
    ("recon", "reconstruction term −log p(x|z), nats", "recon", "{:.1f}"),
    ("sq. error", "Σ (x − decode(mean code))², pixels in [0, 1]", "sq_error", "{:.1f}"),
    ("KL", "KL(q(z|x) ‖ p(z)), nats", "kl", "{:.1f}"),
    ("ELBO", "evidence lower bound, nats", "elbo", "{:.1f}"),
    ("log p(x) ≥", f"importance-weighted bound, k = {_IW_K}, nats", "iw_bound", "{:.1f}"),
    ("active units", "dimensions whose mean code varies over the data", "active_units", "{}"),
    (
        "q(y|x) right",
        "M2's classifier: share of the data's labels it guesses",
        "accuracy",
        "{:.0%}",
    ),
    (
        "on the data",
        "share of prior samples decoded as close to the data as reconstructions are",
        "on_data",
        "{:.0%}",
    ),
)


def score(model: LatentModel, dataset: Dataset) -> Report:
    """The figures of the table for one model on (a seeded subset of) `dataset`."""
    return report(model, dataset, iw_k=_IW_K, max_images=_IMAGES, on_data_samples=_PRIOR_SAMPLES)


def open_for_comparison(path: Path, dataset: Dataset) -> tuple[LatentModel, Report]:
    """Load checkpoint `path` and score it on `dataset`; CheckpointError if it cannot."""
    model = load_checkpoint(path).model
    if tuple(model.config.image_shape) != dataset.image_shape:
        raise CheckpointError(
            f"{path}: the model expects images of shape {tuple(model.config.image_shape)} "
            f"but the open data ({dataset.name}) has {dataset.image_shape}; compare models "
            "of the same data"
        )
    return model, score(model, dataset)


def code_for(model: LatentModel, session: Session) -> np.ndarray:
    """B's code for the point A shows: (d_B,)."""
    d = model.config.latent_dim
    if d == session.latent_dim:
        return session.z.copy()
    point = session.plane.to_plane(session.z)
    return dims_plane(d).to_latent(point, np.zeros(d))


def decode_pair(a: LatentModel, za: np.ndarray, b: LatentModel, zb: np.ndarray) -> np.ndarray:
    """A's decode of za beside B's of zb: one (H, 2W + gap, C) picture."""
    return tile(
        np.concatenate([decode_images(a, za[None]), decode_images(b, zb[None])]), 1, 2, _GAP, 0.3
    )


class CompareView(LazyView):
    def __init__(
        self,
        session: Session,
        run_task: Callable[..., object],
        parent=None,
    ):
        super().__init__(parent)
        self.session = session
        self.run_task = run_task  # (fn, *args, done=, error_title=) in the background
        self.other: LatentModel | None = None  # model B
        self.other_path: Path | None = None  # its file, when opened from one
        self.other_name = ""  # what B is, for the title
        self.reports: dict[str, Report | None] = {"A": None, "B": None}
        self.picture: np.ndarray | None = None
        self.open_button = QPushButton("Open model B…", objectName="openCompareButton")
        self.open_button.setToolTip("A checkpoint to compare with the model on screen")
        self.previous_button = QPushButton("Previous model", objectName="comparePreviousButton")
        self.previous_button.setToolTip(
            "The model shown before the current one (e.g. trained before)"
        )
        self.title = QLabel("A: the model on screen · B: none yet")
        self.title.setWordWrap(True)
        bar = QHBoxLayout()
        bar.addWidget(self.open_button)
        bar.addWidget(self.previous_button)
        bar.addWidget(self.title, 1)
        self.canvas = PictureCanvas("compareImages")
        self.table = QTableWidget(len(_ROWS), 3, objectName="compareTable")
        self.table.setHorizontalHeaderLabels(["", "A", "B"])
        self.table.verticalHeader().hide()
        self.table.verticalHeader().setDefaultSectionSize(self.fontMetrics().height() + 4)
        self.table.setEditTriggers(QTableWidget.EditTrigger.NoEditTriggers)
        for r, (name, tip, _, _) in enumerate(_ROWS):
            item = QTableWidgetItem(name)
            item.setToolTip(tip)
            self.table.setItem(r, 0, item)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.addLayout(bar)
        row = QHBoxLayout()
        row.addWidget(self.canvas, 1)
        row.addWidget(self.table)
        layout.addLayout(row, 1)
        self.decodes = LatestJob(self)
        self.decodes.done.connect(self._show_picture)
        self.scores = LatestJob(self)
        self.scores.done.connect(lambda rep: self._show_report("A", rep))
        self.open_button.clicked.connect(self.ask_open)
        self.previous_button.clicked.connect(self.use_previous)
        session.codeChanged.connect(self.decode)
        session.decoderChanged.connect(self.request)
        session.modelChanged.connect(self._model_changed)
        session.codesChanged.connect(self._model_changed)
        session.datasetChanged.connect(self._dataset_changed)
        self._scored_version = -1  # the model version A's figures are for
        self.previous_button.setEnabled(session.previous is not None)

    # -- model B ------------------------------------------------------------------------
    def ask_open(self) -> None:
        path, _ = QFileDialog.getOpenFileName(
            self, "Open model B to compare", "", "Checkpoints (*.safetensors)"
        )
        if path:
            self.open_model(Path(path))

    def open_model(self, path: Path) -> None:
        """Load `path` as model B in the background and score it on the open data."""
        if self.session.dataset is None:
            return
        self.title.setText(f"B: opening {path.name}…")
        self.run_task(
            open_for_comparison,
            path,
            self.session.dataset,
            done=lambda result: self._opened(path, *result),
            error_title="Cannot compare with this model",
        )

    def _opened(self, path: Path, model: LatentModel, rep: Report) -> None:
        self.other, self.other_path, self.other_name = model, path, path.name
        self._show_report("B", rep)
        self.request()

    def use_previous(self) -> None:
        """Make the model shown before the current one model B, scored on the open data."""
        s = self.session
        if s.previous is None or s.dataset is None:
            self.title.setText("B: no model was shown before this one")
            return
        model, info = s.previous
        if tuple(model.config.image_shape) != s.dataset.image_shape:
            self.title.setText("B: the previous model was for images of another shape")
            return
        self.other, self.other_path = model, None
        self.other_name = f"{info.source or 'the previous model'} (previous)"
        self._rescore_other()
        self.request()

    def _rescore_other(self) -> None:
        self.reports["B"] = None
        self._fill_table()
        self.run_task(
            score,
            self.other,
            self.session.dataset,
            done=lambda rep: self._show_report("B", rep),
            error_title="Cannot score model B",
        )

    def _dataset_changed(self) -> None:
        d = self.session.dataset
        if self.other is not None and d is not None:
            if tuple(self.other.config.image_shape) != d.image_shape:
                self.other, self.other_path, self.other_name = None, None, ""
                self.reports["B"] = None  # it cannot decode this data
                self.picture = None
                self.canvas.clear_picture()
            else:
                self._rescore_other()  # on the new data
        self._model_changed()

    # -- following the cursor and the model ----------------------------------------------
    def _model_changed(self) -> None:
        # greyed out until a model was shown before this one (the first model has none)
        self.previous_button.setEnabled(self.session.previous is not None)
        self.reports["A"] = None
        self._fill_table()
        self.request()

    def request(self) -> None:
        """Score model A, unless its figures are for the model on screen, and decode."""
        s = self.session
        if s.model is None or len(s.z) == 0 or self.hidden_now():
            return
        if s.dataset is not None and self._scored_version != s.model_version:
            self._scored_version = s.model_version
            self.scores.submit(score, s.model_snapshot(), s.dataset)
        self.decode()

    def decode(self) -> None:
        """The current code decoded by A and by B, side by side (the code moved)."""
        s = self.session
        if s.model is None or len(s.z) == 0 or self.hidden_now():
            return
        self._describe()
        if self.other is None or s.plane is None:
            return
        if self.other.conditional and s.model.conditional:
            self.other.condition = s.model.condition  # the same class in both
        self.decodes.submit(
            decode_pair, s.model_snapshot(), s.z.copy(), self.other, code_for(self.other, s)
        )

    def _show_picture(self, picture: np.ndarray) -> None:
        self.picture = picture
        self.canvas.show_picture(picture)

    def _describe(self) -> None:
        a = self.session.info.source or "the model on screen"
        b = self.other_name or "none: open one"
        how = ""
        if self.other is not None and self.other.config.latent_dim != self.session.latent_dim:
            how = " (B reads the point as its z0, z1)"
        self.title.setText(f"A (left): {a} · B (right): {b}{how}")

    # -- the table ---------------------------------------------------------------------
    def _show_report(self, which: str, rep: Report) -> None:
        self.reports[which] = rep
        self._fill_table()

    def _fill_table(self) -> None:
        for col, which in enumerate(("A", "B")):
            rep = self.reports[which]
            figures = {} if rep is None else rep.to_dict()
            if rep is not None:
                figures["kind"] = KIND_TABLE[rep.kind].title if rep.kind in KIND_TABLE else rep.kind
            for r, (_, _, key, fmt) in enumerate(_ROWS):
                value = figures.get(key)
                if rep is None:  # being scored, or (B) no model yet
                    text = "…" if which == "A" or self.other is not None else ""
                else:
                    text = "—" if value is None else fmt.format(value)
                item = QTableWidgetItem(text)
                item.setTextAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
                self.table.setItem(r, col + 1, item)
        self.table.resizeColumnsToContents()
        t = self.table
        width = sum(t.columnWidth(c) for c in range(3)) + 2 * t.frameWidth()
        t.setFixedWidth(width + t.verticalScrollBar().sizeHint().width() * (t.rowCount() > 8))

"""Inspect a data point (`dataPointPicture`, `codeTable`): what the encoder made of it.

The data point in focus (hovered near, or clicked, on the latent plot) is shown as its
original image x next to its reconstruction x̂ (the decode of its posterior mean μ),
over a strip of decodes of codes drawn from q(z|x) = N(μ, σ²) (a flow's from its own
q(z|x)): how much the image would vary if the encoder's uncertainty were sampled.
Beside it, its label or factors and, per dimension, μ, σ and the KL of this point. The
same tab switches on the 1σ ellipses of a random subset of the data on the plot (a flow's
posterior: clouds of its samples, as ui/uncertainty.py draws them).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch
from PySide6.QtCore import Signal
from PySide6.QtWidgets import (
    QAbstractItemView,
    QCheckBox,
    QHBoxLayout,
    QSpinBox,
    QTableWidget,
    QTableWidgetItem,
)

from explorer.core.data import Dataset
from explorer.core.figures import decode_images, tile
from explorer.core.kind_table import KIND_TABLE
from explorer.core.metrics import kl_per_dim
from explorer.core.model import LatentModel
from explorer.core.posterior import model_samples, posterior_samples
from explorer.ui.lazy_view import LazyView
from explorer.ui.picture_canvas import picture_panel
from explorer.ui.state import Session
from explorer.ui.workers import LatestJob

_GAP = 1
_FILL = 0.13  # empty cells match the canvas's dark background
_HOW_TO = "Hover near a data point of the plot, or click one to pin it here"


@dataclass(frozen=True)
class Inspection:
    index: int  # the data point
    mu: np.ndarray  # (d,) posterior mean
    sigma: np.ndarray  # (d,) posterior standard deviation
    reconstruction: np.ndarray  # (H, W, C) decode of mu
    samples: np.ndarray  # (k, d) codes drawn from q(z|x)
    sample_images: np.ndarray  # (k, H, W, C) their decodes
    picture: np.ndarray  # x and x̂ over the samples' strip


def image_of(dataset: Dataset, index: int) -> np.ndarray:
    """Data image `index` as float32 (H, W, C) in [0, 1]."""
    img = dataset.images[index].astype(np.float32) / 255.0
    return img[..., None] if img.ndim == 2 else img


def inspect_point(
    model: LatentModel,
    original: np.ndarray,
    index: int,
    mu: np.ndarray,
    logvar: np.ndarray,
    k: int,
    label: int | None = None,
) -> Inspection:
    """Decode a data point's posterior mean and k samples of it (seeded by the index);
    a conditional model decodes them as the point's own class `label`. A flow's samples
    come from its own q(z|x), not from the Gaussian summary (mu, logvar)."""
    if KIND_TABLE[model.kind].flow:
        pixels = np.round(np.moveaxis(original, -1, 0) * 255).astype(np.uint8)[None]
        samples = model_samples(model, torch.from_numpy(pixels), k, seed=index)[0]
    else:
        samples = posterior_samples(mu, logvar, k, seed=index)
    y = None if label is None else np.full(k + 1, label)
    decoded = decode_images(model, np.concatenate([mu[None], samples]), y)
    cols = max(2, k)
    cells = np.full((2 * cols, *original.shape), _FILL, np.float32)
    cells[0], cells[1], cells[cols : cols + k] = original, decoded[0], decoded[1:]
    picture = tile(cells, 2, cols, gap=_GAP, fill=_FILL)
    sigma = np.exp(0.5 * logvar)
    return Inspection(index, mu, sigma, decoded[0], samples, decoded[1:], picture)


def describe(dataset: Dataset, index: int) -> str:
    """What is known about data point `index`: its label and factors, in words."""
    parts = [f"Data point #{index:,}"]
    if dataset.labels is not None:
        label = int(dataset.labels[index])
        names = dataset.class_names
        parts.append(f"label {names[label] if names else label}")
    if dataset.factors is not None:
        names = dataset.factor_names or [f"factor {i}" for i in range(dataset.factors.shape[1])]
        parts += [f"{n} {int(v)}" for n, v in zip(names, dataset.factors[index], strict=True)]
    return " · ".join(parts)


class DataPointView(LazyView):
    subsetChanged = Signal(int)  # how many random points get ellipses on the plot (0: none)

    def __init__(self, session: Session, parent=None):
        super().__init__(parent)
        self.session = session
        self.result: Inspection | None = None
        self.samples_spin = QSpinBox(objectName="sampleCount", minimum=2, maximum=16, value=8)
        self.samples_spin.setSuffix(" samples of q(z|x)")
        self.subset_check = QCheckBox(objectName="ellipseCheck")
        self._name_subset()
        self.subset_spin = QSpinBox(objectName="ellipseCount", minimum=10, maximum=5000)
        self.subset_spin.setValue(300)
        self.subset_spin.setSingleStep(50)
        self.subset_spin.setSuffix(" random points")
        bar = QHBoxLayout()
        for w in (self.samples_spin, self.subset_check, self.subset_spin):
            bar.addWidget(w)
        bar.addStretch(1)
        self.note, self.canvas = picture_panel(self, bar, "dataPointPicture")
        self.table = QTableWidget(0, 4, objectName="codeTable")
        self.table.setHorizontalHeaderLabels(["dim", "μ", "σ", "KL (nats)"])
        self.table.verticalHeader().setVisible(False)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.hide()  # shown, sized to its columns, once a point is inspected
        # beside the picture: the dock below the plot is wide and low, and a table under
        # the picture left the decoded strips a third of its height
        layout = self.layout()
        layout.removeWidget(self.canvas)
        row = QHBoxLayout()
        row.addWidget(self.canvas, 1)
        row.addWidget(self.table)
        layout.addLayout(row, 1)
        self.note.setText(_HOW_TO)
        self.canvas.setToolTip(
            "Top: the image x and its reconstruction (the decode of μ). Below: decodes of "
            "codes drawn from q(z|x) = N(μ, σ²)"
        )

        self.job = LatestJob(self)
        self.job.done.connect(self._show)
        self.samples_spin.valueChanged.connect(self.request)
        self.subset_check.toggled.connect(self._subset_changed)
        self.subset_spin.valueChanged.connect(self._subset_changed)
        session.focusChanged.connect(self.request)
        session.codesChanged.connect(self.request)  # new posteriors for the same point
        session.datasetChanged.connect(self.request)
        session.modelChanged.connect(self._name_subset)

    def _name_subset(self) -> None:
        """Say what the subset is drawn as: a flow's posterior is no ellipse."""
        model = self.session.model
        if model is not None and KIND_TABLE[model.kind].flow:
            self.subset_check.setText("Posterior samples of")
            self.subset_check.setToolTip(
                "Draw samples of the encoder's q(z|x) (its flow's) for a random subset of "
                "the data: where they spread, the encoder is unsure"
            )
        else:
            self.subset_check.setText("1σ ellipses of")
            self.subset_check.setToolTip(
                "Draw the encoder's 1σ ellipse for a random subset of the data: at high β "
                "they grow and overlap"
            )

    def subset_size(self) -> int:
        return self.subset_spin.value() if self.subset_check.isChecked() else 0

    def _subset_changed(self) -> None:
        self.subsetChanged.emit(self.subset_size())

    def request(self) -> None:
        """Inspect the focused point with the current model; deferred while hidden."""
        s = self.session
        i = s.focus
        ready = (
            s.model is not None
            and i is not None
            and s.logvars is not None
            and i < len(s.logvars)
            and s.logvars.shape[1] == s.latent_dim
        )
        if not ready:
            self.result = None
            self.canvas.clear_picture()
            self.table.setRowCount(0)
            self.table.hide()
            self.note.setText(_HOW_TO)
            return
        if self.hidden_now():
            return
        self.job.submit(
            inspect_point,
            s.model_snapshot(),
            image_of(s.dataset, i),
            i,
            s.codes[i].astype(np.float64),
            s.logvars[i].astype(np.float64),
            self.samples_spin.value(),
            int(s.dataset.labels[i]) if s.model.conditional else None,
        )

    def _show(self, result: Inspection) -> None:
        s = self.session
        if s.dataset is None or result.index >= len(s.dataset):
            return  # the data changed while it was computed
        self.result = result
        pitch = result.reconstruction.shape[0] + _GAP
        self.canvas.show_picture(result.picture, ["x, rec", "z ~ q"], pitch)
        self.note.setText(describe(s.dataset, result.index))
        mu, sigma = result.mu, result.sigma
        with np.errstate(divide="ignore"):  # σ = 0: a deterministic model, KL not defined
            kl = kl_per_dim(mu[None], 2.0 * np.log(sigma)[None])  # of this one point
        self.table.setRowCount(len(mu))
        for r, row in enumerate(zip(mu, sigma, kl, strict=True)):
            cells = [
                f"z{r}",
                *(
                    "—" if not np.isfinite(v) else f"{v:+.3f}" if c == 0 else f"{v:.3f}"
                    for c, v in enumerate(row)
                ),
            ]
            for c, text in enumerate(cells):
                self.table.setItem(r, c, QTableWidgetItem(text))
        t = self.table
        t.resizeColumnsToContents()
        width = sum(t.columnWidth(c) for c in range(t.columnCount())) + 2 * t.frameWidth()
        t.setFixedWidth(width + t.verticalScrollBar().sizeHint().width())  # never sideways
        t.show()

"""Disentanglement (the Factors tab): how well the latent dimensions separate the data's
ground-truth factors, by MIG, DCI, SAP and the FactorVAE score
(`explorer.core.disentanglement`), with the protocol each was measured under.

- The controls choose the protocol's common variants: posterior means or sampled codes,
  MIG's histogram bins, SAP's factors as discrete or continuous, and which factors are
  scored (leaving out shape gives MIG as Chen et al. report it on dSprites).
- The summary gives each score, the protocol line below it what was measured how.
- The table (`factorTable`) has one row per factor: its MIG gap and best dimension,
  DCI's completeness and probe accuracy, its SAP gap and its FactorVAE accuracy.
  Choosing a row plots the factor's two most informative dimensions, coloured by it.
- The heat map (`metricMatrix`) shows the matrix behind a metric, a row per factor and
  a column per dimension: MIG's mutual information ÷ the factor's entropy, DCI's
  importance, SAP's per-dimension scores or the FactorVAE votes.

Scores are computed in the background (`LatestJob`): the window never waits for them.
Labelled data without factors is measured against its label: which dimensions carry
the class (not a disentanglement score: a class is not a factor of variation).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QFont
from PySide6.QtWidgets import (
    QAbstractItemView,
    QCheckBox,
    QComboBox,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QSpinBox,
    QSplitter,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from explorer.core.disentanglement import MetricSettings, Scores, score
from explorer.ui.heat_map import HeatMap
from explorer.ui.lazy_view import LazyView
from explorer.ui.state import Session
from explorer.ui.theme import hint_label
from explorer.ui.workers import LatestJob

# The matrices the heat map can show: (combo text, key).
MATRICES = (
    ("MIG: mutual information ÷ H(factor)", "mig"),
    ("DCI: importance", "dci"),
    ("SAP: score of each dimension", "sap"),
    ("FactorVAE: share of the votes", "factor_vae"),
)
# The table's columns: (header, tooltip).
COLUMNS = (
    ("MIG gap", "MI of the factor's best dimension − its second's, ÷ the factor's entropy"),
    ("best", "The dimension with the most mutual information with the factor"),
    ("DCI C", "DCI completeness: 1 − entropy of how its importance spreads over dimensions"),
    ("DCI I", "DCI informativeness: held-out accuracy of the factor's linear probe"),
    ("SAP gap", "Score of the factor's best dimension − its second's"),
    ("FactorVAE", "Share of the factor's held-out votes the majority-vote classifier gets right"),
)


@dataclass(frozen=True)
class Disentanglement:
    scores: Scores
    of_label: bool  # computed against the label, the data having no factors


def factor_columns(session: Session) -> tuple[np.ndarray, list[str], bool] | None:
    """(N, K) factors, their names, and whether they are only the label; None if neither."""
    ds = session.dataset
    if ds is None:
        return None
    if ds.factors is not None:
        names = ds.factor_names or [f"factor {i}" for i in range(ds.factors.shape[1])]
        return ds.factors, list(names), False
    if ds.labels is not None:
        return ds.labels[:, None], ["label"], True
    return None


def compute_disentanglement(
    codes: np.ndarray,
    logvars: np.ndarray | None,
    factors: np.ndarray,
    names: list[str],
    of_label: bool,
    settings: MetricSettings,
) -> Disentanglement:
    return Disentanglement(score(codes, logvars, factors, names, settings), of_label)


def matrix(scores: Scores, which: str) -> tuple[np.ndarray, list[list[str]]]:
    """The (K, d) matrix behind metric `which` (a MATRICES key), in [0, 1], and a
    tooltip per cell."""
    names, m = scores.factor_names, scores.mig
    if which == "mig":
        h = np.array(m.entropies)
        values = m.mutual_info.T / np.where(h > 0, h, np.inf)[:, None]
        raw = m.mutual_info.T
        tip = "{z} and {f}: MI {raw:.3f} nats = {v:.1%} of its entropy"
    elif which == "dci":
        values = raw = scores.dci.importance.T
        tip = "{z} carries {v:.1%} of the importance for predicting {f}"
    elif which == "sap":
        values = raw = scores.sap.matrix.T
        kind = "R²" if scores.sap.continuous else "held-out accuracy"
        tip = "{z} alone predicts {f} with " + kind + " {v:.3f}"
    else:
        raw = scores.factor_vae.votes.astype(float)
        values = raw / np.maximum(raw.sum(1, keepdims=True), 1)
        tip = "{z} varied least in {raw:.0f} of {f}'s held-out votes ({v:.1%})"
    tips = [
        [tip.format(z=f"z{j}", f=f, raw=raw[i, j], v=values[i, j]) for j in range(values.shape[1])]
        for i, f in enumerate(names)
    ]
    return values, tips


def _short(value: float) -> str:
    if math.isnan(value):
        return "–"
    return "1.0" if value >= 0.995 else f"{value:.2f}".removeprefix("0")


def summary_text(scores: Scores) -> str:
    """Every score on one line."""
    c = scores.dci

    def num(v: float) -> str:
        return "–" if math.isnan(v) else f"{v:.3f}"

    return (
        f"MIG {num(scores.mig.score)} · DCI disentanglement {num(c.disentanglement)}, "
        f"completeness {num(c.completeness)}, informativeness {num(c.informativeness)} · "
        f"SAP {num(scores.sap.score)} · FactorVAE score {num(scores.factor_vae.score)}"
    )


def protocol_text(scores: Scores) -> str:
    """What was measured how: what the metrics share, then each one's estimator."""
    first = scores.mig.protocol
    split = scores.dci.protocol
    shared = (
        f"Protocol: factors {', '.join(first.factors)}; posterior {first.codes}; "
        f"{first.points:,} points (DCI, SAP and FactorVAE fitted on {split.train:,}, "
        f"tested on {split.test:,}); seed {first.seed}."
    )
    each = " · ".join(
        f"{r.protocol.metric}: {r.protocol.method}"
        for r in (scores.mig, scores.dci, scores.sap, scores.factor_vae)
    )
    return f"{shared} {each} (details: hover)."


def protocol_details(scores: Scores) -> str:
    """Each metric's protocol in full, as the CLI prints it."""
    return "\n".join(
        r.protocol.describe() for r in (scores.mig, scores.dci, scores.sap, scores.factor_vae)
    )


class FactorsView(LazyView):
    factorChosen = Signal(str, int, int)  # factor name, its best and second-best dimension

    def __init__(self, session: Session, parent=None):
        super().__init__(parent)
        self.session = session
        self.result: Disentanglement | None = None
        self.summary = QLabel(objectName="migSummary")
        self.summary.setWordWrap(True)
        self.summary.setToolTip(
            "MIG (Chen et al. 2018), DCI (Eastwood & Williams 2018), SAP (Kumar et al. 2018) "
            "and the FactorVAE score (Kim & Mnih 2018), as disentanglement_lib defines them: "
            "1 is perfectly disentangled, 0 not at all"
        )
        self.protocol = hint_label(QLabel(objectName="metricProtocol"))
        self.protocol.setWordWrap(True)
        self.protocol.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.table = QTableWidget(0, 0, objectName="factorTable")
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        # rows as tall as their text: five factors fit the dock's height without scrolling
        self.table.verticalHeader().setDefaultSectionSize(self.fontMetrics().height() + 6)
        self.show_button = QPushButton("Plot its two best dimensions", objectName="plotFactor")
        self.show_button.setToolTip(
            "Put the chosen factor's two most informative dimensions on the plane and "
            "colour the points by the factor"
        )
        self.show_button.setEnabled(False)
        self.matrix_choice = QComboBox(objectName="matrixChoice")
        for text, key in MATRICES:
            self.matrix_choice.addItem(text, key)
        self.matrix_choice.setToolTip("The matrix behind a metric: a row per factor")
        self.heat_map = HeatMap()
        self._build_controls()
        self._lay_out()
        self.job = LatestJob(self)
        self.job.done.connect(self._show)
        self.job.failed.connect(lambda message: self.summary.setText(f"Not measured: {message}"))
        self.table.itemSelectionChanged.connect(
            lambda: self.show_button.setEnabled(bool(self.table.selectedItems()))
        )
        self.table.cellDoubleClicked.connect(lambda row, _: self.choose(row))
        self.show_button.clicked.connect(lambda: self.choose(self.table.currentRow()))
        self.matrix_choice.currentIndexChanged.connect(self._show_matrix)
        session.codesChanged.connect(self.request)
        session.datasetChanged.connect(self._factors_changed)
        session.modelChanged.connect(self.request)
        self._factors_changed()

    def _build_controls(self) -> None:
        self.codes_choice = QComboBox(objectName="metricCodes")
        self.codes_choice.addItem("posterior means", "means")
        self.codes_choice.addItem("sampled codes", "samples")
        self.codes_choice.setToolTip(
            "Score the posterior means (disentanglement_lib) or one sample of q(z|x) per "
            "image (Chen et al.'s code)"
        )
        self.bins = QSpinBox(objectName="migBins", minimum=2, maximum=200, value=20)
        self.bins.setPrefix("MIG bins ")
        self.bins.setToolTip(
            "MIG: equal-width histogram bins per dimension (20 as disentanglement_lib)"
        )
        self.sap_choice = QComboBox(objectName="sapFactors")
        self.sap_choice.addItem("SAP: discrete", False)
        self.sap_choice.addItem("SAP: continuous", True)
        self.sap_choice.setToolTip(
            "SAP scores each dimension by a one-dimension classifier's held-out accuracy "
            "(discrete, disentanglement_lib's setting) or by R² (continuous)"
        )
        self.factor_boxes: list[QCheckBox] = []
        self.factor_row = QHBoxLayout()
        self.factor_row.setContentsMargins(0, 0, 0, 0)
        for widget in (self.codes_choice, self.sap_choice):
            widget.currentIndexChanged.connect(self.request)
        self.bins.valueChanged.connect(self.request)

    def _lay_out(self) -> None:
        controls = QHBoxLayout()
        for widget in (self.codes_choice, self.bins, self.sap_choice):
            controls.addWidget(widget)
        controls.addSpacing(12)
        controls.addLayout(self.factor_row)
        controls.addStretch(1)
        controls.addWidget(self.show_button)
        right = QWidget()
        heat = QVBoxLayout(right)
        heat.setContentsMargins(0, 0, 0, 0)
        heat.addWidget(self.matrix_choice)
        heat.addWidget(self.heat_map, 1)
        body = QSplitter(Qt.Orientation.Horizontal, objectName="factorsSplitter")
        for part, stretch in ((self.table, 2), (right, 3)):
            body.addWidget(part)
            body.setStretchFactor(body.count() - 1, stretch)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.setSpacing(3)
        layout.addLayout(controls)
        layout.addWidget(self.summary)
        layout.addWidget(body, 1)
        layout.addWidget(self.protocol)

    def _factors_changed(self) -> None:
        """One box per factor of the new data (none for a label); data with the same
        factors keeps the boxes as they are ticked."""
        columns = factor_columns(self.session)
        names = columns[1] if columns is not None and not columns[2] else []
        if names == [b.text() for b in self.factor_boxes]:
            self.request()
            return
        for box in self.factor_boxes:
            self.factor_row.removeWidget(box)
            box.deleteLater()
        self.factor_boxes = []
        for name in names:
            box = QCheckBox(name, objectName=f"metricFactor_{name}", checked=True)
            box.setToolTip(f"Score {name}; unticked, every metric leaves it out")
            box.toggled.connect(self.request)
            self.factor_row.addWidget(box)
            self.factor_boxes.append(box)
        self.request()

    def settings(self) -> MetricSettings:
        """The protocol the controls choose."""
        return MetricSettings(
            exclude=tuple(b.text() for b in self.factor_boxes if not b.isChecked()),
            codes=self.codes_choice.currentData(),
            bins=self.bins.value(),
            sap_continuous=self.sap_choice.currentData(),
        )

    def _clear(self, message: str) -> None:
        self.result = None
        self.table.setRowCount(0)
        self.heat_map.show_matrix(np.zeros((0, 0)), [], [])
        self.show_button.setEnabled(False)
        self.summary.setText(message)
        self.protocol.clear()
        self.protocol.setToolTip("")

    def request(self) -> None:
        """Recompute for the current codes; deferred while the view is hidden."""
        s = self.session
        columns = factor_columns(s)
        if columns is None or s.codes is None or len(s.codes) != len(s.dataset):
            self._clear(
                "This data has neither factors nor labels to measure against."
                if s.dataset is not None and columns is None
                else "Waiting for the codes of the data…"
            )
            return
        if self.factor_boxes and not any(b.isChecked() for b in self.factor_boxes):
            self._clear("Tick at least one factor to score.")
            return
        if self.hidden_now():
            return
        self.job.submit(compute_disentanglement, s.codes, s.logvars, *columns, self.settings())

    def choose(self, row: int) -> None:
        """Plot factor `row` on its two most informative dimensions."""
        if self.result is None or not 0 <= row < len(self.result.scores.factor_names):
            return
        m = self.result.scores.mig
        order = np.argsort(m.mutual_info[:, row])[::-1]
        second = int(order[1]) if len(order) > 1 else int(order[0])
        self.factorChosen.emit(m.factor_names[row], int(order[0]), second)

    def _show(self, result: Disentanglement) -> None:
        self.result = result
        scores = result.scores
        if result.of_label:
            self.summary.setText(
                f"The data has no factors; against its label: z{scores.mig.best_dims[0]} "
                "carries most about the class (not a disentanglement score)."
            )
        else:
            self.summary.setText(summary_text(scores))
        self.protocol.setText(protocol_text(scores))
        self.protocol.setToolTip(protocol_details(scores))
        self._fill_table(scores)
        self._show_matrix()

    def _fill_table(self, scores: Scores) -> None:
        names = scores.factor_names
        self.table.clear()
        self.table.setRowCount(len(names))
        self.table.setColumnCount(len(COLUMNS))
        self.table.setHorizontalHeaderLabels([c[0] for c in COLUMNS])
        for j, (_, tip) in enumerate(COLUMNS):
            self.table.horizontalHeaderItem(j).setToolTip(tip)
        self.table.setVerticalHeaderLabels(list(names))
        m, c, s, f = scores.mig, scores.dci, scores.sap, scores.factor_vae
        bold = QFont()
        bold.setBold(True)
        for i in range(len(names)):
            cells = (
                _short(m.gaps[i]),
                f"z{m.best_dims[i]}",
                _short(c.per_factor[i]),
                _short(c.accuracy[i]),
                _short(s.gaps[i]),
                _short(f.per_factor[i]),
            )
            for j, text in enumerate(cells):
                item = QTableWidgetItem(text)
                item.setTextAlignment(Qt.AlignmentFlag.AlignCenter)
                if j == 1:
                    item.setFont(bold)
                self.table.setItem(i, j, item)
        self.table.resizeColumnsToContents()
        self.show_button.setEnabled(bool(self.table.selectedItems()))

    def _show_matrix(self) -> None:
        if self.result is None:
            return
        scores = self.result.scores
        values, tips = matrix(scores, self.matrix_choice.currentData())
        d = values.shape[1]
        self.heat_map.show_matrix(values, scores.factor_names, [f"z{j}" for j in range(d)], tips)

"""Disentanglement (`factorTable`): which latent dimension carries which factor.

For data with ground-truth factors (the built-in sprites), the Mutual Information Gap
(`metrics.mig`, as disentanglement_lib computes it) and, per factor, the mutual
information of every latent dimension with it, divided by the factor's entropy: one
row per factor, one shaded cell per dimension, the most informative one in bold. A
disentangled model has one dark cell per row, each in a different column. Choosing a
row plots that factor's two most informative dimensions, coloured by the factor.

Labelled data without factors gets the same table for its label: which dimensions
carry the class (not a disentanglement score: a class is not a factor of variation).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from PySide6.QtCore import Signal
from PySide6.QtGui import QBrush, QColor, QFont
from PySide6.QtWidgets import (
    QAbstractItemView,
    QLabel,
    QPushButton,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
)

from explorer.core.metrics import MIGResult, mig
from explorer.ui.lazy_view import LazyView
from explorer.ui.state import Session
from explorer.ui.workers import LatestJob

_HIGH = np.array([31, 119, 180])  # the KL bars' blue: a cell carrying all of the factor
_LOW = np.array([255, 255, 255])


@dataclass(frozen=True)
class Disentanglement:
    result: MIGResult
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
    codes: np.ndarray, factors: np.ndarray, names: list[str], of_label: bool
) -> Disentanglement:
    return Disentanglement(mig(codes, factors, names), of_label)


def _short(share: float) -> str:
    """A share in [0, 1] as compactly as tables print it: .25, 1.0 (columns stay narrow)."""
    return "1.0" if share >= 0.995 else f"{share:.2f}".removeprefix("0")


class FactorsView(LazyView):
    factorChosen = Signal(str, int, int)  # factor name, its best and second-best dimension

    def __init__(self, session: Session, parent=None):
        super().__init__(parent)
        self.session = session
        self.result: Disentanglement | None = None
        self.summary = QLabel(objectName="migSummary")
        self.summary.setWordWrap(True)
        self.summary.setToolTip(
            "Mutual Information Gap (Chen et al. 2018), computed as disentanglement_lib "
            "does: per factor, the gap between the MI of its two most informative "
            "dimensions divided by the factor's entropy, averaged over factors. 1 is "
            "perfectly disentangled, 0 not at all."
        )
        self.table = QTableWidget(0, 0, objectName="factorTable")
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.show_button = QPushButton("Plot its two best dimensions", objectName="plotFactor")
        self.show_button.setToolTip(
            "Put the chosen factor's two most informative dimensions on the plane and "
            "colour the points by the factor"
        )
        self.show_button.setEnabled(False)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.addWidget(self.summary)
        layout.addWidget(self.table, 1)
        layout.addWidget(self.show_button)
        self.job = LatestJob(self)
        self.job.done.connect(self._show)
        self.table.itemSelectionChanged.connect(
            lambda: self.show_button.setEnabled(bool(self.table.selectedItems()))
        )
        self.table.cellDoubleClicked.connect(lambda row, _: self.choose(row))
        self.show_button.clicked.connect(lambda: self.choose(self.table.currentRow()))
        session.codesChanged.connect(self.request)
        session.datasetChanged.connect(self.request)
        session.modelChanged.connect(self.request)

    def request(self) -> None:
        """Recompute for the current codes; deferred while the view is hidden."""
        s = self.session
        columns = factor_columns(s)
        if columns is None or s.codes is None or len(s.codes) != len(s.dataset):
            self.result = None
            self.table.setRowCount(0)
            self.show_button.setEnabled(False)
            self.summary.setText(
                "This data has neither factors nor labels to measure against."
                if s.dataset is not None and columns is None
                else "Waiting for the codes of the data…"
            )
            return
        if self.hidden_now():
            return
        self.job.submit(compute_disentanglement, s.codes, *columns)

    def choose(self, row: int) -> None:
        """Plot factor `row` on its two most informative dimensions."""
        if self.result is None or not 0 <= row < len(self.result.result.factor_names):
            return
        r = self.result.result
        order = np.argsort(r.mutual_info[:, row])[::-1]
        second = int(order[1]) if len(order) > 1 else int(order[0])
        self.factorChosen.emit(r.factor_names[row], int(order[0]), second)

    def normalised(self) -> np.ndarray:
        """(K, d) MI of each dimension with each factor over the factor's entropy."""
        r = self.result.result
        h = np.array(r.entropies)
        return r.mutual_info.T / np.where(h > 0, h, np.inf)[:, None]

    def _show(self, result: Disentanglement) -> None:
        self.result = result
        r = result.result
        d = r.mutual_info.shape[0]
        if result.of_label:
            self.summary.setText(
                f"The data has no factors; against its label: z{r.best_dims[0]} carries most "
                "about the class. Cells: MI of each dimension with the label ÷ its entropy."
            )
        else:
            self.summary.setText(
                f"MIG {r.score:.3f} · cells: MI of each dimension with the factor ÷ its "
                "entropy, the most informative in bold · choose a row to plot it"
            )
        self.table.clear()
        self.table.setRowCount(len(r.factor_names))
        self.table.setColumnCount(d + 1)
        self.table.setHorizontalHeaderLabels(["gap", *(f"z{j}" for j in range(d))])
        self.table.horizontalHeaderItem(0).setToolTip("The factor's MIG: top MI − second, ÷ H")
        self.table.setVerticalHeaderLabels(list(r.factor_names))
        share = self.normalised()
        bold = QFont()
        bold.setBold(True)
        for f in range(len(r.factor_names)):
            gap = r.gaps[f]
            self.table.setItem(f, 0, QTableWidgetItem("–" if np.isnan(gap) else _short(gap)))
            for j in range(d):
                v = float(np.clip(share[f, j], 0.0, 1.0))
                cell = QTableWidgetItem(_short(share[f, j]))
                cell.setToolTip(
                    f"z{j} and {r.factor_names[f]}: MI {r.mutual_info[j, f]:.3f} nats "
                    f"= {share[f, j]:.1%} of its entropy"
                )
                rgb = (_LOW + (_HIGH - _LOW) * v).astype(int)
                cell.setBackground(QBrush(QColor(*rgb)))
                cell.setForeground(QBrush(QColor("white" if v > 0.5 else "black")))
                if j == r.best_dims[f]:
                    cell.setFont(bold)
                self.table.setItem(f, j + 1, cell)
        self.table.resizeColumnsToContents()
        self.show_button.setEnabled(bool(self.table.selectedItems()))

"""The weight control of an open sweep (`sweepSlider`): one notch per model of the sweep.

A sweep folder (`python -m explorer sweep`) holds one model per value of a weight (β,
or a kind's α, γ, C_max) on the same data. Moving the slider (or pressing ← / →) opens
the model of that value, so the scatter, the sliders and every view re-arrange as the
weight trades reconstruction for a regular latent space. The bar shows only while the
model on screen belongs to the sweep.
"""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import QHBoxLayout, QLabel, QSlider, QWidget

from explorer.core.kind_table import WEIGHT_SYMBOLS
from explorer.core.sweep import SweepModel, weight_text
from explorer.ui.state import Session


def describe(m: SweepModel) -> str:
    scores = [
        (name, value)
        for name, value in (
            ("MIG", m.mig),
            ("DCI", m.dci_disentanglement),
            ("SAP", m.sap),
            ("FactorVAE", m.factor_vae_score),
        )
        if value is not None
    ]
    metrics = "".join(f" · {name} {value:.2f}" for name, value in scores)
    return (
        f"{weight_text(m)} · ELBO {m.elbo:.1f} (recon {m.recon:.1f}, KL {m.kl:.1f}) · "
        f"{m.active_units} active{metrics}"
    )


class SweepBar(QWidget):
    modelChosen = Signal(object)  # Path of the sweep's checkpoint to open

    def __init__(self, session: Session, parent=None):
        super().__init__(parent)
        self.session = session
        self.folder: Path | None = None
        self.models: list[SweepModel] = []
        self.slider = QSlider(Qt.Orientation.Horizontal, objectName="sweepSlider")
        self.slider.setTickPosition(QSlider.TickPosition.TicksBelow)
        self.slider.setPageStep(1)
        self.slider.setMaximumWidth(220)
        self.label = QLabel(objectName="sweepLabel")
        self.title = QLabel("β sweep:")
        bar = QHBoxLayout(self)
        bar.setContentsMargins(0, 0, 0, 0)
        bar.addWidget(self.title)
        bar.addWidget(self.slider)
        bar.addWidget(self.label, 1)
        self.slider.valueChanged.connect(self._chosen)
        session.modelChanged.connect(self._follow_model)
        self.hide()

    def show_sweep(self, folder: Path, models: list[SweepModel]) -> None:
        """Offer the sweep's models (in β order); the current model picks the notch."""
        self.folder, self.models = folder, models
        self.slider.blockSignals(True)
        self.slider.setRange(0, len(models) - 1)
        self.slider.blockSignals(False)
        symbol = WEIGHT_SYMBOLS[models[0].weight]
        self.title.setText(f"{symbol} sweep:")
        self.slider.setToolTip(
            f"{symbol} of the sweep's models: " + ", ".join(f"{m.value:g}" for m in models)
        )
        self._follow_model()

    def path_of(self, i: int) -> Path:
        return self.folder / self.models[i].file

    def index_of_current(self) -> int | None:
        """The sweep model on screen, if the current model is one of them."""
        path = self.session.info.path
        if self.folder is None or path is None or self.session.info.unsaved:
            return None
        for i in range(len(self.models)):
            if self.path_of(i).resolve() == Path(path).resolve():
                return i
        return None

    def _follow_model(self) -> None:
        i = self.index_of_current()
        self.setVisible(i is not None)
        if i is None:
            return
        self.slider.blockSignals(True)
        self.slider.setValue(i)
        self.slider.blockSignals(False)
        self.label.setText(describe(self.models[i]))

    def _chosen(self, i: int) -> None:
        if i != self.index_of_current():
            self.modelChosen.emit(self.path_of(i))
            self._follow_model()  # back to the notch on screen if it could not be opened

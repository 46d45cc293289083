"""The training settings as a form: what Train trains, bound both ways to a
`TrainingSettings`, which is what training reads.

The model kind (`kindCombo`) comes first, with a paragraph on its objective and weights
under it (`kindExplain`); rows that do not apply to it are hidden (β and the KL schedule
for the VAE kinds, α and γ for the objectives that have them, λ and ρ for the sparse
autoencoders, K for the planar-flow VAE, k for the IWAE, M2's labelled share, corruption
for the trained kinds, the optimiser's settings for all but PCA), and so are the
settings of the schedules not chosen. β has an exact spin box (`betaSpin`,
accepts 0) beside a log-scale slider from 0.01 to 100. `TrainingForm` builds the rows
and keeps them in step with the settings; the training panel (`training_panel`) is one,
with Train/Stop, progress and the loss curves below the form.
"""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np
import torch
from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QComboBox,
    QDoubleSpinBox,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QSlider,
    QSpinBox,
    QWidget,
)

from explorer.core.config import (
    ARCHITECTURES,
    CORRUPTIONS,
    MAX_CYCLES,
    MAX_FLOW_STEPS,
    TrainConfig,
)
from explorer.core.kind_table import KIND_TABLE, Kind
from explorer.ui.setting_fields import Field, changed, setter, show_settings
from explorer.ui.theme import style_sliders
from explorer.ui.training_settings import TrainingSettings

_LOG_MIN, _LOG_MAX, _LOG_STEPS = -2.0, 2.0, 400  # β slider: 10^-2 .. 10^2

# The KL schedules (core/schedules.py): name, label, what it does
_SCHEDULES = (
    ("warmup", "warm-up", "β ramps up from 0 over the warm-up epochs, then stays"),
    ("cyclical", "cyclical", "β ramps up from 0 several times (Fu et al. 2019)"),
    ("capacity", "capacity", "β·|KL − C|: the KL held at a growing C (Burgess et al. 2018)"),
)
# The weights' tooltips where the kind gives none of its own (core/kind_table.py: tips)
_WEIGHT_TIPS = {
    "beta": "Weight of the KL term: 0 = autoencoder, 1 = VAE, >1 = β-VAE",
    "alpha": "Weight of the index-code mutual information",
    "gamma": "Weight of the kind's extra term",
    "sparsity": "Weight λ of the code's sparsity penalty",
    "rho": "Target mean activation ρ of each code unit",
}


def _weight_spin(name: str) -> QDoubleSpinBox:
    """A spin box for an objective's weight (0 to 10,000)."""
    return QDoubleSpinBox(
        objectName=name, minimum=0.0, maximum=10_000.0, decimals=3, singleStep=0.5
    )


def _pair(first: QWidget, label: str, second: QWidget) -> QHBoxLayout:
    """Two settings on one form row: `first`, then `label` and `second`."""
    row = QHBoxLayout()
    row.addWidget(first, 1)
    row.addWidget(QLabel(label))
    row.addWidget(second, 1)
    return row


def devices() -> list[str]:
    out = ["auto", "cpu"]
    if torch.cuda.is_available():
        out += [f"cuda:{i}" for i in range(torch.cuda.device_count())]
    if torch.backends.mps.is_available():
        out.append("mps")
    return out


class TrainingForm(QWidget):
    """The settings' widgets in `form` (a QFormLayout the subclass places), each showing
    its setting of `settings` and changing it."""

    def __init__(self, settings: TrainingSettings, parent=None):
        super().__init__(parent)
        self.settings = settings
        self.form = QFormLayout()
        # form row -> the test of a kind (core/kind_table.py) and its settings it applies to
        self._row_kinds: dict[int, Callable[[Kind, TrainConfig], bool]] = {}
        self._model_rows()
        self._objective_rows()
        self._schedule_rows()
        self._corruption_rows()
        self._optimiser_rows()
        self._bind_settings()
        settings.modelChanged.connect(self._show_rows)
        settings.trainChanged.connect(self._show_rows)
        self._show_rows()

    # -- the form, row by row ------------------------------------------------------------
    def _add_row(
        self,
        label: str,
        field,
        applies: Callable[[Kind], bool] | None = None,
        when: Callable[[Kind, TrainConfig], bool] | None = None,
    ) -> None:
        """A form row; `applies`: the kinds it is shown for (None: all); `when`: the
        kinds and settings it is shown for, where settings decide too."""
        self.form.addRow(label, field)
        if when is None and applies is not None:
            when = lambda k, _: applies(k)  # noqa: E731
        if when is not None:
            self._row_kinds[self.form.rowCount() - 1] = when

    def _model_rows(self) -> None:
        """The data Train fits, and the model it makes: kind, latent size, network."""
        self.data_label = QLabel("–")
        self.data_label.setWordWrap(True)
        self.data_label.setToolTip(
            "The images Train fits the model to: from the Data menu, File ▸ Open, or a file "
            "dropped on the window"
        )
        self._add_row("Data", self.data_label)
        self.kind_combo = QComboBox(objectName="kindCombo")
        for i, kind in enumerate(KIND_TABLE.values()):
            self.kind_combo.addItem(kind.title, kind.name)
            self.kind_combo.setItemData(
                i, f"{kind.title}: {kind.about}", Qt.ItemDataRole.ToolTipRole
            )
        self.kind_combo.setToolTip(
            "The kind of model Train makes (each entry says what it does); the settings "
            "that do not apply to it are hidden"
        )
        self._add_row("Model", self.kind_combo)
        self.kind_explain = QLabel(objectName="kindExplain")
        self.kind_explain.setWordWrap(True)
        self.form.addRow(self.kind_explain)
        self.latent_spin = QSpinBox(objectName="latentSpin", minimum=1, maximum=64)
        self.arch_combo = QComboBox(objectName="archCombo")
        for name in ARCHITECTURES:
            self.arch_combo.addItem(name, name)
        self.latent_spin.setToolTip(
            "Dimensions of the code z: 2 are plotted as they are; more reconstruct better "
            "and are plotted on a plane (PCA or two chosen dimensions)"
        )
        self.arch_combo.setToolTip(
            "mlp: fully connected layers, quick on a CPU; conv: convolutions, better for "
            "larger images and slower; broadcast: an mlp encoder and a decoder that draws "
            "each pixel from z and the pixel's position, which lays an object's x and y "
            "along dimensions of their own (sprites), slower"
        )
        self._add_row("Latent size", _pair(self.latent_spin, "Network", self.arch_combo))
        self.flow_steps_spin = QSpinBox(
            objectName="flowStepsSpin", minimum=1, maximum=MAX_FLOW_STEPS
        )
        self.flow_steps_spin.setToolTip(
            "Planar flow steps K that bend the encoder's Gaussian: more give q(z|x) richer "
            "shapes (a cloud on the plot, no longer an ellipse) and cost K small maps per "
            "sample"
        )
        self._add_row("Flow steps K", self.flow_steps_spin, lambda k: k.flow)

    def _objective_rows(self) -> None:
        """What the loss asks: β (spin box and log slider), α, γ, the IWAE's k."""
        self.beta_spin = QDoubleSpinBox(
            objectName="betaSpin", minimum=0.0, maximum=1000.0, decimals=3, singleStep=0.1
        )
        self.beta_slider = QSlider(Qt.Orientation.Horizontal, objectName="betaSlider")
        self.beta_slider.setRange(0, _LOG_STEPS)
        self.beta_slider.setToolTip("β on a log scale, 0.01 to 100")
        style_sliders(self.beta_slider, self)  # drawn as the latent sliders are
        beta_row = QHBoxLayout()
        beta_row.addWidget(self.beta_spin)
        beta_row.addWidget(self.beta_slider, 1)
        self._add_row("β", beta_row, lambda k: k.uses_beta)
        self.alpha_spin = _weight_spin("alphaSpin")
        self._add_row("α", self.alpha_spin, lambda k: "alpha" in k.weights)
        self.gamma_spin = _weight_spin("gammaSpin")
        self._add_row("γ", self.gamma_spin, lambda k: "gamma" in k.weights)
        self.sparsity_spin = _weight_spin("sparsitySpin")
        self.rho_spin = QDoubleSpinBox(
            objectName="rhoSpin", minimum=0.001, maximum=0.999, decimals=3, singleStep=0.01
        )
        self._add_row("λ", self.sparsity_spin, lambda k: "sparsity" in k.weights)
        self._add_row("ρ", self.rho_spin, lambda k: "rho" in k.weights)
        self.beta_spin.valueChanged.connect(self._beta_from_spin)
        self.beta_slider.valueChanged.connect(self._beta_from_slider)
        self.warmup_spin = QDoubleSpinBox(
            objectName="warmupSpin", minimum=0.0, maximum=1000.0, decimals=1
        )
        self.warmup_spin.setSuffix(" epochs")
        self.warmup_spin.setToolTip("Ramp β up from 0 over this many epochs (0 = off)")
        self.samples_spin = QSpinBox(objectName="samplesSpin", minimum=1, maximum=100)
        self.samples_spin.setToolTip(
            "Importance samples k per image in the IWAE bound: more give a tighter bound "
            "and cost k times the decoding"
        )
        self._add_row("Samples k", self.samples_spin, lambda k: k.importance_weighted)
        self.labelled_spin = QDoubleSpinBox(
            objectName="labelledSpin", minimum=0.001, maximum=1.0, decimals=3, singleStep=0.01
        )
        self.labelled_spin.setToolTip(
            "Share of the training images M2 is told the label of, the same share of each "
            "class (chosen by the seed); the validation labels are held out to score its "
            "classifier"
        )
        self._add_row("Labelled", self.labelled_spin, lambda k: k.semi_supervised)

    def _schedule_rows(self) -> None:
        """How β moves during the run (where β is a setting), and each schedule's
        settings, shown for the schedule chosen; the capacity's for the AnnealedVAE."""
        self.schedule_combo = QComboBox(objectName="klScheduleCombo")
        for name, label, tip in _SCHEDULES:
            self.schedule_combo.addItem(label, name)
            self.schedule_combo.setItemData(
                self.schedule_combo.count() - 1, tip, Qt.ItemDataRole.ToolTipRole
            )
        about = "; ".join(f"{label}: {tip}" for _, label, tip in _SCHEDULES)
        self.schedule_combo.setToolTip(f"How β moves during the run. {about}")
        self._add_row("KL schedule", self.schedule_combo, lambda k: k.scheduled)
        self._add_row(
            "KL warm-up",
            self.warmup_spin,
            when=lambda k, t: k.scheduled and t.kl_schedule == "warmup",
        )
        self.cycles_spin = QSpinBox(objectName="cyclesSpin", minimum=1, maximum=MAX_CYCLES)
        self.cycles_spin.setToolTip("How many times β ramps up from 0 in the run (M)")
        self.cycle_ramp_spin = QDoubleSpinBox(
            objectName="cycleRampSpin", minimum=0.05, maximum=1.0, decimals=2, singleStep=0.05
        )
        self.cycle_ramp_spin.setToolTip(
            "Share of each cycle over which β ramps up; it stays at its value for the rest (R)"
        )
        self._add_row(
            "Cycles",
            _pair(self.cycles_spin, "Ramp share", self.cycle_ramp_spin),
            when=lambda k, t: k.scheduled and t.kl_schedule == "cyclical",
        )
        self.c_max_spin = _weight_spin("cMaxSpin")
        self.c_max_spin.setSuffix(" nats")
        self.c_max_spin.setToolTip(
            "The capacity C's final value: the KL the code may hold at the end of the ramp"
        )
        self.capacity_spin = QDoubleSpinBox(
            objectName="capacityEpochsSpin", minimum=0.0, maximum=10_000.0, decimals=1
        )
        self.capacity_spin.setSuffix(" epochs")
        self.capacity_spin.setSpecialValueText("the whole run")  # shown at 0: "0.0 epochs" misled
        self.capacity_spin.setToolTip("Epochs over which C grows from 0 to C_max (0 = the run)")
        self._add_row(
            "Capacity",
            _pair(self.c_max_spin, "over", self.capacity_spin),
            when=lambda k, t: k.capacity or (k.scheduled and t.kl_schedule == "capacity"),
        )

    def _corruption_rows(self) -> None:
        """What the encoder sees: the images whole, or corrupted (denoising / masked)."""
        self.corrupt_combo = QComboBox(objectName="corruptCombo")
        for kind, label in zip(CORRUPTIONS, ("none", "masked block", "noisy pixels"), strict=True):
            self.corrupt_combo.addItem(label, kind)
        self.corrupt_combo.setToolTip(
            "Denoising / masked training: the encoder sees a corrupted image and must "
            "reconstruct the clean one, so the model learns to fill in missing parts"
        )
        self.corrupt_spin = QDoubleSpinBox(
            objectName="corruptLevelSpin", minimum=0.05, maximum=0.9, singleStep=0.05
        )
        self.corrupt_spin.setToolTip("Share of the image masked, or of pixels replaced by noise")
        corrupt_row = QHBoxLayout()
        corrupt_row.addWidget(self.corrupt_combo, 1)
        corrupt_row.addWidget(self.corrupt_spin)
        self._add_row("Corrupt inputs", corrupt_row, lambda k: k.trained)
        self.corrupt_combo.currentIndexChanged.connect(
            lambda: self.corrupt_spin.setEnabled(self.corrupt_combo.currentData() != "none")
        )
        self.corrupt_spin.setEnabled(False)

    def _optimiser_rows(self) -> None:
        """How the optimiser runs: epochs, batch size, learning rate, and on what device."""
        self.epochs_spin = QSpinBox(objectName="epochsSpin", minimum=1, maximum=10_000)
        self.batch_spin = QSpinBox(objectName="batchSpin", minimum=1, maximum=65_536)
        self.epochs_spin.setToolTip(
            "Passes over the whole dataset: more fit better and take longer (the curves "
            "show when the loss stops falling)"
        )
        self.batch_spin.setToolTip(
            "Images per optimiser step: larger batches make an epoch quicker on many cores "
            "or a GPU, but take fewer steps per epoch"
        )
        self._add_row(
            "Epochs", _pair(self.epochs_spin, "Batch size", self.batch_spin), lambda k: k.trained
        )
        self.lr_spin = QDoubleSpinBox(
            objectName="lrSpin", minimum=1e-6, maximum=1.0, decimals=5, singleStep=1e-4
        )
        self.lr_spin.setToolTip(
            "Adam's step size: too large and the loss jumps or diverges, too small and the "
            "model learns slowly"
        )
        self._add_row("Learning rate", self.lr_spin, lambda k: k.trained)
        self.device_combo = QComboBox(objectName="deviceCombo")
        for name in devices():
            self.device_combo.addItem(name, name)
        self.device_combo.setToolTip(
            "Where training runs: auto takes a GPU when there is one; the window decodes on "
            "the CPU either way"
        )
        self._add_row("Device", self.device_combo)

    # -- the widgets bound to the settings -------------------------------------------------
    def _bind_settings(self) -> None:
        """Each widget shows its setting, and a change on either side reaches the other."""
        s = self.settings
        self._model_fields: dict[str, Field] = {
            "kind": self.kind_combo,
            "latent_dim": self.latent_spin,
            "architecture": self.arch_combo,
            "flow_steps": self.flow_steps_spin,
        }
        self._train_fields: dict[str, Field] = {
            "beta": self.beta_spin,
            "alpha": self.alpha_spin,
            "gamma": self.gamma_spin,
            "sparsity": self.sparsity_spin,
            "rho": self.rho_spin,
            "kl_schedule": self.schedule_combo,
            "warmup_epochs": self.warmup_spin,
            "cycles": self.cycles_spin,
            "cycle_ramp": self.cycle_ramp_spin,
            "c_max": self.c_max_spin,
            "capacity_epochs": self.capacity_spin,
            "samples": self.samples_spin,
            "labelled": self.labelled_spin,
            "corruption": self.corrupt_combo,
            "corruption_level": self.corrupt_spin,
            "epochs": self.epochs_spin,
            "batch_size": self.batch_spin,
            "lr": self.lr_spin,
            "device": self.device_combo,
        }
        for fields, update in (
            (self._model_fields, s.update_model),
            (self._train_fields, s.update_train),
        ):
            for name, widget in fields.items():
                if widget is not self.kind_combo:
                    changed(widget).connect(setter(update, name, widget))
        # a kind chosen brings its paper's weights (TrainingSettings.choose_kind)
        self.kind_combo.currentIndexChanged.connect(
            lambda: s.choose_kind(self.kind_combo.currentData())
        )
        s.modelChanged.connect(lambda m: show_settings(m, self._model_fields, s.update_model))
        s.trainChanged.connect(lambda t: show_settings(t, self._train_fields, s.update_train))
        show_settings(s.model, self._model_fields, s.update_model)
        show_settings(s.train, self._train_fields, s.update_train)

    # -- β: exact value and log slider kept in step -----------------------------------
    def _beta_from_spin(self, beta: float) -> None:
        pos = (
            0
            if beta <= 0
            else round((math.log10(beta) - _LOG_MIN) / (_LOG_MAX - _LOG_MIN) * _LOG_STEPS)
        )
        self.beta_slider.blockSignals(True)
        self.beta_slider.setValue(int(np.clip(pos, 0, _LOG_STEPS)))
        self.beta_slider.blockSignals(False)

    def _beta_from_slider(self, pos: int) -> None:
        beta = 10 ** (_LOG_MIN + (_LOG_MAX - _LOG_MIN) * pos / _LOG_STEPS)
        # the spin box quiet, so the slider is not moved back to the rounded β under the
        # mouse; the setting takes what the spin box shows
        self.beta_spin.blockSignals(True)
        self.beta_spin.setValue(float(f"{beta:.3g}"))
        self.beta_spin.blockSignals(False)
        self.settings.update_train(beta=self.beta_spin.value())

    def _show_rows(self) -> None:
        """The rows that apply to the kind and schedule chosen, the kind's paragraph and
        its weights' tooltips."""
        kind = KIND_TABLE[self.settings.model.kind]
        for row, applies in self._row_kinds.items():
            self.form.setRowVisible(row, applies(kind, self.settings.train))
        self.arch_combo.setEnabled(kind.trained and self.kind_combo.isEnabled())
        self.kind_explain.setText(kind.explain or f"{kind.title}: {kind.about}")
        self.kind_explain.setToolTip(f"{kind.title}: {kind.about}")
        tips = dict(kind.tips)
        for name, widget in (
            ("beta", self.beta_spin),
            ("alpha", self.alpha_spin),
            ("gamma", self.gamma_spin),
            ("sparsity", self.sparsity_spin),
            ("rho", self.rho_spin),
        ):
            widget.setToolTip(tips.get(name, _WEIGHT_TIPS[name]))

"""Training settings, Train/Stop, progress and the live loss curves (`loss_curves`).

The model kind (`kindCombo`) comes first, with a paragraph on its objective and weights
under it (`kindExplain`); rows that do not apply to it are hidden (β and the KL schedule
for the VAE kinds, α and γ for the objectives that have them, λ and ρ for the sparse
autoencoders, K for the planar-flow VAE, k for the IWAE, M2's labelled share, corruption
for the trained kinds, the optimiser's settings for all but PCA), and so are the
settings of the schedules not chosen. β has an exact spin box (`betaSpin`,
accepts 0) beside a log-scale slider from 0.01 to 100. The widgets are bound both ways
to a `TrainingSettings`, which is what training reads; the panel shows progress, and
the training controller starts and stops the worker.
"""

from __future__ import annotations

import logging
import math
import time
from collections.abc import Callable, Sequence

import numpy as np
import torch
from PySide6.QtCore import QSettings, Qt, Signal
from PySide6.QtWidgets import (
    QComboBox,
    QDoubleSpinBox,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QProgressBar,
    QPushButton,
    QSlider,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from explorer.core.config import (
    CORRUPTIONS,
    MAX_CYCLES,
    MAX_FLOW_STEPS,
    ExternalConfig,
    ModelConfig,
    TrainConfig,
)
from explorer.core.eta import EtaSmoother
from explorer.core.kind_table import KIND_TABLE, Kind
from explorer.core.kinds import describe
from explorer.core.training import Progress
from explorer.logs import LOGGER
from explorer.ui.loss_curves import LossCurves
from explorer.ui.settings_values import read
from explorer.ui.state import Session
from explorer.ui.theme import style_sliders
from explorer.ui.training_settings import TrainingSettings

log = logging.getLogger(LOGGER)
_LOG_MIN, _LOG_MAX, _LOG_STEPS = -2.0, 2.0, 400  # β slider: 10^-2 .. 10^2

# A setting's widget: a spin box, or a combo whose items carry the values as their data
Field = QSpinBox | QDoubleSpinBox | QComboBox

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
# What a model's training config hands the next run: "train this again, changing one thing"
_OBJECTIVE_FIELDS = (
    "beta",
    "alpha",
    "gamma",
    "sparsity",
    "rho",
    "kl_schedule",
    "warmup_epochs",
    "cycles",
    "cycle_ramp",
    "c_max",
    "capacity_epochs",
    "samples",
    "corruption",
    "corruption_level",
    "labelled",
)


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


def _value(widget: Field) -> object:
    """The value `widget` shows."""
    return widget.currentData() if isinstance(widget, QComboBox) else widget.value()


def _show_value(widget: Field, value: object) -> None:
    """Show `value` on `widget` (a spin box rounds it to its decimals and range)."""
    if isinstance(widget, QComboBox):
        i = widget.findData(value)
        if i >= 0:
            widget.setCurrentIndex(i)
    else:
        widget.setValue(value)


def _changed(widget: Field):
    """The signal `widget` sends when the user changes its value."""
    return widget.currentIndexChanged if isinstance(widget, QComboBox) else widget.valueChanged


def _setter(update: Callable[..., None], name: str, widget: Field) -> Callable[..., None]:
    """A slot giving setting `name` the value `widget` shows (whatever the signal sends)."""
    return lambda *_: update(**{name: _value(widget)})


def devices() -> list[str]:
    out = ["auto", "cpu"]
    if torch.cuda.is_available():
        out += [f"cuda:{i}" for i in range(torch.cuda.device_count())]
    if torch.backends.mps.is_available():
        out.append("mps")
    return out


class TrainingPanel(QWidget):
    trainRequested = Signal()
    stopRequested = Signal()

    def __init__(self, session: Session, settings: TrainingSettings, parent=None):
        super().__init__(parent)
        self.session = session
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

        self.loss_plot = LossCurves()
        self._eta = EtaSmoother()  # the time left shown, steadied (core/eta.py)
        self.summary = QLabel(objectName="modelSummary")
        self.summary.setWordWrap(True)
        self.summary.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)

        layout = QVBoxLayout(self)
        layout.addLayout(self.form)
        layout.addLayout(self._run_controls())
        layout.addWidget(self.progress)
        layout.addWidget(self.loss_plot, 1)
        layout.addWidget(self.summary)
        session.modelChanged.connect(self.show_model)
        session.datasetChanged.connect(self.show_dataset)

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
        for name in ("mlp", "conv"):
            self.arch_combo.addItem(name, name)
        self.latent_spin.setToolTip(
            "Dimensions of the code z: 2 are plotted as they are; more reconstruct better "
            "and are plotted on a plane (PCA or two chosen dimensions)"
        )
        self.arch_combo.setToolTip(
            "mlp: fully connected layers, quick on a CPU; conv: convolutions, better for "
            "larger images and slower"
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

    def _run_controls(self) -> QHBoxLayout:
        """Train and Stop (returned, in a row), and the progress bar."""
        self.train_button = QPushButton("Train", objectName="trainButton")
        self.train_button.setDefault(True)
        self.stop_button = QPushButton("Stop", objectName="stopButton", enabled=False)
        self.name_shortcuts("", "")
        self.train_button.clicked.connect(self.trainRequested)
        self.stop_button.clicked.connect(self.stopRequested)
        buttons = QHBoxLayout()
        buttons.addWidget(self.train_button)
        buttons.addWidget(self.stop_button)
        self.progress = QProgressBar(objectName="trainProgress")
        self.progress.setRange(0, 1000)
        self.progress.setValue(0)
        self.progress.setFormat("ready")
        self.progress.setTextVisible(True)
        return buttons

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
                    _changed(widget).connect(_setter(update, name, widget))
        # a kind chosen brings its paper's weights (TrainingSettings.choose_kind)
        self.kind_combo.currentIndexChanged.connect(
            lambda: s.choose_kind(self.kind_combo.currentData())
        )
        s.modelChanged.connect(lambda m: self._show_settings(m, self._model_fields, s.update_model))
        s.trainChanged.connect(lambda t: self._show_settings(t, self._train_fields, s.update_train))
        self._show_settings(s.model, self._model_fields, s.update_model)
        self._show_settings(s.train, self._train_fields, s.update_train)

    @staticmethod
    def _show_settings(values, fields: dict[str, Field], update: Callable[..., None]) -> None:
        """Show the settings `values` on their widgets; where a widget cannot show one as
        it is (a spin box's decimals or range), what it shows becomes the setting, so
        training always runs with what is on screen."""
        for name, widget in fields.items():
            value = getattr(values, name)
            if _value(widget) != value:
                _show_value(widget, value)
                if _value(widget) != value:
                    update(**{name: _value(widget)})

    def name_shortcuts(self, train: str, stop: str) -> None:
        """The Train and Stop buttons' tips, naming their keyboard shortcuts (if any)."""
        for button, tip, keys in (
            (self.train_button, "Fit a new model of this kind to the open data", train),
            (self.stop_button, "Stop after the current step, keeping the model so far", stop),
        ):
            button.setToolTip(f"{tip} ({keys})" if keys else tip)

    def heightForWidth(self, width: int) -> int:
        """The least height at `width`. The window shows the panel in a scroll area, which
        sizes a panel with wrapped text to this height at least: the preferred height
        (Qt's answer) made it scroll on any screen under ~900 px while the settings and
        Train fitted, with the loss plot a little lower."""
        return self.layout().minimumHeightForWidth(width)

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

    # -- settings kept between sittings ------------------------------------------------
    # Settings that outlive a model (TrainConfig's fields): latent size, network and β
    # follow the model on screen (so "retrain this with another β" starts from what is
    # shown).
    _PERSISTED = (
        ("training/epochs", "epochs", int),
        ("training/lr", "lr", float),
        ("training/batch_size", "batch_size", int),
    )

    def save_settings(self, store: QSettings) -> None:
        train = self.settings.train
        for key, name, _ in self._PERSISTED:
            store.setValue(key, getattr(train, name))
        store.setValue("training/device", train.device)

    def restore_settings(self, store: QSettings) -> None:
        """Last run's values; anything unreadable or gone (a GPU) keeps the default."""
        for key, name, kind in self._PERSISTED:
            value = read(store, key, (str, int, float))
            if value is None:
                continue
            spin = self._train_fields[name]  # its range says what is usable
            try:
                number = kind(value)
                usable = spin.minimum() <= number <= spin.maximum()  # not NaN, in range
            except (TypeError, ValueError, OverflowError):
                usable = False
            if usable:
                self.settings.update_train(**{name: number})
            else:
                log.warning(
                    "settings %s: %s is %.80r, not a usable value", store.fileName(), key, value
                )
        device = read(store, "training/device", str)
        if device is not None and self.device_combo.findData(device) >= 0:
            self.settings.update_train(device=device)

    def show_model(self) -> None:
        """The model on screen: its summary, and its settings as the next run's."""
        s = self.session
        if s.model is None:
            return
        cfg = s.model.config
        chosen: dict = {"latent_dim": cfg.latent_dim}
        tc = s.info.train_config
        if tc is not None:  # "train this again, changing one thing" starts from these
            self.settings.update_train(**{name: getattr(tc, name) for name in _OBJECTIVE_FIELDS})
        lines = [f"<b>{s.info.source}</b>: latent size {cfg.latent_dim}"]
        if isinstance(cfg, ModelConfig):
            chosen["kind"] = cfg.kind
            if cfg.flow_steps:
                chosen["flow_steps"] = cfg.flow_steps
            lines[0] = f"<b>{s.info.source}</b>: {describe(cfg, tc)}"
        if isinstance(cfg, ExternalConfig):
            a = cfg.adapters
            lines.append(
                f"trained elsewhere; input {a.input}, encoder read as {a.encoder}, "
                f"decoder as {a.decoder}. Train makes a new model of ours."
            )
        else:
            chosen["architecture"] = cfg.architecture
            lines.append(f"{cfg.likelihood} likelihood")
        self.settings.update_model(**chosen)
        lines += metric_lines(s.info.metrics, cfg.latent_dim)
        if s.info.kl_per_dim:
            lines.append(kl_line(s.info.kl_per_dim))
        self.summary.setText("<br>".join(lines))
        if not s.info.live and s.info.history:  # trained elsewhere: how it went
            self.loss_plot.show_history(s.info.history)

    def show_dataset(self) -> None:
        d = self.session.dataset
        if d is not None:
            c, h, w = d.image_shape
            self.data_label.setText(
                f"{d.name}: {len(d):,} images, {w}×{h}" + (f"×{c}" if c > 1 else "")
            )

    # -- progress -------------------------------------------------------------------
    def set_running(self, running: bool) -> None:
        self.train_button.setEnabled(not running)
        self.stop_button.setEnabled(running)
        for w in (
            self.kind_combo,
            self.alpha_spin,
            self.gamma_spin,
            self.sparsity_spin,
            self.rho_spin,
            self.flow_steps_spin,
            self.schedule_combo,
            self.cycles_spin,
            self.cycle_ramp_spin,
            self.c_max_spin,
            self.capacity_spin,
            self.warmup_spin,
            self.samples_spin,
            self.labelled_spin,
            self.corrupt_combo,
            self.latent_spin,
            self.arch_combo,
            self.epochs_spin,
            self.lr_spin,
            self.batch_spin,
            self.device_combo,
            self.beta_spin,
            self.beta_slider,
        ):
            w.setEnabled(not running)
        self.corrupt_spin.setEnabled(not running and self.corrupt_combo.currentData() != "none")
        self.arch_combo.setEnabled(not running and KIND_TABLE[self.settings.model.kind].trained)

    def clear_curves(self) -> None:
        """A new run starts: its curves and its time left start afresh."""
        self.loss_plot.clear_run()
        self._eta = EtaSmoother()

    def add_steps(self, records: list[Progress]) -> None:
        self.loss_plot.add_steps(records)
        self.show_progress(records[-1])

    def add_epoch(self, p: Progress) -> None:
        self.loss_plot.add_epoch(p)
        self.show_progress(p)

    def show_progress(self, p: Progress) -> None:
        left = self._eta.update(p, time.monotonic())
        eta = ""
        if math.isfinite(left):
            eta = f" · {int(left) // 60}:{int(left) % 60:02d} left"
        text = f"epoch {min(p.epoch + 1, p.epochs)}/{p.epochs} · {p.samples_per_s:,.0f} img/s{eta}"
        self._set_progress(p.fraction, text)

    def show_done(self, p: Progress) -> None:
        status = {"completed": "done", "stopped": "stopped", "diverged": "diverged"}
        self._set_progress(p.fraction, status.get(p.status, p.status))
        self.loss_plot.end_run()
        if len(self.loss_plot.series["step"]) == 0:  # PCA's closed form, or stopped at once
            self.loss_plot.show_note(f"{p.message.rstrip('.')}: no loss curve to draw")

    def _set_progress(self, fraction: float, text: str) -> None:
        # QProgressBar.setValue repaints at once (a paint and a flush of its own) when the
        # bar grows by a chunk; with updates held off it is one more region of the frame
        # the loss curves are repainting anyway (4 a second while training runs).
        self.progress.setUpdatesEnabled(False)
        self.progress.setFormat(text)
        self.progress.setValue(int(1000 * fraction))
        self.progress.setUpdatesEnabled(True)  # schedules the repaint


# Up to this many dimensions the summary lists each one's KL; beyond, the largest few
# (64 values filled five lines and squeezed the training settings above them).
_KL_LISTED = 8


def kl_line(kl_per_dim: Sequence[float]) -> str:
    """The KL of each dimension in one line: every value, or the largest for many dims."""
    if len(kl_per_dim) <= _KL_LISTED:
        return "KL per dimension: " + " ".join(f"{k:.2f}" for k in kl_per_dim)
    top = sorted(range(len(kl_per_dim)), key=lambda i: -kl_per_dim[i])[:3]
    largest = ", ".join(f"z{i} {kl_per_dim[i]:.2f}" for i in top)
    return f"KL per dimension: largest {largest} (all {len(kl_per_dim)} in the KL tab)"


def metric_lines(m: dict, latent_dim: int) -> list[str]:
    """A model's figures (Report.to_dict or the training's), leaving out what it lacks."""
    lines = []
    elbo, recon, kl = m.get("elbo"), m.get("recon"), m.get("kl")
    if elbo is not None and math.isfinite(elbo) and recon is not None and kl is not None:
        lines.append(f"ELBO {elbo:.1f} nats (recon {recon:.1f}, KL {kl:.1f})")
    elif recon is not None:
        lines.append(f"reconstruction {recon:.1f} nats (no KL: a deterministic model)")
    extra = []
    if "sq_error" in m:
        extra.append(f"squared error {m['sq_error']:.1f}")
    for key, scored in (("held_out_accuracy", "held-out labels"), ("accuracy", "the labels")):
        if m.get(key) is not None and math.isfinite(m[key]):  # M2's classifier q(y|x)
            extra.append(f"classifier right on {m[key]:.1%} of {scored}")
            break
    if "iw_bound" in m:
        extra.append(f"log p(x) ≥ {m['iw_bound']:.1f} (k = {m.get('iw_k', '?')})")
    if "on_data" in m:
        extra.append(f"{m['on_data']:.0%} of prior samples on the data")
    if "active_units" in m:
        extra.append(f"active units {m['active_units']} of {latent_dim}")
    if extra:
        lines.append("; ".join(extra))
    return lines

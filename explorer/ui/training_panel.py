"""Training settings, Train/Stop, progress and the live loss curves (`loss_curves`).

The model kind (`kindCombo`) comes first; rows that do not apply to it are hidden (β
and warm-up for the VAE kinds, k for the IWAE, corruption for the trained kinds,
the optimiser's settings for all but PCA). β has an exact spin box (`betaSpin`,
accepts 0) beside a log-scale slider from 0.01 to 100. The panel only gathers
settings and shows progress; the main window starts and stops the worker.
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

from explorer.core.config import CORRUPTIONS, ExternalConfig, ModelConfig, TrainConfig
from explorer.core.eta import EtaSmoother
from explorer.core.kind_table import DEFAULT_KIND, KIND_TABLE, Kind
from explorer.core.kinds import ModelSettings, describe
from explorer.core.training import Progress
from explorer.logs import LOGGER
from explorer.ui.loss_curves import LossCurves
from explorer.ui.settings_values import read
from explorer.ui.state import Session
from explorer.ui.theme import style_sliders

log = logging.getLogger(LOGGER)
_LOG_MIN, _LOG_MAX, _LOG_STEPS = -2.0, 2.0, 400  # β slider: 10^-2 .. 10^2


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


class TrainingPanel(QWidget):
    trainRequested = Signal()
    stopRequested = Signal()

    def __init__(self, session: Session, parent=None):
        super().__init__(parent)
        self.session = session
        form = QFormLayout()
        self.data_label = QLabel("–")
        self.data_label.setWordWrap(True)
        self.data_label.setToolTip(
            "The images Train fits the model to: from the Data menu, File ▸ Open, or a file "
            "dropped on the window"
        )
        form.addRow("Data", self.data_label)
        # form row -> the test of a kind (core/kind_table.py) it applies to
        self._row_kinds: dict[int, Callable[[Kind], bool]] = {}
        self.kind_combo = QComboBox(objectName="kindCombo")
        for i, kind in enumerate(KIND_TABLE.values()):
            self.kind_combo.addItem(kind.title, kind.name)
            self.kind_combo.setItemData(
                i, f"{kind.title}: {kind.about}", Qt.ItemDataRole.ToolTipRole
            )
        self.set_kind(DEFAULT_KIND)
        self.kind_combo.setToolTip(
            "The kind of model Train makes (each entry says what it does); the settings "
            "that do not apply to it are hidden"
        )
        form.addRow("Model", self.kind_combo)
        self.latent_spin = QSpinBox(objectName="latentSpin", minimum=1, maximum=64, value=2)
        self.arch_combo = QComboBox(objectName="archCombo")
        self.arch_combo.addItems(["mlp", "conv"])
        self.latent_spin.setToolTip(
            "Dimensions of the code z: 2 are plotted as they are; more reconstruct better "
            "and are plotted on a plane (PCA or two chosen dimensions)"
        )
        self.arch_combo.setToolTip(
            "mlp: fully connected layers, quick on a CPU; conv: convolutions, better for "
            "larger images and slower"
        )
        form.addRow("Latent size", _pair(self.latent_spin, "Network", self.arch_combo))

        self.beta_spin = QDoubleSpinBox(
            objectName="betaSpin",
            minimum=0.0,
            maximum=1000.0,
            decimals=3,
            singleStep=0.1,
            value=1.0,
        )
        self.beta_spin.setToolTip("Weight of the KL term: 0 = autoencoder, 1 = VAE, >1 = β-VAE")
        self.beta_slider = QSlider(Qt.Orientation.Horizontal, objectName="betaSlider")
        self.beta_slider.setRange(0, _LOG_STEPS)
        self.beta_slider.setToolTip("β on a log scale, 0.01 to 100")
        style_sliders(self.beta_slider, self)  # drawn as the latent sliders are
        beta_row = QHBoxLayout()
        beta_row.addWidget(self.beta_spin)
        beta_row.addWidget(self.beta_slider, 1)
        form.addRow("β", beta_row)
        self._row_kinds[form.rowCount() - 1] = lambda k: k.uses_beta
        self.beta_spin.valueChanged.connect(self._beta_from_spin)
        self.beta_slider.valueChanged.connect(self._beta_from_slider)
        self._beta_from_spin(self.beta_spin.value())
        self.warmup_spin = QDoubleSpinBox(
            objectName="warmupSpin", minimum=0.0, maximum=1000.0, decimals=1, value=0.0
        )
        self.warmup_spin.setSuffix(" epochs")
        self.warmup_spin.setToolTip("Ramp β up from 0 over this many epochs (0 = off)")
        form.addRow("KL warm-up", self.warmup_spin)
        self._row_kinds[form.rowCount() - 1] = lambda k: k.uses_beta
        self.samples_spin = QSpinBox(objectName="samplesSpin", minimum=1, maximum=100, value=5)
        self.samples_spin.setToolTip(
            "Importance samples k per image in the IWAE bound: more give a tighter bound "
            "and cost k times the decoding"
        )
        form.addRow("Samples k", self.samples_spin)
        self._row_kinds[form.rowCount() - 1] = lambda k: k.importance_weighted
        self.corrupt_combo = QComboBox(objectName="corruptCombo")
        for kind, label in zip(CORRUPTIONS, ("none", "masked block", "noisy pixels"), strict=True):
            self.corrupt_combo.addItem(label, kind)
        self.corrupt_combo.setToolTip(
            "Denoising / masked training: the encoder sees a corrupted image and must "
            "reconstruct the clean one, so the model learns to fill in missing parts"
        )
        self.corrupt_spin = QDoubleSpinBox(
            objectName="corruptLevelSpin", minimum=0.05, maximum=0.9, singleStep=0.05, value=0.25
        )
        self.corrupt_spin.setToolTip("Share of the image masked, or of pixels replaced by noise")
        corrupt_row = QHBoxLayout()
        corrupt_row.addWidget(self.corrupt_combo, 1)
        corrupt_row.addWidget(self.corrupt_spin)
        form.addRow("Corrupt inputs", corrupt_row)
        self._row_kinds[form.rowCount() - 1] = lambda k: k.trained
        self.corrupt_combo.currentIndexChanged.connect(
            lambda: self.corrupt_spin.setEnabled(self.corrupt_combo.currentData() != "none")
        )
        self.corrupt_spin.setEnabled(False)

        self.epochs_spin = QSpinBox(objectName="epochsSpin", minimum=1, maximum=10_000, value=10)
        self.batch_spin = QSpinBox(objectName="batchSpin", minimum=1, maximum=65_536, value=128)
        self.epochs_spin.setToolTip(
            "Passes over the whole dataset: more fit better and take longer (the curves "
            "show when the loss stops falling)"
        )
        self.batch_spin.setToolTip(
            "Images per optimiser step: larger batches make an epoch quicker on many cores "
            "or a GPU, but take fewer steps per epoch"
        )
        form.addRow("Epochs", _pair(self.epochs_spin, "Batch size", self.batch_spin))
        self._row_kinds[form.rowCount() - 1] = lambda k: k.trained
        self.lr_spin = QDoubleSpinBox(
            objectName="lrSpin", minimum=1e-6, maximum=1.0, decimals=5, singleStep=1e-4, value=1e-3
        )
        self.lr_spin.setToolTip(
            "Adam's step size: too large and the loss jumps or diverges, too small and the "
            "model learns slowly"
        )
        form.addRow("Learning rate", self.lr_spin)
        self._row_kinds[form.rowCount() - 1] = lambda k: k.trained
        self.device_combo = QComboBox(objectName="deviceCombo")
        self.device_combo.addItems(devices())
        self.device_combo.setToolTip(
            "Where training runs: auto takes a GPU when there is one; the window decodes on "
            "the CPU either way"
        )
        form.addRow("Device", self.device_combo)
        self.form = form
        self.kind_combo.currentIndexChanged.connect(self._show_rows)
        self._show_rows()

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

        self.loss_plot = LossCurves()
        self._eta = EtaSmoother()  # the time left shown, steadied (core/eta.py)
        self.summary = QLabel(objectName="modelSummary")
        self.summary.setWordWrap(True)
        self.summary.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)

        layout = QVBoxLayout(self)
        layout.addLayout(form)
        layout.addLayout(buttons)
        layout.addWidget(self.progress)
        layout.addWidget(self.loss_plot, 1)
        layout.addWidget(self.summary)
        session.modelChanged.connect(self.show_model)
        session.datasetChanged.connect(self.show_dataset)

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
        self.beta_spin.blockSignals(True)
        self.beta_spin.setValue(float(f"{beta:.3g}"))
        self.beta_spin.blockSignals(False)

    def kind(self) -> str:
        return self.kind_combo.currentData()

    def set_kind(self, kind: str) -> None:
        self.kind_combo.setCurrentIndex(self.kind_combo.findData(kind))

    def _show_rows(self) -> None:
        kind = KIND_TABLE[self.kind()]
        for row, applies in self._row_kinds.items():
            self.form.setRowVisible(row, applies(kind))
        self.arch_combo.setEnabled(kind.trained and self.kind_combo.isEnabled())

    # -- settings -------------------------------------------------------------------
    def model_settings(self) -> ModelSettings:
        """The model chosen; core.kinds.model_config makes it for a dataset."""
        return ModelSettings(
            kind=self.kind(),
            latent_dim=self.latent_spin.value(),
            architecture=self.arch_combo.currentText(),
        )

    def train_config(self) -> TrainConfig:
        return TrainConfig(
            beta=self.beta_spin.value(),
            epochs=self.epochs_spin.value(),
            lr=self.lr_spin.value(),
            batch_size=self.batch_spin.value(),
            device=self.device_combo.currentText(),
            warmup_epochs=self.warmup_spin.value(),
            samples=self.samples_spin.value(),
            corruption=self.corrupt_combo.currentData(),
            corruption_level=self.corrupt_spin.value(),
        )

    # Settings that outlive a model: latent size, network and β follow the model on
    # screen (so "retrain this with another β" starts from what is shown).
    _PERSISTED = (
        ("training/epochs", "epochs_spin", int),
        ("training/lr", "lr_spin", float),
        ("training/batch_size", "batch_spin", int),
    )

    def save_settings(self, settings: QSettings) -> None:
        for key, name, _ in self._PERSISTED:
            settings.setValue(key, getattr(self, name).value())
        settings.setValue("training/device", self.device_combo.currentText())

    def restore_settings(self, settings: QSettings) -> None:
        """Last run's values; anything unreadable or gone (a GPU) keeps the default."""
        for key, name, kind in self._PERSISTED:
            value = read(settings, key, (str, int, float))
            if value is None:
                continue
            spin = getattr(self, name)
            try:
                number = kind(value)
                usable = spin.minimum() <= number <= spin.maximum()  # not NaN, in range
            except (TypeError, ValueError, OverflowError):
                usable = False
            if usable:
                spin.setValue(number)
            else:
                log.warning(
                    "settings %s: %s is %.80r, not a usable value", settings.fileName(), key, value
                )
        device = read(settings, "training/device", str)
        if device is not None and self.device_combo.findText(device) >= 0:
            self.device_combo.setCurrentText(device)

    def show_model(self) -> None:
        s = self.session
        if s.model is None:
            return
        cfg = s.model.config
        self.latent_spin.setValue(cfg.latent_dim)
        tc = s.info.train_config
        if tc is not None:  # "train this again, changing one thing" starts from these
            self.beta_spin.setValue(tc.beta)
            self.warmup_spin.setValue(tc.warmup_epochs)
            self.samples_spin.setValue(tc.samples)
            self.corrupt_combo.setCurrentIndex(CORRUPTIONS.index(tc.corruption))
            self.corrupt_spin.setValue(tc.corruption_level)
        lines = [f"<b>{s.info.source}</b>: latent size {cfg.latent_dim}"]
        if isinstance(cfg, ModelConfig):
            self.set_kind(cfg.kind)
            lines[0] = f"<b>{s.info.source}</b>: {describe(cfg, tc)}"
        if isinstance(cfg, ExternalConfig):
            a = cfg.adapters
            lines.append(
                f"trained elsewhere; input {a.input}, encoder read as {a.encoder}, "
                f"decoder as {a.decoder}. Train makes a new model of ours."
            )
        else:
            self.arch_combo.setCurrentText(cfg.architecture)
            lines.append(f"{cfg.likelihood} likelihood")
        lines += metric_lines(s.info.metrics, cfg.latent_dim)
        if s.info.kl_per_dim:
            lines.append(kl_line(s.info.kl_per_dim))
        self.summary.setText("<br>".join(lines))

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
            self.warmup_spin,
            self.samples_spin,
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
        self.arch_combo.setEnabled(not running and KIND_TABLE[self.kind()].trained)

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
    if "iw_bound" in m:
        extra.append(f"log p(x) ≥ {m['iw_bound']:.1f} (k = {m.get('iw_k', '?')})")
    if "on_data" in m:
        extra.append(f"{m['on_data']:.0%} of prior samples on the data")
    if "active_units" in m:
        extra.append(f"active units {m['active_units']} of {latent_dim}")
    if extra:
        lines.append("; ".join(extra))
    return lines

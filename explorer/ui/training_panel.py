"""Training settings, Train/Stop, progress and live loss curves.

The model kind (`kindCombo`) comes first; rows that do not apply to it are hidden (β
and warm-up for the VAE kinds, k for the IWAE, corruption for the trained kinds,
the optimiser's settings for all but PCA). β has an exact spin box (`betaSpin`,
accepts 0) beside a log-scale slider from 0.01 to 100. The panel only gathers
settings and shows progress; the main window starts and stops the worker.
"""

from __future__ import annotations

import contextlib
import math

import numpy as np
import pyqtgraph as pg
import torch
from PySide6.QtCore import QSettings, Qt, Signal
from PySide6.QtWidgets import (
    QComboBox,
    QDoubleSpinBox,
    QFormLayout,
    QGraphicsItem,
    QHBoxLayout,
    QLabel,
    QProgressBar,
    QPushButton,
    QSlider,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from explorer.core.config import CORRUPTIONS, KINDS, ExternalConfig, ModelConfig, TrainConfig
from explorer.core.kinds import KIND_INFO, TRAINED, USES_BETA, USES_SAMPLES, describe
from explorer.core.training import Progress
from explorer.ui.state import Session

_LOG_MIN, _LOG_MAX, _LOG_STEPS = -2.0, 2.0, 400  # β slider: 10^-2 .. 10^2
_SMOOTH = 0.9  # exponential smoothing of the per-step curves


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
        form.addRow("Data", self.data_label)
        self._row_kinds: dict[int, tuple[str, ...]] = {}  # form row -> the kinds it applies to
        self.kind_combo = QComboBox(objectName="kindCombo")
        for i, kind in enumerate(KINDS):
            name, what = KIND_INFO[kind]
            self.kind_combo.addItem(name, kind)
            self.kind_combo.setItemData(i, f"{name}: {what}", Qt.ItemDataRole.ToolTipRole)
        self.kind_combo.setCurrentIndex(KINDS.index("vae"))
        form.addRow("Model", self.kind_combo)
        self.latent_spin = QSpinBox(objectName="latentSpin", minimum=1, maximum=64, value=2)
        self.arch_combo = QComboBox(objectName="archCombo")
        self.arch_combo.addItems(["mlp", "conv"])
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
        beta_row = QHBoxLayout()
        beta_row.addWidget(self.beta_spin)
        beta_row.addWidget(self.beta_slider, 1)
        form.addRow("β", beta_row)
        self._row_kinds[form.rowCount() - 1] = USES_BETA
        self.beta_spin.valueChanged.connect(self._beta_from_spin)
        self.beta_slider.valueChanged.connect(self._beta_from_slider)
        self._beta_from_spin(self.beta_spin.value())
        self.warmup_spin = QDoubleSpinBox(
            objectName="warmupSpin", minimum=0.0, maximum=1000.0, decimals=1, value=0.0
        )
        self.warmup_spin.setSuffix(" epochs")
        self.warmup_spin.setToolTip("Ramp β up from 0 over this many epochs (0 = off)")
        form.addRow("KL warm-up", self.warmup_spin)
        self._row_kinds[form.rowCount() - 1] = USES_BETA
        self.samples_spin = QSpinBox(objectName="samplesSpin", minimum=1, maximum=100, value=5)
        self.samples_spin.setToolTip("Importance samples k per image in the IWAE bound")
        form.addRow("Samples k", self.samples_spin)
        self._row_kinds[form.rowCount() - 1] = USES_SAMPLES
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
        self._row_kinds[form.rowCount() - 1] = TRAINED
        self.corrupt_combo.currentIndexChanged.connect(
            lambda: self.corrupt_spin.setEnabled(self.corrupt_combo.currentData() != "none")
        )
        self.corrupt_spin.setEnabled(False)

        self.epochs_spin = QSpinBox(objectName="epochsSpin", minimum=1, maximum=10_000, value=10)
        self.batch_spin = QSpinBox(objectName="batchSpin", minimum=1, maximum=65_536, value=128)
        form.addRow("Epochs", _pair(self.epochs_spin, "Batch size", self.batch_spin))
        self._row_kinds[form.rowCount() - 1] = TRAINED
        self.lr_spin = QDoubleSpinBox(
            objectName="lrSpin", minimum=1e-6, maximum=1.0, decimals=5, singleStep=1e-4, value=1e-3
        )
        form.addRow("Learning rate", self.lr_spin)
        self._row_kinds[form.rowCount() - 1] = TRAINED
        self.device_combo = QComboBox(objectName="deviceCombo")
        self.device_combo.addItems(devices())
        form.addRow("Device", self.device_combo)
        self.form = form
        self.kind_combo.currentIndexChanged.connect(self._show_rows)
        self._show_rows()

        self.train_button = QPushButton("Train", objectName="trainButton")
        self.train_button.setDefault(True)
        self.stop_button = QPushButton("Stop", objectName="stopButton", enabled=False)
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

        self.loss_plot = pg.PlotWidget(background="w")  # (its keywords go to the plot item)
        self.loss_plot.setObjectName("lossPlot")
        self.loss_plot.setMinimumHeight(140)  # the insight dock below needs the height too
        self.loss_plot.setLabel("bottom", "step")
        self.loss_plot.setLabel("left", "nats / image")
        self.loss_plot.setToolTip(
            "Per image, smoothed over steps. Validation: −ELBO for the VAE kinds, the "
            "reconstruction for PCA and the autoencoder"
        )
        self.loss_plot.showGrid(x=True, y=True, alpha=0.15)
        legend = self.loss_plot.addLegend(offset=(-5, 5), labelTextColor="#222")
        legend.setColumnCount(2)  # two short rows: the legend fits a low plot
        # The curves grow 4 times a second while training runs, on a GUI thread that
        # shares the CPU with training. Axes (with their grid) and legend are cached
        # pixmaps, and the range moves only when the curves leave it (`_fit_range`), so
        # an update repaints curves, not ~3 ms axis pictures.
        for item in (legend, self.loss_plot.getAxis("left"), self.loss_plot.getAxis("bottom")):
            item.setCacheMode(QGraphicsItem.CacheMode.DeviceCoordinateCache)
        self.loss_plot.disableAutoRange()
        # thousands of steps: draw at most a few points per pixel column (peaks kept)
        self.loss_plot.plotItem.setDownsampling(auto=True, mode="peak")
        self.loss_plot.plotItem.setClipToView(True)
        self.curves = {
            "total": self.loss_plot.plot(pen=pg.mkPen("#222", width=1), name="loss (recon + β·KL)"),
            "recon": self.loss_plot.plot(pen=pg.mkPen("#0072B2", width=1), name="reconstruction"),
            "kl": self.loss_plot.plot(pen=pg.mkPen("#D55E00", width=1), name="KL"),
            "val": self.loss_plot.plot(
                pen=None,
                symbol="o",
                symbolSize=7,
                symbolBrush="#009E73",
                name="validation",
            ),
        }
        # 1-px pens: Qt draws those as antialiased hairlines directly, wider ones through
        # its path stroker (a repaint took 2-6 ms, now ~1.2). The total is drawn on top:
        # where KL is small it hides the reconstruction curve just under it.
        self.curves["total"].setZValue(1)
        self.summary = QLabel(objectName="modelSummary")
        self.summary.setWordWrap(True)
        self.summary.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)

        layout = QVBoxLayout(self)
        layout.addLayout(form)
        layout.addLayout(buttons)
        layout.addWidget(self.progress)
        layout.addWidget(self.loss_plot, 1)
        layout.addWidget(self.summary)
        self.clear_curves()
        session.modelChanged.connect(self.show_model)
        session.datasetChanged.connect(self.show_dataset)

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
        self.kind_combo.setCurrentIndex(KINDS.index(kind))

    def _show_rows(self) -> None:
        kind = self.kind()
        for row, kinds in self._row_kinds.items():
            self.form.setRowVisible(row, kind in kinds)
        self.arch_combo.setEnabled(kind != "pca" and self.kind_combo.isEnabled())

    # -- settings -------------------------------------------------------------------
    def model_config(self, image_shape: tuple[int, int, int], classes: int = 0) -> ModelConfig:
        """The model to build for images of `image_shape`; a cvae gets `classes` (the data's)."""
        arch = self.arch_combo.currentText()
        kind = self.kind()
        return ModelConfig(
            kind=kind,
            classes=classes if kind == "cvae" else 0,
            image_shape=image_shape,
            latent_dim=self.latent_spin.value(),
            architecture=arch,
            hidden=(400,) if arch == "mlp" else (256,),
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
            value = settings.value(key)
            if value is not None:
                with contextlib.suppress(TypeError, ValueError):
                    getattr(self, name).setValue(kind(value))
        device = settings.value("training/device")
        if device is not None and self.device_combo.findText(str(device)) >= 0:
            self.device_combo.setCurrentText(str(device))

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
            lines.append("KL per dimension: " + " ".join(f"{k:.2f}" for k in s.info.kl_per_dim))
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
        self.arch_combo.setEnabled(not running and self.kind() != "pca")

    def clear_curves(self) -> None:
        self.series: dict[str, list[float]] = {k: [] for k in ("step", "total", "recon", "kl")}
        self.val_points: tuple[list[float], list[float]] = ([], [])
        self._ema: dict[str, float] = {}
        self._x_total: int | None = None  # the x range shown: 0 .. this run's steps
        self._y_extent = (math.inf, -math.inf)  # lowest and highest value drawn
        for c in self.curves.values():
            c.setData([], [])
        self.loss_plot.setTitle("Press Train: the losses appear here", color="#777", size="9pt")

    def add_steps(self, records: list[Progress]) -> None:
        for p in records:
            self.series["step"].append(p.step)
            for key, value in (("total", p.loss), ("recon", p.recon), ("kl", p.kl)):
                prev = self._ema.get(key, value)
                self._ema[key] = _SMOOTH * prev + (1 - _SMOOTH) * value
                self.series[key].append(self._ema[key])
        if len(self.series["step"]) == len(records):  # the first points of a run
            self.loss_plot.setTitle(None)
        steps = np.asarray(self.series["step"])
        for key in ("total", "recon", "kl"):
            self.curves[key].setData(steps, np.asarray(self.series[key]))
        self._fit_range(
            records[-1].steps_total, [self.series[k][-1] for k in ("total", "recon", "kl")]
        )
        self.show_progress(records[-1])

    def _fit_range(self, steps_total: int, new_values: list[float]) -> None:
        """x: the whole run from its start; y: refitted only when the curves leave the
        range or fill under half of it."""
        vb = self.loss_plot.plotItem.vb
        if self._x_total != steps_total:
            self._x_total = steps_total
            vb.setXRange(0, steps_total, padding=0.02)
        finite = [v for v in new_values if math.isfinite(v)]
        if not finite:
            return
        lo, hi = min(self._y_extent[0], *finite), max(self._y_extent[1], *finite)
        self._y_extent = (lo, hi)
        y0, y1 = vb.viewRange()[1]
        if lo < y0 or hi > y1 or (hi - lo) < 0.5 * (y1 - y0):
            vb.setYRange(lo, hi, padding=0.08)

    def add_epoch(self, p: Progress) -> None:
        if p.val is not None:
            # a deterministic kind has no ELBO: its validation reconstruction is its loss
            value = p.val.recon if math.isnan(p.val.elbo) else -p.val.elbo
            self.val_points[0].append(p.step)
            self.val_points[1].append(value)
            self.curves["val"].setData(*self.val_points)
            self._fit_range(p.steps_total, [value])
        self.show_progress(p)

    def show_progress(self, p: Progress) -> None:
        eta = ""
        if math.isfinite(p.eta_s):
            eta = f" · {int(p.eta_s) // 60}:{int(p.eta_s) % 60:02d} left"
        text = f"epoch {min(p.epoch + 1, p.epochs)}/{p.epochs} · {p.samples_per_s:,.0f} img/s{eta}"
        self._set_progress(p.fraction, text)

    def show_done(self, p: Progress) -> None:
        status = {"completed": "done", "stopped": "stopped", "diverged": "diverged"}
        self._set_progress(p.fraction, status.get(p.status, p.status))

    def _set_progress(self, fraction: float, text: str) -> None:
        # Text first: QProgressBar repaints at once on a value step of 1% or more, and a
        # new text set after that was a second paint (~0.4 ms each, 4 a second).
        self.progress.setFormat(text)
        self.progress.setValue(int(1000 * fraction))


def metric_lines(m: dict, latent_dim: int) -> list[str]:
    """A model's figures (Report.to_dict or the training's), leaving out what it lacks."""
    lines = []
    if m.get("elbo") is not None and math.isfinite(m["elbo"]):
        lines.append(f"ELBO {m['elbo']:.1f} nats (recon {m['recon']:.1f}, KL {m['kl']:.1f})")
    elif "recon" in m:
        lines.append(f"reconstruction {m['recon']:.1f} nats (no KL: a deterministic model)")
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

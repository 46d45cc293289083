"""The training panel: the settings form (`training_form`), Train/Stop, progress, the live
loss curves (`loss_curves`) and a summary of the model on screen.

The form's widgets are bound both ways to a `TrainingSettings`, which is what training
reads; the panel shows progress, and the training controller starts and stops the worker.
"""

from __future__ import annotations

import logging
import math
import time
from collections.abc import Sequence

from PySide6.QtCore import QSettings, Qt, Signal
from PySide6.QtWidgets import QHBoxLayout, QLabel, QProgressBar, QPushButton, QVBoxLayout

from explorer.core.config import ExternalConfig, ModelConfig
from explorer.core.distributed import describe_world
from explorer.core.eta import EtaSmoother
from explorer.core.kind_table import KIND_TABLE
from explorer.core.kinds import describe
from explorer.core.training import Progress
from explorer.logs import LOGGER
from explorer.ui.loss_curves import LossCurves
from explorer.ui.settings_values import read
from explorer.ui.state import Session
from explorer.ui.training_form import TrainingForm
from explorer.ui.training_settings import TrainingSettings

log = logging.getLogger(LOGGER)

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


class TrainingPanel(TrainingForm):
    trainRequested = Signal()
    stopRequested = Signal()

    def __init__(self, session: Session, settings: TrainingSettings, parent=None):
        super().__init__(settings, parent)  # the form's rows, bound to the settings
        self.session = session
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
        if tc is not None and s.info.world_size > 1:
            lines.append(describe_world(s.info.world_size, tc.batch_size))
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
        # Not this window's run: the curves show how the model was trained (its recorded
        # history), or nothing; a run's curves left beside another model misled.
        if not s.info.live:
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
            # short: the plot's title is clipped at its width (the status bar has the message);
            # a run that completes without a step is one fitted in closed form
            why = "Fitted in closed form" if p.status == "completed" else p.message.rstrip(".")
            self.loss_plot.show_note(f"{why}: no loss curve")

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

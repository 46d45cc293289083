"""Runs training for the window: the training settings in, progress and models out.

Starts a TrainingThread on a fresh model built from the training settings, feeds its
step records to the panel's curves, and after every epoch puts a CPU copy of the
weights and the new codes into the session, so the scatter re-arranges itself while
training goes on. The model being trained is never the one the views decode with.
"""

from __future__ import annotations

import sys
from collections.abc import Callable

from PySide6.QtCore import QObject, QTimer, Signal

from explorer.core.device import pick_device
from explorer.core.errors import ExplorerError
from explorer.core.history import Epoch, epoch_of, extend
from explorer.core.kind_table import KIND_TABLE
from explorer.core.kinds import build_model, model_config
from explorer.core.metrics import Evaluation
from explorer.core.train_checks import check_fit
from explorer.core.training import Progress
from explorer.ui.state import ModelInfo, Session
from explorer.ui.training_panel import TrainingPanel
from explorer.ui.training_settings import TrainingSettings
from explorer.ui.workers import FinalCodes, Snapshot, TrainingThread

# The GIL switch interval while a run trains. The training thread needs the GIL back
# between torch ops (dozens per step); while the GUI thread runs Python (a repaint, an
# epoch's update) it waits up to CPython's switch interval (5 ms) for each, so a GUI
# burst stalls training on both cores for its whole length. A short interval hands the
# GIL over between ops (`scripts/bench_ui.py --only train`).
_TRAINING_SWITCH_INTERVAL = 1e-4


def run_summary(p: Progress) -> str:
    """What a run did, for the status bar: the final record `p` in words."""
    if p.status == "stopped":
        when = f"after epoch {p.epoch} of {p.epochs}" if p.epoch else "in its first epoch"
        return (
            f"Training stopped {when} ({p.step:,} of {p.steps_total:,} steps); "
            "the model so far is shown."
        )
    return p.message


class TrainingController(QObject):
    runningChanged = Signal(bool)  # a worker started (True) or its thread ended (False)
    finished = Signal(object)  # the final Progress record of a run
    epochShown = Signal()  # a run's newest epoch is the session's model

    def __init__(
        self,
        session: Session,
        panel: TrainingPanel,
        settings: TrainingSettings,
        show_error: Callable[[str, str], None],
        parent: QObject | None = None,
    ):
        super().__init__(parent)
        self.session = session
        self.panel = panel  # shows the run: its curves, its progress, its end
        self.settings = settings
        self.show_error = show_error
        self.thread: TrainingThread | None = None
        self._first_epoch = True
        self._history: list[Epoch] = []  # the run's epochs so far, kept with the model
        self._pending: Snapshot | None = None  # a snapshot whose codes are due on screen
        self._switch_interval = sys.getswitchinterval()  # restored when a run's thread ends
        panel.trainRequested.connect(self.start)
        panel.stopRequested.connect(self.stop)

    @property
    def running(self) -> bool:
        return self.thread is not None

    def start(self) -> None:
        s = self.session
        if self.thread is not None or s.dataset is None:
            return
        try:
            model_cfg = model_config(self.settings.model, s.dataset)
            train_cfg = self.settings.train.validate()
            pick_device(train_cfg.device)
            model = build_model(model_cfg, seed=train_cfg.seed)
            check_fit(model, s.dataset, train_cfg)
        except ExplorerError as e:
            self.show_error("Cannot start training", str(e))
            return
        t = TrainingThread(model, s.dataset, train_cfg, parent=self)
        t.stepsReady.connect(self.panel.add_steps)
        t.epochReady.connect(self._epoch_done)
        t.trainingDone.connect(self._done)
        t.codesReady.connect(self._final_codes)
        t.failed.connect(lambda msg: self.show_error("Training failed", msg))
        t.finished.connect(self._thread_finished)
        self.thread = t
        self._first_epoch = True
        self._history = []
        self._pending = None
        self._switch_interval = sys.getswitchinterval()
        sys.setswitchinterval(_TRAINING_SWITCH_INTERVAL)
        self.panel.clear_curves()
        self.panel.set_running(True)
        self.runningChanged.emit(True)
        t.start()

    def stop(self) -> None:
        if self.thread is not None:
            self.thread.stop()

    def shutdown(self) -> None:
        """Stop and wait: no thread outlives the window."""
        if self.thread is not None:
            self.thread.abandon()
            self.thread.wait()

    def _apply(self, snap: Snapshot, final: bool, defer_codes: bool = False) -> None:
        """Show a snapshot: its weights now; its codes now, or (`defer_codes`, for a model
        already on screen) in the next turn of the event loop, so the GUI thread never
        blocks for both at once (the codes re-plot every view, the longest GUI-thread
        task of an epoch; `scripts/bench_ui.py --only timer`)."""
        t = self.thread
        if t is None:
            return
        p = snap.progress
        kind = t.model.kind
        source = f"trained {KIND_TABLE[kind].title}"
        if KIND_TABLE[kind].uses_beta:
            source += f", β = {t.config.beta:g}"
        info = ModelInfo(
            train_config=t.config,
            source=source,
            unsaved=True,
            trained_on=t.dataset.describe(),
            history=tuple(self._history),
            live=True,
        )
        if p.val is not None:
            info.metrics, info.kl_per_dim = validation_metrics(kind, p.val)
        if snap.codes is not None:
            info.metrics["active_units"] = int(snap.active.sum())
        elif not self._first_epoch and "active_units" in self.session.info.metrics:
            # the last epoch's count stands until this model's own codes arrive
            info.metrics["active_units"] = self.session.info.metrics["active_units"]
        first = self._first_epoch
        if first:  # a new model object: the views switch to it (and need codes at once)
            model = build_model(t.model.config)
            model.load_state_dict(snap.state)
            self.session.set_model(model, info)
            self._first_epoch = False
        else:
            self.session.load_weights(snap.state, info, final=final)
        if snap.codes is None:
            return
        self._pending = snap
        if defer_codes and not first:
            QTimer.singleShot(0, self, self._flush_codes)  # dropped if the window goes
        else:
            self._flush_codes()

    def _flush_codes(self) -> None:
        """Put the codes waiting (if any) on screen."""
        snap, self._pending = self._pending, None
        if snap is not None:
            self.session.set_codes(snap.codes, snap.logvars, snap.active, snap.pca)

    def _epoch_done(self, snap: Snapshot) -> None:
        self._history = extend(self._history, epoch_of(snap.progress))
        self.panel.add_epoch(snap.progress)
        self._apply(snap, final=False, defer_codes=True)
        self.epochShown.emit()

    def _done(self, snap: Snapshot) -> None:
        self._flush_codes()  # the last epoch's codes land before the final model is shown
        self._apply(snap, final=True)
        p = snap.progress
        self.panel.show_done(p)
        if p.status == "diverged":
            self.show_error("Training stopped", p.message)
        self.finished.emit(p)

    def _final_codes(self, final: FinalCodes) -> None:
        """Codes (and validation figures) of a run that ended early, computed after its
        final weights were shown."""
        if self.thread is None:
            return
        self._pending = None  # an epoch's codes still waiting are older: drop them
        self.session.set_codes(final.mu, final.logvar)
        metrics, kl_per_dim = dict(self.session.info.metrics), self.session.info.kl_per_dim
        if final.val is not None:
            metrics, kl_per_dim = validation_metrics(self.thread.model.kind, final.val)
        metrics["active_units"] = int(self.session.active.sum())
        self.session.update_info(metrics=metrics, kl_per_dim=kl_per_dim)
        self.panel.show_model()

    def _thread_finished(self) -> None:
        sys.setswitchinterval(self._switch_interval)
        self.thread = None
        self.panel.set_running(False)
        self.runningChanged.emit(False)


def validation_metrics(kind: str, v: Evaluation) -> tuple[dict, list[float]]:
    """A run's validation figures `v` as the summary and the saved checkpoint hold them:
    the metrics, and the KL of each dimension."""
    metrics = {"kind": kind, "elbo": v.elbo, "recon": v.recon, "kl": v.kl, "sq_error": v.sq_error}
    if v.accuracy is not None:  # M2's classifier on the validation labels
        metrics["held_out_accuracy"] = v.accuracy
    return metrics, list(v.kl_per_dim)

"""Following a training run that another process writes into a folder (`train --run-dir`).

The window shows the run as if it trained here: each epoch's line of metrics.jsonl joins
the loss curves, and each new checkpoint is read and the data encoded in the background,
then put on screen as the training controller puts an epoch (the first as a new model,
the next as new weights), so the scatter and every view follow. When run.json says the
run has ended, the final checkpoint stays on screen as an opened model (savable).

The folder is watched with QFileSystemWatcher and polled every `_POLL_MS` as well:
network and synced folders often deliver no change events. Nothing being written is
read: the checkpoint and run.json are replaced by a rename, and only whole lines of the
metrics are records (`core.run_folder`). A checkpoint that fails to load mid-run is
skipped with one status message and the next epoch's is tried. Opening anything else,
training here or *Stop following* ends following; the model on screen stays.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np
from PySide6.QtCore import QFileSystemWatcher, QTimer, Signal
from PySide6.QtWidgets import QFileDialog, QLabel

from explorer.core.checkpoint import Checkpoint, load_checkpoint
from explorer.core.data import BUILTINS, Dataset, load_dataset
from explorer.core.data.dataset import check_description
from explorer.core.errors import ExplorerError
from explorer.core.metrics import active_units, dataset_labels, encode
from explorer.core.model import images_to_tensor
from explorer.core.projection import Plane, pca_plane
from explorer.core.run_folder import (
    CHECKPOINT_FILE,
    METRICS_FILE,
    MetricsReader,
    RunError,
    RunState,
    read_run,
)
from explorer.core.training import DEFAULT_THREADS, Progress
from explorer.ui.checkpoint_info import check_metadata
from explorer.ui.opener import own_dataset
from explorer.ui.services import Controller, Services
from explorer.ui.state import ModelInfo
from explorer.ui.training_panel import TrainingPanel
from explorer.ui.workers import TaskThread

_POLL_MS = 2000  # the fallback for folders whose changes raise no events
_SETTLE_MS = 50  # one look after a burst of events (a checkpoint, a line, run.json)
_DONE_STATUS = {"finished": "completed", "interrupted": "stopped"}  # else the state itself


@dataclass(frozen=True)
class _Epoch:
    """A checkpoint of the run, read, with the data encoded by it (off the GUI thread)."""

    folder: Path
    identity: tuple  # the checkpoint file as it was read (see _identity)
    final: bool  # read after run.json said the run had ended: its last model
    ckpt: Checkpoint
    dataset: Dataset
    codes: np.ndarray  # (N, d) posterior means
    logvars: np.ndarray  # (N, d)
    active: np.ndarray  # (d,) bool
    pca: Plane | None  # the codes' principal plane (d > 2)


def _identity(path: Path) -> tuple | None:
    """Which file is at `path` now (a rename puts a new one there), or None."""
    try:
        st = path.stat()
    except OSError:
        return None
    return st.st_ino, st.st_mtime_ns, st.st_size


def _read_epoch(
    folder: Path, identity: tuple, final: bool, run: RunState, data: Dataset | str, count
) -> _Epoch:
    """Read the run's checkpoint and encode `data` (a dataset, or one to load first)."""
    path = folder / CHECKPOINT_FILE
    ckpt = load_checkpoint(path)
    check_metadata(ckpt, path)
    if ckpt.model.config != run.model:
        raise ExplorerError(f"{path}: holds another model than the run's ({folder / 'run.json'})")
    dataset = data if isinstance(data, Dataset) else load_dataset(data, count)
    if dataset.image_shape != tuple(run.model.image_shape):
        raise ExplorerError(
            f"{folder}: the run's model expects images of shape {tuple(run.model.image_shape)} "
            f"but {dataset.name} has {dataset.image_shape}"
        )
    model = ckpt.model
    mu, logvar = encode(model, images_to_tensor(dataset.images), dataset_labels(model, dataset))
    pca = pca_plane(mu) if mu.shape[1] > 2 else None
    return _Epoch(folder, identity, final, ckpt, dataset, mu, logvar, active_units(mu), pca)


class RunFollower(Controller):
    followingChanged = Signal(bool)
    epochShown = Signal()  # a checkpoint of the run is on screen with its codes
    ended = Signal(str)  # the run's final state, with its last model on screen

    def __init__(
        self, services: Services, panel: TrainingPanel, drop_pending_encodes: Callable[[], None]
    ):
        super().__init__(services)
        self.panel = panel  # the loss curves and progress show the run
        self.drop_pending_encodes = drop_pending_encodes  # the encoder's: codes come from here
        self.refuse_while_training = services.refuse_while_training
        self.label = QLabel(objectName="followLabel")  # the status bar's: which run, which epoch
        self.label.setStyleSheet("padding: 0 6px; border-left: 1px solid palette(mid);")
        self.label.hide()
        self.watcher = QFileSystemWatcher(self)
        self.watcher.directoryChanged.connect(self._check_soon)
        self.watcher.fileChanged.connect(self._check_soon)
        self.poll = QTimer(self, interval=_POLL_MS)
        self.poll.timeout.connect(self._check)
        self._settle = QTimer(self, singleShot=True, interval=_SETTLE_MS)
        self._settle.timeout.connect(self._check)
        self.folder: Path | None = None  # the run followed now
        self._reset()
        self.session.modelChanged.connect(self._changed_elsewhere)
        self.session.datasetChanged.connect(self._changed_elsewhere)

    def _reset(self) -> None:
        self.run: RunState | None = None
        self._metrics: MetricsReader | None = None
        self._data: Dataset | str | None = None  # the data to encode (a spec to load first)
        self._count: int | None = None  # images of a built-in to draw
        self._job: TaskThread | None = None
        self._shown: tuple | None = None  # the checkpoint on screen (its identity)
        self._skipped: tuple | None = None  # the newest checkpoint that failed to load
        self._model = None  # the model object this follower put in the session
        self._applying = False  # the session changes now come from here
        self._last: Progress | None = None  # the newest epoch record read
        self._noticed = ""  # the last status message, said once

    @property
    def following(self) -> bool:
        return self.folder is not None

    def ask_follow(self) -> None:
        """File ▸ Follow training run…: a folder dialog, then follow what was picked."""
        if self.refuse_while_training("a training run to follow"):
            return  # said before the dialog, not after the user picked a folder in vain
        folder = QFileDialog.getExistingDirectory(
            self.parent_widget,
            "Follow a training run (a train --run-dir folder)",
            self.recent.last_dir(),
        )
        if folder:
            self.recent.set_last_dir(folder)
            self.follow(folder)

    def follow(self, folder: str | Path) -> bool:
        """Follow the run in `folder`; False (one message naming it) when it is none."""
        if self.refuse_while_training("a training run to follow"):
            return False
        folder = Path(folder)
        try:
            run = read_run(folder)
            data, count = self._data_for(run)
        except ExplorerError as e:
            self.show_error("Cannot follow training run", str(e))
            return False
        self.stop(quiet=True)
        self.folder = folder
        self.run, self._data, self._count = run, data, count
        self._metrics = MetricsReader(folder, run.epochs)
        self.watcher.addPath(str(folder))
        self.poll.start()
        self.panel.clear_curves()
        # not "Press Train": the curves come from the run, after each of its epochs
        self.panel.loss_plot.show_note("Following: the losses appear after each epoch")
        self.recent.remember(folder)
        self._show_label()
        self.label.show()
        self.followingChanged.emit(True)
        self._check()
        return True

    def _data_for(self, run: RunState) -> tuple[Dataset | str, int | None]:
        """The data to show the run on: the open dataset if it is the run's, else the run's
        own when it is here, else the open one if the model can encode it."""
        described, shape = run.dataset, tuple(run.model.image_shape)
        ds = self.session.dataset
        if ds is not None and check_description(ds.describe()) == described:  # as read back
            return ds, None
        own = own_dataset(described)
        if own is not None:
            return own, described.get("num_images") if own in BUILTINS else None
        if ds is not None and ds.image_shape == shape:
            return ds, None
        where = described.get("source") or described.get("name") or "data"
        have = f"the open dataset {ds.name} has {ds.image_shape}" if ds else "no dataset is open"
        raise RunError(
            f"{run.folder}: the run trains on {where}, which is not on this machine, and "
            f"{have}; open a dataset of images of shape {shape} (channels, height, width) first"
        )

    # -- watching -------------------------------------------------------------------
    def _check_soon(self, *_: str) -> None:
        self._settle.start()

    def _check(self) -> None:
        """Read what the run wrote since the last look; start reading a new checkpoint."""
        if self.folder is None:
            return
        folder = self.folder
        try:
            self.run = read_run(folder)
        except ExplorerError as e:  # a synced folder may hold a bad copy for a while
            self._notice(f"{e}; trying again")
            return
        try:
            records = self._metrics.read_new()
        except ExplorerError as e:
            self.stop(quiet=True)
            self.show_error("Stopped following training run", str(e))
            return
        metrics = folder / METRICS_FILE
        if metrics.exists() and str(metrics) not in self.watcher.files():
            self.watcher.addPath(str(metrics))
        self._add_curves(records)
        identity = _identity(folder / CHECKPOINT_FILE)
        new = identity is not None and identity not in (self._shown, self._skipped)
        if self._job is not None:
            return  # its end looks again
        if new:
            self._read(identity)
        elif self.run.ended:
            self._end(last_unread=identity is not None and identity == self._skipped)
        self._show_label()

    def _add_curves(self, records) -> None:
        for record in records:
            steps, epoch = record.progress(self.run.epochs)
            if steps:
                self.panel.add_steps(steps)
            self.panel.add_epoch(epoch)
            self._last = epoch

    def _read(self, identity: tuple) -> None:
        data = self._data
        task = TaskThread(
            _read_epoch,
            self.folder,
            identity,
            self.run.ended,
            self.run,
            data,
            self._count,
            threads=DEFAULT_THREADS,
            parent=self,
        )
        task.succeeded.connect(self._apply)
        task.failed.connect(lambda message: self._skip(identity, message))
        task.finished.connect(self._job_ended)
        self._job = task
        task.start()

    def _job_ended(self) -> None:
        self._job = None
        self._check()

    def _skip(self, identity: tuple, message: str) -> None:
        if self.folder is None:
            return
        self._skipped = identity
        first_line = message.splitlines()[0]
        if self.run is not None and self.run.ended:  # the last model: nothing comes after it
            return
        self._notice(f"Skipped a checkpoint of the run ({first_line}); waiting for the next epoch")

    def _notice(self, text: str) -> None:
        if text != self._noticed:
            self._noticed = text
            self.show_status(text)

    # -- showing --------------------------------------------------------------------
    def _apply(self, e: _Epoch) -> None:
        if e.folder != self.folder:  # followed no longer, or another run
            return
        self._shown = e.identity
        ckpt = e.ckpt
        info = ModelInfo(
            train_config=ckpt.train_config,
            metrics=ckpt.metrics,
            kl_per_dim=ckpt.kl_per_dim,
            path=ckpt.path,
            source=run_title(e.folder),
            trained_on=ckpt.dataset,
            history=tuple(ckpt.history),
            world_size=ckpt.world_size,
            live=True,
        )
        s = self.session
        self.drop_pending_encodes()
        self._applying = True
        try:
            if self._model is None or s.model is not self._model:
                s.set_model(ckpt.model, info)
                self._model = ckpt.model
                if e.dataset is not s.dataset:
                    s.set_dataset(e.dataset)
                self._data = e.dataset  # loaded once
            else:
                s.load_weights(ckpt.model.state_dict(), info, final=e.final)
            s.set_codes(e.codes, e.logvars, e.active, e.pca)
        finally:
            self._applying = False
        self.epochShown.emit()

    def _show_label(self) -> None:
        if self.folder is None or self.run is None:
            return
        done = self._last.epoch if self._last is not None else 0
        at = (
            f"epoch {done} of {self.run.epochs}"
            if done
            else f"waiting for epoch 1 of {self.run.epochs}"
        )
        self.label.setText(f"Following {self.folder} · {at}")

    def _end(self, last_unread: bool) -> None:
        """The run has ended and its last checkpoint is on screen (or, `last_unread`,
        failed to load)."""
        run, folder, last = self.run, self.folder, self._last
        shown = self._shown is not None
        self.stop(quiet=True)
        status = _DONE_STATUS.get(run.state, run.state)
        if last is not None:
            self.panel.show_done(replace(last, kind="done", status=status, message=run.message))
        said = f" ({run.message.rstrip('.')})" if run.message else ""
        if last_unread:  # no later one will come
            kept = "the last one read stays" if shown else "there is no model to show"
            self.show_error(
                "Cannot follow training run",
                f"{folder / CHECKPOINT_FILE}: the run ended ({run.state}{said}) but its last "
                f"checkpoint could not be read; {kept}",
            )
        elif not shown:
            self.show_error(
                "Cannot follow training run",
                f"{folder}: the run ended ({run.state}{said}) before its first epoch; "
                "there is no model to show",
            )
        else:
            ended = f"{run.state} after epoch {run.epochs_done} of {run.epochs}"
            told = f" · {run.message.rstrip('.')}" if run.message else ""  # no nested brackets
            self.show_status(
                f"Followed {folder} to its end: {ended}{told}; its last model is shown"
            )
        self.ended.emit(run.state)

    def stop(self, quiet: bool = False) -> None:
        """Stop following; the model on screen stays."""
        if self.folder is None:
            return
        folder = self.folder
        self.poll.stop()
        self._settle.stop()
        paths = self.watcher.files() + self.watcher.directories()
        if paths:
            self.watcher.removePaths(paths)
        job = self._job
        self.folder = None  # first: the job's end, reported at once, looks no more
        self._reset()
        if job is not None:
            job.abandon()
        self.label.hide()
        self.followingChanged.emit(False)
        if not quiet:
            self.show_status(f"Stopped following {folder}; the model shown stays")

    def _changed_elsewhere(self) -> None:
        """Another model or dataset was opened (or trained): following ends."""
        if self.folder is not None and not self._applying:
            self.stop()


def run_title(folder: Path) -> str:
    """What the title bar and status bar call a followed run: its folder's name, said to
    be a run unless a word of the name says so already ("run beta6", "run truncated",
    but "run" and "run-3", not "run run")."""
    return (
        folder.name
        if re.search(r"(?<![a-z])run(?![a-z])", folder.name.lower())
        else f"run {folder.name}"
    )

"""Background work for the app: training and any one-off job (encoding, loading data).

Neither touches a widget: they emit plain data (progress records, CPU weight
snapshots, NumPy codes) through queued signals. Training runs in a QThread; a one-off
job in a daemon thread, which the window can leave behind when it never returns.
superqt's GeneratorWorker was considered, but it treats a RuntimeError from the job as
"worker deleted" and returns it as a value; torch reports most failures as RuntimeError, so a failed
training would look like a result. These classes report every failure.
"""

from __future__ import annotations

import threading
import time
import traceback
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
import shiboken6
import torch
from PySide6.QtCore import QObject, QThread, Signal

from explorer.core.config import TrainConfig
from explorer.core.data import Dataset
from explorer.core.device import pick_device
from explorer.core.errors import ExplorerError
from explorer.core.metrics import Evaluation, active_units, dataset_labels, encode, evaluate
from explorer.core.model import LatentModel, images_to_tensor
from explorer.core.projection import Plane, pca_plane
from explorer.core.train_split import validation_split
from explorer.core.training import DEFAULT_THREADS, Progress, state_snapshot, train

# seconds: step records reach the UI in batches, ≤ 4 per second (each batch redraws the
# loss curves, and more often the GUI's share of the CPU slows training measurably:
# `scripts/bench_ui.py --only train`)
_STEP_EMIT_INTERVAL = 0.25
_ENCODE_CHUNK = 4096  # images per encode call; a stop is noticed between chunks
_REPORT_INTERVAL = 0.1  # seconds: a job's progress reaches the UI ≤ 10 times a second


@dataclass(frozen=True)
class Snapshot:
    """The model as of an epoch (or the end): weights and the dataset's new codes."""

    progress: Progress
    state: dict[str, torch.Tensor]  # detached CPU copies
    codes: np.ndarray | None  # (N, d) posterior means of the plotted images
    logvars: np.ndarray | None  # (N, d) their log-variances
    # Worked out here, not on the GUI thread, which has the epoch's other updates to make:
    active: np.ndarray | None = None  # (d,) bool, the active units of `codes`
    pca: Plane | None = None  # the principal plane of `codes` (d > 2)


def _describe(error: BaseException) -> str:
    if isinstance(error, ExplorerError):
        return str(error)
    if isinstance(error, SystemExit):  # code that meant to end a script, not the app
        return f"the code it ran called sys.exit({error.code!r}); the app keeps running"
    detail = "".join(traceback.format_exception_only(type(error), error)).strip()
    return f"Unexpected error: {detail}\n\n{traceback.format_exc()}"


@dataclass(frozen=True)
class FinalCodes:
    """What a run that ended early leaves, computed after its end was reported."""

    mu: np.ndarray  # (N, d) posterior means of the plotted images
    logvar: np.ndarray  # (N, d)
    # validation figures of the final weights; None for a completed run (its last
    # epoch's figures are those of its final weights)
    val: Evaluation | None


class TrainingThread(QThread):
    """Runs the core's training generator on `model` (owned by this thread from now on).

    Stop is reported at once: a run that ends before its last epoch sends its final
    weights first (`trainingDone`, no codes; its validation figures are the last whole
    epoch's) and then the dataset's codes and the validation figures of those weights,
    after computing them (`codesReady`): scored before the stop was reported, they held
    the report back by a validation pass (`scripts/bench_ui.py --only stop` times Stop →
    shown). A completed run's codes are those of its last epoch. Encoding goes in chunks
    so a stop (or closing the window) is seen within one chunk.
    """

    stepsReady = Signal(object)  # list[Progress], the steps since the last emit
    epochReady = Signal(object)  # Snapshot after each epoch
    trainingDone = Signal(object)  # Snapshot with the "done" record
    codesReady = Signal(object)  # FinalCodes of the weights, when the run stopped early
    failed = Signal(str)

    def __init__(self, model: LatentModel, dataset: Dataset, config: TrainConfig, parent=None):
        super().__init__(parent)
        self.model = model
        self.dataset = dataset
        self.config = config
        self.device = pick_device(config.device)  # where train() will run, for the status bar
        self.images = images_to_tensor(dataset.images)  # (N, C, H, W) uint8, what the scatter plots
        self.labels = dataset_labels(model, dataset)  # (N,) for a cvae's encoder, else None
        self._cancel = threading.Event()  # stop training after the current step
        self._abandon = threading.Event()  # the window is closing: skip the final encode

    def stop(self) -> None:
        """Ask training to stop after the current step (thread-safe)."""
        self._cancel.set()

    def abandon(self) -> None:
        """Stop, and send nothing more that needs work (the window is closing)."""
        self._abandon.set()
        self._cancel.set()

    def _encode(self, interrupt: threading.Event) -> tuple[np.ndarray, np.ndarray] | None:
        """Posteriors of the plotted images: mu, logvar (N, d); None when `interrupt` is
        set meanwhile."""
        d = self.model.config.latent_dim
        mus = np.empty((len(self.images), d), np.float32)  # filled in place (see encode)
        logvars = np.empty_like(mus)
        for i in range(0, len(self.images), _ENCODE_CHUNK):
            if interrupt.is_set():
                return None
            labels = None if self.labels is None else self.labels[i : i + _ENCODE_CHUNK]
            chunk = self.images[i : i + _ENCODE_CHUNK]
            mus[i : i + len(chunk)], logvars[i : i + len(chunk)] = encode(self.model, chunk, labels)
        return mus, logvars

    def run(self) -> None:
        torch.set_num_threads(self.config.threads or DEFAULT_THREADS)
        try:
            pending: list[Progress] = []
            last = 0.0
            codes_current = False  # the last codes sent are those of the current weights
            for p in train(self.model, self.dataset, self.config, cancel=self._cancel):
                if p.kind == "step":
                    pending.append(p)
                    now = time.monotonic()
                    if now - last >= _STEP_EMIT_INTERVAL:
                        self.stepsReady.emit(pending)
                        pending, last = [], now
                    continue
                if pending:
                    self.stepsReady.emit(pending)
                    pending = []
                state = state_snapshot(self.model)
                if p.kind == "epoch":
                    codes = self._encode(self._cancel)
                    codes_current = codes is not None
                    if codes is None:
                        self.epochReady.emit(Snapshot(p, state, None, None))
                        continue
                    mu, logvar = codes
                    pca = pca_plane(mu) if mu.shape[1] > 2 else None
                    self.epochReady.emit(Snapshot(p, state, mu, logvar, active_units(mu), pca))
                    continue
                self.trainingDone.emit(Snapshot(p, state, None, None))
                if p.status != "completed" or not codes_current:
                    codes = self._encode(self._abandon)
                    if codes is not None:
                        val = None
                        if p.status != "completed":  # weights since the last validation
                            val = evaluate(
                                self.model, *validation_split(self.model, self.dataset, self.config)
                            )
                        self.codesReady.emit(FinalCodes(*codes, val))
        except Exception as e:
            self.failed.emit(_describe(e))


_TASK = "task"  # the start of a TaskThread's thread name


def running_tasks() -> list[str]:
    """The threads of TaskThreads still running (abandoned ones, once the window closed)."""
    return [t.name for t in threading.enumerate() if t.name.startswith(f"{_TASK} ")]


class _Relay(QObject):
    """Carries a job's progress and outcome from its thread to the GUI thread. It is
    never deleted: a job's own object may be, with its window, while the job still
    runs; whether it still exists is asked on the GUI thread, where it would be deleted."""

    ended = Signal(object, bool, object)  # (TaskThread, succeeded, result or message)
    progressed = Signal(object, str, object)  # (TaskThread, what, share done or None)

    def __init__(self):
        super().__init__()
        # Tasks whose thread may still hold references, kept alive here, on the GUI
        # thread. The last reference to a Qt object must not go in a job's thread:
        # objects freed with it (a closed window's) would be destroyed there, taking Qt's
        # locks while the GUI thread holds the GIL (seen as a deadlock).
        self.held: dict[TaskThread, threading.Event] = {}  # task -> its thread let go
        # queued: these run on the GUI thread
        self.ended.connect(self._deliver_outcome)
        self.progressed.connect(self._deliver_progress)

    def hold(self, task: TaskThread, released: threading.Event) -> None:
        self.held = {t: e for t, e in self.held.items() if not e.is_set()}
        self.held[task] = released

    def _deliver_outcome(self, task: TaskThread, ok: bool, value: Any) -> None:
        if shiboken6.isValid(task):
            task._outcome(ok, value)
        self.held = {t: e for t, e in self.held.items() if not e.is_set()}

    def _deliver_progress(self, task: TaskThread, what: str, fraction: float | None) -> None:
        if shiboken6.isValid(task) and not task.abandoned:
            task.progressed.emit(what, fraction)


_relay: _Relay | None = None  # made by the first TaskThread, on the GUI thread


class TaskThread(QObject):
    """Runs `fn(*args)` once; emits `succeeded(result)` or `failed(message)`, then
    `finished`, on the GUI thread. Deleting it (with its parent) drops its outcome.

    With `reports`, fn is called with `progress=` a core reporter (`core.progress`)
    whose calls arrive as `progressed(what, fraction)`, at most every _REPORT_INTERVAL s
    unless the work's phrase changes or it is done.

    The work runs in a daemon thread, not a QThread: `fn` may be someone else's code (a
    model's factory) or read a file that never ends, and then never returns. The window
    can `abandon` such a task: its late outcome is dropped, and the process may end with
    the thread still running (Qt aborts a process that destroys a running QThread, and
    waits for none of Python's daemon threads).
    """

    succeeded = Signal(object)
    failed = Signal(str)
    progressed = Signal(str, object)  # what is being done, the share done (float | None)
    finished = Signal()  # reported, or abandoned

    def __init__(
        self,
        fn: Callable[..., Any],
        *args: Any,
        threads: int = 1,
        reports: bool = False,
        parent=None,
    ):
        super().__init__(parent)
        global _relay
        if _relay is None:
            _relay = _Relay()
        self.fn = fn
        self.args = args
        # torch threads: 1 for the views' small jobs, which may run beside training (a
        # second thread team slows training down); files and whole datasets take more
        self.threads = threads
        self.reports = reports
        self._last_report: tuple[str, float] = ("", 0.0)  # phrase and time of the last emit
        self.abandoned = False  # set on the GUI thread: nothing more is reported
        self._ended = threading.Event()  # `fn` has returned or raised
        self._over = False  # `finished` was emitted

    def start(self) -> None:
        name = getattr(self.fn, "__name__", "job")
        released = threading.Event()
        _relay.hold(self, released)
        # the thread gets the task through a box it empties: threading.Thread would let
        # go of its own arguments last, on the job's thread (see _Relay)
        box = [self]
        threading.Thread(
            target=_work, args=(box, released), name=f"{_TASK} {name}", daemon=True
        ).start()

    # QThread's names, which callers know
    def isRunning(self) -> bool:
        """Until its outcome is reported (or it is abandoned): busy, as the user sees it."""
        return not self._over

    def isFinished(self) -> bool:
        """Its outcome was reported, or it was abandoned."""
        return self._over

    def wait(self, timeout: float | None = None) -> bool:
        """Wait until `fn` ends, at most `timeout` seconds: whether it ended."""
        return self._ended.wait(timeout)

    def abandon(self) -> None:
        """Report nothing of this task but `finished`, now (its thread runs on until `fn`
        returns, and what it returns is dropped)."""
        if not self.abandoned:
            self.abandoned = True
            self._over = True
            self.finished.emit()

    def _report(self, what: str, fraction: float | None) -> None:
        now = time.monotonic()
        last_what, last_time = self._last_report
        if what != last_what or fraction == 1.0 or now - last_time >= _REPORT_INTERVAL:
            self._last_report = (what, now)
            _relay.progressed.emit(self, what, fraction)

    def _run(self) -> tuple[bool, Any]:
        torch.set_num_threads(self.threads)
        try:
            extra = {"progress": self._report} if self.reports else {}
            return True, self.fn(*self.args, **extra)
        except BaseException as e:  # SystemExit from a factory, too
            return False, _describe(e)

    def _outcome(self, ok: bool, value: Any) -> None:
        # on the GUI thread, as `abandon` is: an outcome already on its way when the
        # task is abandoned is dropped too
        if not self.abandoned:
            (self.succeeded if ok else self.failed).emit(value)
            self._over = True
            self.finished.emit()


def _work(box: list[TaskThread], released: threading.Event) -> None:
    """A TaskThread's thread: run it, send its outcome, and let go of every reference
    before saying so (`released`), so that the GUI thread holds the last ones."""
    task = box.pop()
    ok, value = task._run()
    task._ended.set()
    _relay.ended.emit(task, ok, value)
    del task, value
    released.set()


class LatestJob(QObject):
    """Background jobs of which only the newest matters (a view following the cursor).

    One job runs at a time; a request made meanwhile waits, replacing any older waiting
    one, and a result is delivered only when no newer request is waiting. So a stream
    of requests costs at most one job in flight plus one queued, never a backlog.
    """

    done = Signal(object)  # the result of the newest request
    failed = Signal(str)

    def __init__(self, parent: QObject | None = None):
        super().__init__(parent)
        self._thread: TaskThread | None = None
        self._next: tuple[Callable[..., Any], tuple[Any, ...]] | None = None

    def submit(self, fn: Callable[..., Any], *args: Any) -> None:
        self._next = (fn, args)
        if self._thread is None:
            self._start()

    def _start(self) -> None:
        fn, args = self._next
        self._next = None
        t = TaskThread(fn, *args, parent=self)
        t.succeeded.connect(lambda result: self._next is None and self.done.emit(result))
        t.failed.connect(self.failed)
        t.finished.connect(self._finished)
        self._thread = t
        t.start()

    def _finished(self) -> None:
        self._thread = None
        if self._next is not None:
            self._start()

    def wait(self, timeout: float | None = None) -> bool:
        """Drop what waits and let the running job end (the window is closing), for at
        most `timeout` seconds: whether it ended (if not, its result is dropped)."""
        self._next = None
        if self._thread is None or self._thread.wait(timeout):
            return True
        self._thread.abandon()
        return False

"""How `python -m explorer sweep` trains its models: one after another, or N at once.

Either way each value is trained by the CLI's `cli_sweep.sweep_one` (`TrainOne`: the
training generator, saving and figures of `train`), and the parent process alone keeps
the table of the folder (`SweepTally`): rewritten after every model that finishes, rows
in the weight's order whichever finished first, so an interrupted sweep opens in the app
as it is.

`--parallel N` trains N values at a time, each in a spawned worker process
(concurrent.futures.ProcessPoolExecutor with the spawn context: a fresh interpreter,
safe beside CUDA and threads). On GPUs, the worker in slot k sees only GPU k mod G
(CUDA_VISIBLE_DEVICES), so G GPUs train G models; on the CPU each worker's torch takes
cores/N threads, so N models share the cores instead of each claiming all of them.

Ctrl-C at the terminal reaches every process of the group: each worker stops its model
between steps (saved and scored as a stopped one, as a serial sweep does), values not
started are dropped, and a Ctrl-C sent to the parent alone reaches the workers through a
shared event. A value whose training fails is one line naming it; the others go on and
the sweep exits non-zero.
"""

from __future__ import annotations

import logging
import os
import signal
import sys
import threading
from collections.abc import Callable
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, TextIO

from explorer.core.errors import ExplorerError
from explorer.core.kind_table import WEIGHT_SYMBOLS
from explorer.core.sweep import MANIFEST, SweepModel, beta_text, write_sweep
from explorer.logs import LOGGER, setup_logging
from explorer.terminal import print_sweep

if TYPE_CHECKING:
    from multiprocessing.synchronize import Event

    from explorer.core.config import ModelConfig, TrainConfig
    from explorer.core.data import Dataset


@dataclass(frozen=True)
class SweepJob:
    """One value of the sweep: its model's settings and the checkpoint it is saved as."""

    weight: str  # the TrainConfig weight swept
    value: float
    folder: Path  # the sweep's
    file: str  # checkpoint name inside it
    model_cfg: ModelConfig
    train_cfg: TrainConfig

    @property
    def label(self) -> str:
        """ "β = 4": how messages name this value."""
        return f"{WEIGHT_SYMBOLS[self.weight]} = {beta_text(self.value)}"


@dataclass(frozen=True)
class SweepOutcome:
    """How one value's training ended (plain data: it crosses from a worker process)."""

    row: SweepModel | None  # None when it failed or its figures could not be computed
    status: str  # completed, stopped, diverged; "failed" when training raised
    not_saved: str = ""  # why the model is not in the sweep folder ("" when it is)
    error: str = ""  # the failure, in one line ("" unless status is "failed")


@dataclass
class SweepTally:
    """The models finished so far and how the sweep should end."""

    folder: Path
    dataset: dict  # Dataset.describe(), for the manifest
    done: list[SweepModel] = field(default_factory=list)
    without_figures: int = 0
    failed: int = 0
    not_saved: bool = False

    def add(self, job: SweepJob, outcome: SweepOutcome) -> bool:
        """Record `outcome`, rewriting the table when it adds a model; whether the sweep
        may start more values (not after a stop, nor once a model could not be saved in
        the folder: the disk is full or gone and the next ones would fail too)."""
        if outcome.error:
            print(f"error: {job.label}: {outcome.error}", file=sys.stderr)
            self.failed += 1
            return True
        if outcome.not_saved:  # cli_train.train_and_save said where it went instead
            self.not_saved = True
            return False
        if outcome.row is None:
            print(f"note: {job.file} is left out of {MANIFEST}: it has no figures", file=sys.stderr)
            self.without_figures += 1
            return True
        self.done.append(outcome.row)
        write_sweep(self.folder, self.dataset, self.done)
        return outcome.status != "stopped"

    def exit_status(self) -> int:
        """Print the table of the finished models; the sweep's exit status, save for a
        model kept elsewhere than asked (`not_saved`), which the CLI's own status tells."""
        if self.done:
            print_sweep(sorted(self.done, key=lambda m: m.value), self.folder)
        if any(m.status == "stopped" for m in self.done):
            return 130
        clean = all(m.status == "completed" for m in self.done)
        return 0 if clean and not (self.without_figures or self.failed) else 1


_STOPPED = "sweep stopped: the finished models are in the table"


# Trains, saves and scores one value, stopping between steps once the event is set; a
# module-level function, so that a worker process can be sent it
TrainOne = Callable[[SweepJob, "Dataset", "threading.Event | None"], SweepOutcome]


def run_serial(
    jobs: list[SweepJob], dataset: Dataset, tally: SweepTally, train_one: TrainOne
) -> None:
    """Train the values one after another in this process."""
    for i, job in enumerate(jobs):
        print(f"[{i + 1}/{len(jobs)}] {job.label}", file=sys.stderr)
        if not tally.add(job, train_one(job, dataset, None)):
            print(_STOPPED, file=sys.stderr)
            return


def run_parallel(
    jobs: list[SweepJob], workers: int, dataset: Dataset, tally: SweepTally, train_one: TrainOne
) -> None:
    """Train the values `workers` at a time, each in a worker process of its own.

    Each value gets a one-worker pool: a worker that dies (killed for memory, say) then
    breaks only its own value's pool, where a shared pool would end every model in
    training with it. The worker is sent `dataset` as it starts (not read again: a folder
    of images would be decoded once per worker, and a drawn set would have to be drawn
    alike), and the GPU of the slot it takes.
    """
    import multiprocessing

    from explorer.core.device import pick_device

    workers = min(workers, len(jobs))
    context = multiprocessing.get_context("spawn")
    stop = context.Event()
    device = pick_device(jobs[0].train_cfg.device)
    gpus = _gpus(jobs[0].train_cfg.device) if device.type == "cuda" else []
    if device.type == "cpu":
        threads = jobs[0].train_cfg.threads or max(1, _cores() // workers)  # --threads wins
        jobs = [_with_threads(job, threads) for job in jobs]
        where = f"{threads} CPU thread{'s' * (threads > 1)} each"
    else:
        where = f"GPUs {', '.join(gpus)}" if gpus else str(device)
    print(f"training {len(jobs)} models, {workers} at a time ({where})", file=sys.stderr)
    interrupts = 0

    def on_interrupt(signum, frame):
        nonlocal interrupts
        interrupts += 1
        if interrupts == 1:  # once: a handler run inside set() must not call it again
            stop.set()
            # os.write, not print: the handler may run inside a print of the main thread
            os.write(2, b"stopping: the models in training are saved as they are\n")

    waiting = list(jobs)
    free = list(range(workers))  # slot k trains on GPU k mod G
    running: dict[Future, tuple[SweepJob, int, ProcessPoolExecutor]] = {}
    go_on = True

    def start_more() -> None:
        while go_on and not interrupts and waiting and free:
            job, slot = waiting.pop(0), free.pop(0)
            gpu = gpus[slot % len(gpus)] if gpus else None
            pool = ProcessPoolExecutor(
                1,
                mp_context=context,
                initializer=_start_worker,
                initargs=(train_one, dataset, stop, gpu),
            )
            running[pool.submit(_work, job)] = job, slot, pool

    previous = signal.signal(signal.SIGINT, on_interrupt)
    try:
        start_more()
        while running:
            finished, _ = wait(running, return_when=FIRST_COMPLETED)
            for future in sorted(finished, key=lambda f: jobs.index(running[f][0])):
                job, slot, pool = running.pop(future)
                pool.shutdown()
                free.append(slot)
                outcome = _outcome(future)
                if outcome is None:  # a stop reached it before it started
                    continue
                print(f"{job.label}: {outcome.status}", file=sys.stderr)
                go_on = tally.add(job, outcome) and go_on  # else no value starts any more
            start_more()
        if interrupts or tally.not_saved:
            print(_STOPPED, file=sys.stderr)
    finally:
        if running:  # this process itself failed: the workers stop, saving their models
            stop.set()
        for _, _, pool in running.values():
            pool.shutdown()
        signal.signal(signal.SIGINT, previous)


def _outcome(future: Future) -> SweepOutcome | None:
    try:
        return future.result()
    except BrokenProcessPool:  # its worker was killed (out of memory, say)
        return SweepOutcome(None, "failed", error="its worker process ended abruptly")


def _gpus(device: str) -> list[str]:
    """The GPUs to spread workers over: those visible to this process, or none when the
    command line named one (cuda:N), which every worker then uses."""
    import torch

    if device.startswith("cuda:"):
        return []
    visible = os.environ.get("CUDA_VISIBLE_DEVICES")
    if visible:
        return [g.strip() for g in visible.split(",") if g.strip()]
    return [str(i) for i in range(torch.cuda.device_count())]


def _cores() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # macOS and Windows have no affinity call
        return os.cpu_count() or 1


def _with_threads(job: SweepJob, threads: int) -> SweepJob:
    from dataclasses import replace

    return replace(job, train_cfg=replace(job.train_cfg, threads=threads))


# -- inside a worker process ---------------------------------------------------------
@dataclass
class _Worker:
    train_one: TrainOne
    dataset: Dataset
    cancel: threading.Event  # set once the sweep is stopped (see _start_worker)


_worker: _Worker | None = None


def _start_worker(train_one: TrainOne, dataset: Dataset, stop: Event, gpu: str | None) -> None:
    """Set up a worker process: its GPU, its signals, its log and its stop event."""
    global _worker
    # Between models a Ctrl-C is the parent's to handle; while a model trains, training's
    # own handler stops it (as in a serial sweep).
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    if gpu is not None:  # set before torch first touches CUDA in this process
        os.environ["CUDA_VISIBLE_DEVICES"] = gpu
    setup_logging()
    # Training polls a threading.Event, which a signal handler may set at any moment; the
    # shared event's lock is not reentrant, so a thread carries it over to that one.
    cancel = threading.Event()
    threading.Thread(target=lambda: (stop.wait(), cancel.set()), daemon=True).start()
    _worker = _Worker(train_one, dataset, cancel)


def _work(job: SweepJob) -> SweepOutcome | None:
    """Train one value in this worker (None when the sweep was stopped before it began)."""
    from explorer.core.external import short_error

    assert _worker is not None, "_start_worker runs first"
    if _worker.cancel.is_set():
        return None
    out = _Tagged(sys.stdout, job.label)
    err = _Tagged(sys.stderr, job.label)
    real = sys.stdout, sys.stderr
    sys.stdout, sys.stderr = out, err  # one line per epoch, each naming its value
    try:
        return _worker.train_one(job, _worker.dataset, _worker.cancel)
    except Exception as e:  # reported by the parent, naming the value; the others go on
        logging.getLogger(LOGGER).exception("sweep: %s", job.label)
        why = str(e) if isinstance(e, ExplorerError) else short_error(e)  # ours say it all
        return SweepOutcome(None, "failed", error=why)
    finally:
        out.flush()
        err.flush()
        sys.stdout, sys.stderr = real


class _Tagged:
    """A text stream that writes whole lines to `stream`, each after `tag`; not a
    terminal, so a progress bar prints one line per epoch rather than redrawing one."""

    def __init__(self, stream: TextIO, tag: str):
        self.stream, self.tag, self.partial = stream, tag, ""

    def write(self, text: str) -> int:
        *lines, self.partial = (self.partial + text).split("\n")
        for line in lines:
            self.stream.write(f"[{self.tag}] {line}\n")
        self.stream.flush()
        return len(text)

    def flush(self) -> None:
        if self.partial:
            self.write("\n")

    def isatty(self) -> bool:
        return False

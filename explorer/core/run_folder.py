"""A training run written into a folder as it goes, so that another process can follow it.

`train --run-dir DIR` keeps three files in DIR:

- `model.safetensors`: the newest complete epoch's checkpoint, replaced atomically
  (`files.atomic_write`) after every epoch, so a reader sees a whole file or the last one;
- `metrics.jsonl`: one JSON object per epoch (its step losses, thinned, and the
  validation figures), appended as one line, flushed and fsynced; a line without its
  newline is still being written and is never read as a record;
- `run.json`: the run's state (running, finished, failed, interrupted), the epochs
  planned and done, and the model's and training's settings, replaced atomically.

A run ended by Ctrl-C or a failure keeps the last complete epoch's checkpoint (the
weights of a half-done or diverged epoch are not written over it). The writer is driven
by the one training loop (`RunWriter.record` is called with its records); the reader
side (`read_run`, `MetricsReader`) checks everything it reads, as checkpoints are checked.
"""

from __future__ import annotations

import json
import math
import os
import stat
from dataclasses import dataclass, field, replace
from datetime import datetime, timezone
from pathlib import Path
from typing import TYPE_CHECKING, Any

from explorer.core import checks
from explorer.core.config import MAX_EPOCHS, ModelConfig, TrainConfig
from explorer.core.data.dataset import check_description
from explorer.core.errors import ExplorerError
from explorer.core.files import atomic_write
from explorer.core.history import Epoch, epoch_of, extend
from explorer.core.metrics import Evaluation

if TYPE_CHECKING:
    from explorer.core.checkpoint import Checkpoint
    from explorer.core.data import Dataset
    from explorer.core.model import LatentModel
    from explorer.core.training import Progress

RUN_FILE = "run.json"
METRICS_FILE = "metrics.jsonl"
CHECKPOINT_FILE = "model.safetensors"
FORMAT = "latent-explorer-run"
VERSION = 1
STATES = ("running", "finished", "failed", "interrupted")
_STATE_OF = {"completed": "finished", "stopped": "interrupted", "diverged": "failed"}

_STEPS_KEPT = 500  # step points per epoch in metrics.jsonl: the curves are smoothed anyway
_MAX_RUN_BYTES = 1 << 20  # run.json is a few kB; a larger one is not ours
_MAX_LINE_BYTES = 1 << 20  # one epoch's line: 500 steps and the KL of 64 dimensions fit
_STEP_KEYS = ("step", "loss", "recon", "kl", "beta", "tc", "capacity")  # Progress's names
_OPTIONAL_KEYS = ("tc", "capacity")  # NaN where a kind has none; a line may leave them out


class RunError(ExplorerError):
    """A run folder that cannot be written or read; the message names the folder or file."""


def _now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds")


def _finite_or_none(x: float) -> float | None:
    """JSON has no NaN: a figure a kind does not define (an autoencoder's KL) is null."""
    return x if math.isfinite(x) else None


class RunWriter:
    """Writes one training run into its folder; use it as a context manager around the
    run, so a run that raises (Ctrl-C, a failure) is marked so in run.json."""

    def __init__(
        self, folder: Path, model: ModelConfig, train: TrainConfig, dataset: Dataset
    ) -> None:
        """Make `folder` (its parent must exist) or take an empty one, and write run.json
        ("running"). RunError naming the folder when it cannot be written or already
        holds a run."""
        self.folder = Path(folder)
        self._run = {
            "format": FORMAT,
            "version": VERSION,
            "state": "running",
            "epochs": train.epochs,
            "epochs_done": 0,
            "message": "",
            "started": _now(),
            "updated": "",
            "model": model.to_dict(),
            "train": train.to_dict(),
            "dataset": dataset.describe(),
        }
        self._train, self._dataset = train, dataset
        self._steps: list[tuple[float, ...]] = []  # this epoch's step figures, as _STEP_KEYS
        self._history: list[Epoch] = []  # every epoch's figures, kept in each checkpoint
        self._make_folder()
        self._write_run()

    def _make_folder(self) -> None:
        f = self.folder
        try:
            if f.exists() and not f.is_dir():
                raise RunError(f"--run-dir {f}: is a file; give a folder for the run")
            if (f / RUN_FILE).exists():
                raise RunError(f"--run-dir {f}: already holds a run ({RUN_FILE}); choose another")
            f.mkdir(exist_ok=True)
        except OSError as e:
            raise RunError(f"--run-dir {f}: cannot be made ({e.strerror or e})") from None

    def _write_run(self) -> None:
        self._run["updated"] = _now()
        path = self.folder / RUN_FILE
        try:
            with atomic_write(path) as tmp, open(tmp, "w", encoding="utf-8") as out:
                json.dump(self._run, out, indent=1)
        except OSError as e:
            raise RunError(f"{path}: cannot be written ({e.strerror or e})") from None

    def __enter__(self) -> RunWriter:
        return self

    def __exit__(self, kind, error, tb) -> None:
        if self._run["state"] != "running":
            return
        if kind is None:  # left without saying how the run ended: it did not finish
            self.end("failed", "the run ended without its final record")
        elif issubclass(kind, KeyboardInterrupt):
            self.end("interrupted", "interrupted (Ctrl-C)")
        else:
            self.end("failed", str(error) or kind.__name__)

    def record(self, p: Progress, model: LatentModel) -> None:
        """One record of the training loop: steps are kept; an epoch writes its checkpoint,
        then its line of metrics, then run.json (in that order: a reader that sees an
        epoch's line finds that epoch's checkpoint, or a newer one)."""
        if p.kind == "step":
            self._steps.append(tuple(getattr(p, k) for k in _STEP_KEYS))
        elif p.kind == "epoch":
            self._history = extend(self._history, epoch_of(p))
            self._save_epoch(model, p.val)
            self._append_metrics(p)
            self._run["epochs_done"] = p.epoch
            self._write_run()

    def _save_epoch(self, model: LatentModel, val: Evaluation | None) -> None:
        """The run's checkpoint: `model` as of an epoch, with its validation figures."""
        from explorer.core import distributed
        from explorer.core.checkpoint import Checkpoint, save_checkpoint

        ckpt = Checkpoint(
            model=model,
            train_config=self._train,
            dataset=self._dataset.describe(),
            history=self._history,
            world_size=distributed.current().world_size,
        )
        if val is not None:
            ckpt.metrics = {"kind": model.kind, "recon": val.recon, "sq_error": val.sq_error}
            ckpt.metrics |= {"elbo": _finite_or_none(val.elbo), "kl": _finite_or_none(val.kl)}
            ckpt.kl_per_dim = list(val.kl_per_dim)
        save_checkpoint(self.folder / CHECKPOINT_FILE, ckpt)

    def _append_metrics(self, p: Progress) -> None:
        steps, self._steps = self._steps, []
        if len(steps) > _STEPS_KEPT:  # evenly thinned, the epoch's last step kept
            stride = -(-len(steps) // _STEPS_KEPT)
            steps = steps[(len(steps) - 1) % stride :: stride]
        columns = {k: [_finite_or_none(s[i]) for s in steps] for i, k in enumerate(_STEP_KEYS)}
        v = p.val
        record = {
            "epoch": p.epoch,
            "step": p.step,
            "steps_total": p.steps_total,
            "samples_per_s": p.samples_per_s,
            "steps": columns,
            "val": None
            if v is None
            else {
                "elbo": _finite_or_none(v.elbo),
                "recon": v.recon,
                "kl": _finite_or_none(v.kl),
                "sq_error": _finite_or_none(v.sq_error),
                "kl_per_dim": list(v.kl_per_dim),
                "count": v.count,
            },
        }
        line = json.dumps(record, allow_nan=False) + "\n"
        path = self.folder / METRICS_FILE
        try:
            with open(path, "a", encoding="utf-8") as out:
                out.write(line)  # one write: the line and its newline go together
                out.flush()
                os.fsync(out.fileno())
        except OSError as e:
            raise RunError(f"{path}: cannot be written ({e.strerror or e})") from None

    def end(self, state: str, message: str = "") -> None:
        """Say in run.json how the run ended (one of STATES but "running")."""
        self._run["state"], self._run["message"] = state, message
        self._write_run()

    def finish(self, final: Progress, ckpt: Checkpoint) -> None:
        """The training loop's last record: a completed run's final model (`ckpt`, with
        the report's figures when they were computed) becomes the run's checkpoint; a
        stopped or diverged one keeps its last complete epoch's."""
        from explorer.core.checkpoint import save_checkpoint

        state = _STATE_OF.get(final.status, "failed")
        if state == "finished":
            save_checkpoint(self.folder / CHECKPOINT_FILE, replace(ckpt))  # ckpt keeps its path
        self.end(state, final.message)


@dataclass(frozen=True)
class RunState:
    """What run.json says, checked."""

    folder: Path
    state: str  # one of STATES
    epochs: int  # planned
    epochs_done: int  # complete epochs whose checkpoint and metrics are written
    message: str  # how it ended, in words ("" while running)
    model: ModelConfig
    train: TrainConfig
    dataset: dict[str, Any] = field(default_factory=dict)  # Dataset.describe()

    @property
    def ended(self) -> bool:
        return self.state != "running"


def _read_small(path: Path, most: int) -> bytes:
    """The bytes of a regular file of at most `most` bytes; RunError naming it otherwise."""
    try:
        st = path.stat()
        if not stat.S_ISREG(st.st_mode):
            raise RunError(f"{path}: not a regular file")
        if st.st_size > most:
            raise RunError(f"{path}: {st.st_size:,} bytes, more than a run's {most:,}")
        with open(path, "rb") as f:
            return f.read(most + 1)
    except FileNotFoundError:
        raise RunError(
            f"{path.parent}: not a training run folder (no {path.name}); "
            "make one with python -m explorer train --run-dir"
        ) from None
    except OSError as e:
        raise RunError(f"{path}: cannot be read ({e.strerror or e})") from None


def read_run(folder: str | Path) -> RunState:
    """The run in `folder`, every field checked; RunError naming the folder or file."""
    folder = Path(folder)
    if not folder.is_dir():
        raise RunError(
            f"{folder}: not a folder" if folder.exists() else f"{folder}: no such folder"
        )
    path = folder / RUN_FILE
    raw = _read_small(path, _MAX_RUN_BYTES)
    try:
        data = checks.mapping(json.loads(raw), "run.json")
        if data.get("format") != FORMAT:
            raise RunError(f"{path}: not in the {FORMAT} format")
        version = checks.whole(data.get("version"), "version", 1, 2**31)
        if version > VERSION:
            raise RunError(
                f"{path}: written by a newer Latent Explorer (run format {version}, this "
                f"one reads up to {VERSION}); update the app"
            )
        epochs = checks.whole(data.get("epochs"), "epochs", 1, MAX_EPOCHS)
        return RunState(
            folder=folder,
            state=checks.choice(data.get("state"), "state", STATES),
            epochs=epochs,
            epochs_done=checks.whole(data.get("epochs_done"), "epochs_done", 0, epochs),
            message=checks.text(data.get("message", ""), "message"),
            model=ModelConfig.from_dict(checks.mapping(data.get("model"), "model")),
            train=TrainConfig.from_dict(checks.mapping(data.get("train"), "train")),
            dataset=check_description(data.get("dataset") or {}),
        )
    except (ValueError, RecursionError) as e:  # JSONDecodeError is a ValueError
        raise RunError(f"{path}: not valid JSON ({e})") from None
    except RunError:
        raise
    except (ExplorerError, TypeError) as e:  # a check, or a config's unexpected field
        raise RunError(f"{path}: {e}") from None


@dataclass(frozen=True)
class EpochRecord:
    """One line of metrics.jsonl, checked: an epoch's step losses and validation figures."""

    epoch: int
    step: int  # steps taken by the end of the epoch
    steps_total: int
    samples_per_s: float
    steps: dict[str, list[float]]  # _STEP_KEYS -> values, as many each (NaN where null)
    val: Evaluation | None

    def progress(self, epochs: int) -> tuple[list[Progress], Progress]:
        """The training loop's records this line stands for: its steps, then its epoch."""
        from explorer.core.training import Progress

        common = dict(epochs=epochs, steps_total=self.steps_total, samples_per_s=self.samples_per_s)
        common |= dict(eta_s=math.nan)
        s = self.steps
        steps = [
            Progress(
                kind="step",
                epoch=self.epoch - 1,
                step=int(s["step"][i]),
                **{k: s[k][i] for k in _STEP_KEYS[1:]},
                **common,
            )
            for i in range(len(s["step"]))
        ]
        last = steps[-1] if steps else None
        figures = {k: math.nan if last is None else getattr(last, k) for k in _STEP_KEYS[1:]}
        epoch = Progress(
            kind="epoch", epoch=self.epoch, step=self.step, val=self.val, **figures, **common
        )
        return steps, epoch


def _number_or_nan(value: Any, name: str) -> float:
    return math.nan if value is None else checks.number(value, name)


def _epoch_record(data: Any, epochs: int) -> EpochRecord:
    """A parsed line, checked; ConfigError naming the field."""
    d = checks.mapping(data, "the record")
    steps_total = checks.whole(d.get("steps_total"), "steps_total", 1, 2**62)
    cols = checks.mapping(d.get("steps"), "steps")
    steps = {
        k: [
            _number_or_nan(v, f"steps {k}")
            for v in checks.items(cols.get(k), f"steps {k}", _STEPS_KEPT)
        ]
        for k in _STEP_KEYS
        if k in cols or k not in _OPTIONAL_KEYS
    }
    for k in _OPTIONAL_KEYS:
        steps.setdefault(k, [math.nan] * len(steps["step"]))
    if len({len(v) for v in steps.values()}) != 1:
        raise ExplorerError("the step columns are of different lengths")
    if not all(math.isfinite(x) and 0 <= x <= steps_total for x in steps["step"]):
        raise ExplorerError(f"a step number is not between 0 and {steps_total:,}")
    val = d.get("val")
    if val is not None:
        v = checks.mapping(val, "val")
        kl_dims = checks.items(v.get("kl_per_dim"), "val kl_per_dim", 4096)
        val = Evaluation(
            elbo=_number_or_nan(v.get("elbo"), "val elbo"),
            recon=checks.number(v.get("recon"), "val recon"),
            kl=_number_or_nan(v.get("kl"), "val kl"),
            kl_per_dim=tuple(checks.number(x, "val kl_per_dim") for x in kl_dims),
            count=checks.whole(v.get("count"), "val count", 0, 2**62),
            sq_error=_number_or_nan(v.get("sq_error"), "val sq_error"),
        )
    return EpochRecord(
        epoch=checks.whole(d.get("epoch"), "epoch", 1, epochs),
        step=checks.whole(d.get("step"), "step", 0, steps_total),
        steps_total=steps_total,
        samples_per_s=checks.finite(d.get("samples_per_s"), "samples_per_s", 0),
        steps=steps,
        val=val,
    )


class MetricsReader:
    """Reads the complete lines of a run's metrics.jsonl as they are appended.

    Only lines ended by their newline are records: the writer appends a line and its
    newline in one write, so a last line without one is still being written (or was cut
    short by a crash) and is read once it is whole.
    """

    def __init__(self, folder: Path, epochs: int):
        self.path = Path(folder) / METRICS_FILE
        self.epochs = epochs
        self._offset = 0  # bytes read: the end of the last complete line
        self.lines = 0  # complete lines read

    def read_new(self) -> list[EpochRecord]:
        """The records appended since the last call; RunError naming the file and line
        for a line that is not a record, or a file that shrank (it is another run's)."""
        try:
            with open(self.path, "rb") as f:
                size = os.fstat(f.fileno()).st_size
                if size < self._offset:
                    raise RunError(
                        f"{self.path}: shorter than when last read; the run was replaced"
                    )
                f.seek(self._offset)
                tail = f.read(size - self._offset)
        except FileNotFoundError:
            return []  # no epoch has ended yet
        except OSError as e:
            raise RunError(f"{self.path}: cannot be read ({e.strerror or e})") from None
        complete = tail[: tail.rfind(b"\n") + 1]
        if len(tail) - len(complete) > _MAX_LINE_BYTES:
            raise RunError(f"{self.path}: line {self.lines + 1} is longer than a record can be")
        records = []
        for raw in complete.splitlines():
            self.lines += 1
            where = f"{self.path} line {self.lines}"
            if len(raw) > _MAX_LINE_BYTES:
                raise RunError(f"{where}: longer than a record can be")
            try:
                records.append(_epoch_record(json.loads(raw), self.epochs))
            except (ValueError, RecursionError) as e:
                raise RunError(f"{where}: not valid JSON ({e})") from None
            except ExplorerError as e:
                raise RunError(f"{where}: {e}") from None
        self._offset += len(complete)
        return records

"""`python -m explorer train`: train one model with a progress bar, save it, and score it.

`train_and_save` is the part a sweep runs for each of its values too (explorer/cli_sweep.py):
the model is saved before anything else can fail, kept in the user data folder when it
cannot go where asked (exit status 3, `NOT_SAVED`), and its figures are added when they
come. The first Ctrl-C stops training between steps and the model is still saved. Under
torchrun rank 0 does all that and the other ranks train their share silently
(`_train_share`).
"""

from __future__ import annotations

import contextlib
import functools
import logging
import signal
import sys
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from explorer.cli_settings import configs_of, load_data, note_skipped
from explorer.core.errors import CheckpointError, ExplorerError
from explorer.logs import LOGGER
from explorer.terminal import ProgressBar, print_held_out, print_report

if TYPE_CHECKING:  # the command imports torch when it runs, not when the app starts
    from explorer.core.metrics import Report
    from explorer.core.run_folder import RunWriter
    from explorer.core.training import Progress


@dataclass
class Trained:
    """A model the CLI trained: how training ended, its figures, and where it is kept."""

    final: Progress  # the training loop's last record
    report: Report | None  # None when the figures could not be computed
    saved: Path  # where the model is: the path asked for, or a fallback (see not_saved)
    not_saved: str = ""  # why it is not at the path asked for ("" when it is)


def train_and_save(
    model_cfg,
    train_cfg,
    dataset,
    out: Path,
    fallback_name: str,
    run: RunWriter | None = None,
    cancel: threading.Event | None = None,
) -> Trained:
    """Train one model with a progress bar, save it to `out`, then compute its figures.

    The model is saved before anything else can fail: when `out` cannot be written
    after all, it goes to the first fallback folder that takes it, as `fallback_name`
    (`destination.keep_elsewhere`); the figures are best-effort and are added to the
    saved file when they come. Training that fails after its first step keeps the model
    as it was too, and the error says where. The first Ctrl-C stops training between
    steps (the model is still saved), a second one aborts. With a `run` folder, every
    epoch is written into it as it ends, for a window following the run. Under torchrun
    this is rank 0's part (`_train_share` the others'): the model is the ranks' one. A
    `cancel` event given (a parallel sweep's worker's) stops it as Ctrl-C does.
    """
    from explorer.core import distributed
    from explorer.core.checkpoint import Checkpoint, save_checkpoint
    from explorer.core.device import pick_device, pick_precision
    from explorer.core.external import short_error
    from explorer.core.history import epoch_of, extend
    from explorer.core.kinds import build_model, describe
    from explorer.core.training import train

    device = pick_device(train_cfg.device)
    print(
        f"training on {dataset.name}: {len(dataset):,} images {dataset.image_shape}, "
        f"{describe(model_cfg, train_cfg)}, device {device} "
        f"({pick_precision(train_cfg.precision, device)})",
        file=sys.stderr,
    )
    model = build_model(model_cfg, seed=train_cfg.seed)
    world_size = distributed.current().world_size
    checkpoint = functools.partial(
        Checkpoint, model, train_cfg, dataset.describe(), world_size=world_size
    )
    bar = ProgressBar()
    final = None
    history = []  # what the report's loss curves draw
    # held until the model is saved: a launcher's signal must not cut the saving short
    with _stop_on_signals(cancel) as cancel:
        try:
            for p in train(model, dataset, train_cfg, cancel=cancel):
                bar.update(p)
                history = extend(history, epoch_of(p))
                if run is not None:
                    run.record(p, model)
                final = p
        except Exception as e:
            if final is None:  # refused before the first step: nothing trained to keep
                raise
            logging.getLogger(LOGGER).exception("training failed")
            saved, _ = _save(checkpoint(history=history), out, fallback_name)
            why = distributed.peer_failure(e) or short_error(e)
            raise ExplorerError(
                f"training failed in epoch {final.epoch + 1} ({why}); the model as it was "
                f"then is saved to {saved}"
            ) from e
        if bar.tty:
            sys.stderr.write("\r\033[K")
        print(final.message, file=sys.stderr)
        ckpt = checkpoint(history=history)
        saved, not_saved = _save(ckpt, out, fallback_name)
    if not_saved:
        print(f"error: {not_saved}", file=sys.stderr)
    else:
        print(f"saved {out}")
    rep = _figures(model, dataset)
    if rep is not None:
        ckpt.metrics, ckpt.kl_per_dim = rep.to_dict(), list(rep.evaluation.kl_per_dim)
        if final.val is not None and final.val.accuracy is not None:  # M2, unseen labels
            ckpt.metrics["held_out_accuracy"] = final.val.accuracy
        try:
            save_checkpoint(saved, ckpt)
        except ExplorerError as e:
            print(f"note: the figures below are not in {saved}: {e}", file=sys.stderr)
    if run is not None:
        run.finish(final, ckpt)
    return Trained(final, rep, saved, not_saved)


@contextlib.contextmanager
def _stop_on_signals(cancel: threading.Event | None = None):
    """An event set by Ctrl-C (`cancel` where one is given), which the training loop
    stops at between steps.

    A second Ctrl-C aborts (the previous handler is back). Under torchrun, SIGTERM stops
    the run the same way, and repeated signals too: the launcher sends them to every
    process when one has failed or it was interrupted itself, and kills them only after
    a grace period, time enough for rank 0 to save the model. There the handlers stay
    for the rest of the process: a failed peer's SIGTERM often lands just after the
    block, while rank 0 is still saying what happened and where the model went, and
    the default action ended it silently (tests/test_distributed.py's killed rank).
    """
    from explorer.core import distributed

    cancel = threading.Event() if cancel is None else cancel
    several = distributed.current().active
    names = (signal.SIGINT, signal.SIGTERM) if several else (signal.SIGINT,)
    previous = {name: signal.getsignal(name) for name in names}

    def on_signal(signum, frame):
        cancel.set()
        if not several:
            signal.signal(signum, previous[signum])

    for name in names:
        signal.signal(name, on_signal)
    try:
        yield cancel
    finally:
        if not several:
            for name, handler in previous.items():
                signal.signal(name, handler)


def _train_share(model_cfg, train_cfg, dataset) -> int:
    """A torchrun rank other than 0: it trains its share of every batch and says nothing
    (rank 0 reports and saves); its exit status."""
    from explorer.core import distributed
    from explorer.core.external import short_error
    from explorer.core.kinds import build_model
    from explorer.core.training import train

    model = build_model(model_cfg, seed=train_cfg.seed)
    final = None
    try:
        with _stop_on_signals() as cancel:
            for p in train(model, dataset, train_cfg, cancel=cancel):
                final = p
    except Exception as e:
        if final is None:
            raise
        logging.getLogger(LOGGER).exception("training failed")
        why = distributed.peer_failure(e) or short_error(e)
        raise ExplorerError(
            f"training failed in epoch {final.epoch + 1} ({why}); saving the model is rank 0's"
        ) from e
    return _EXIT.get(final.status, 1)


def _save(ckpt, out: Path, fallback_name: str) -> tuple[Path, str]:
    """Where `ckpt` was saved, and why not at `out` ("" when it was)."""
    from explorer.core.checkpoint import save_checkpoint
    from explorer.core.destination import keep_elsewhere

    try:
        return save_checkpoint(out, ckpt), ""
    except ExplorerError as e:
        failed = str(e)
    try:
        kept = keep_elsewhere(fallback_name, lambda path: save_checkpoint(path, ckpt))
    except ExplorerError as e:
        raise CheckpointError(f"{failed}; keeping the model elsewhere failed too ({e})") from e
    return kept, f"{failed}; the model was saved to {kept} instead"


def _figures(model, dataset) -> Report | None:
    """The model's figures on the data, or None (with a note) when computing them fails:
    the model is saved by then, and nothing after training may cost it."""
    from explorer.core.external import short_error
    from explorer.core.metrics import report

    try:
        rep = report(model, dataset, on_data_samples=_ON_DATA_SAMPLES)
    except Exception as e:  # any failure here is ours, and the model must survive it
        logging.getLogger(LOGGER).exception("figures after training")
        why = short_error(e)
    else:
        if not rep.non_finite:
            return rep
        why = f"not finite: {', '.join(rep.non_finite)}"
    print(
        f"note: the model's figures could not be computed ({why}); the model itself is saved",
        file=sys.stderr,
    )
    return None


_EXIT = {"completed": 0, "stopped": 130}  # anything else (diverged) exits 1
NOT_SAVED = 3  # trained, but kept elsewhere than asked: the message says where
_ON_DATA_SAMPLES = 1000  # prior samples checked against the data after training


def _default_out(dataset, model_cfg, train_cfg) -> Path:
    from explorer.core.kind_table import DEFAULT_KIND

    if model_cfg.kind == DEFAULT_KIND:  # named as before kinds existed, when all were VAEs
        return Path(f"{dataset.name}-z{model_cfg.latent_dim}-beta{train_cfg.beta:g}.safetensors")
    return Path(f"{dataset.name}-{model_cfg.kind}-z{model_cfg.latent_dim}.safetensors")


def cmd_train(args) -> int:
    from explorer.core import distributed
    from explorer.core.data import BUILTINS
    from explorer.core.destination import check_destination
    from explorer.core.device import pick_device

    # before the data is read and the processes wait for each other
    distributed.check_supported(args.kind, distributed.environment())
    dataset = load_data(args)
    model_cfg, train_cfg = configs_of(args, dataset)
    device = pick_device(train_cfg.device)  # an unusable device is refused before training
    if not distributed.join(device).leader:
        return _train_share(model_cfg, train_cfg, dataset)
    out = args.out or _default_out(dataset, model_cfg, train_cfg)
    data_file = [] if args.dataset in BUILTINS else [Path(args.dataset)]
    check_destination(out, CheckpointError, inputs=data_file)  # before training, not after
    note_skipped(dataset)
    with _run_writer(args.run_dir, model_cfg, train_cfg, dataset) as run:
        trained = train_and_save(model_cfg, train_cfg, dataset, out, out.name, run)
    if trained.report is not None:
        print_report(trained.report)
    print_held_out(trained.final.val)
    if trained.not_saved:
        return NOT_SAVED
    return _EXIT.get(trained.final.status, 1)


def _run_writer(folder: Path | None, model_cfg, train_cfg, dataset):
    """`train --run-dir`'s writer (it marks the run in run.json however it ends), or none."""
    from explorer.core.run_folder import RunWriter

    if folder is None:
        return contextlib.nullcontext()
    return RunWriter(folder, model_cfg, train_cfg, dataset)

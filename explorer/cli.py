"""Headless front end: `python -m explorer train | sweep | evaluate | report | export`; no Qt.

    python -m explorer train --dataset sprites --beta 4 --latent-dim 10 --epochs 5 \
        --out model.safetensors
    python -m explorer sweep --dataset sprites --betas 0,1,4 --latent-dim 10 --out sweep/
    python -m explorer sweep --kind factorvae --weight gamma --values 5,10,20 --out sweep/
    python -m explorer evaluate model.safetensors --dataset sprites
    python -m explorer evaluate their_vae.pt --dataset mnist.gz   # TorchScript
    python -m explorer evaluate weights.pth --factory models:build_vae --dataset mnist.gz
    python -m explorer report model.safetensors --dataset sprites --out report.html
    python -m explorer export model.safetensors --torchscript model.pt

Bad input ends with one line on stderr naming the file or option, and exit status 2.
A trained model that cannot be saved where asked is kept in the user data folder
(~/.local/share/LatentExplorer/unsaved on Linux), and the status is 3; the line says where.
With no command (or a model file first), `python -m explorer` opens the desktop app
instead (explorer/__main__.py decides which).
"""

from __future__ import annotations

import contextlib
import functools
import json
import logging
import signal
import sys
import threading
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from explorer.cli_parser import build_parser
from explorer.core.errors import CheckpointError, ExplorerError
from explorer.external_options import external_source
from explorer.logs import LOGGER, setup_logging
from explorer.terminal import ProgressBar, print_held_out, print_report, stdout_to_stderr

if TYPE_CHECKING:  # the commands import torch when they run, not when the app starts
    from explorer.core.checkpoint import Checkpoint
    from explorer.core.data import Dataset
    from explorer.core.metrics import Report
    from explorer.core.model import LatentModel
    from explorer.core.run_folder import RunWriter
    from explorer.core.training import Progress
    from explorer.sweep_runs import SweepJob, SweepOutcome


def _load_data(args):
    from explorer.core.data import load_dataset

    return load_dataset(
        args.dataset,
        count=args.count,
        seed=args.data_seed,
        image_key=args.image_key,
        label_key=args.label_key,
    )


def _weights(args, **swept: float) -> dict[str, float]:
    """The objective's weights: the swept one, else the option given, else the paper's
    value for the kind (core/kind_table.py), else TrainConfig's default."""
    from explorer.core.config import TrainConfig
    from explorer.core.kind_table import WEIGHT_SYMBOLS, weight_defaults

    values = {}
    for name in WEIGHT_SYMBOLS:
        given = swept.get(name, getattr(args, name))
        if given is None:
            given = weight_defaults(args.kind).get(name, getattr(TrainConfig, name))
        values[name] = given
    return values


def _configs(args, dataset, **swept: float):
    """The model and training settings of the command line, with the `swept` weight's
    value where a sweep gives one."""
    from explorer.core.config import TrainConfig
    from explorer.core.kinds import ModelSettings, model_config

    train_cfg = TrainConfig(
        **_weights(args, **swept),
        epochs=args.epochs,
        batch_size=args.batch_size,
        lr=args.lr,
        seed=args.seed,
        device=args.device,
        warmup_epochs=args.warmup,
        threads=args.threads,
        precision=args.precision,
        samples=args.samples,
        corruption=args.corrupt,
        corruption_level=args.corrupt_level,
        capacity_epochs=args.capacity_epochs,
        kl_schedule=args.kl_schedule,
        cycles=args.cycles,
        cycle_ramp=args.cycle_ramp,
        labelled=args.labelled,
    ).validate()
    settings = ModelSettings(
        args.kind, args.latent_dim, args.arch, args.hidden, args.likelihood, args.flow_steps
    )
    return model_config(settings, dataset, option="--kind"), train_cfg


def _note_skipped(dataset) -> None:
    skipped = dataset.extra.get("skipped")
    if skipped:
        print(
            f"note: skipped {len(skipped)} unreadable file(s) in {dataset.source}, "
            f"e.g. {skipped[0]}",
            file=sys.stderr,
        )


@dataclass
class _Trained:
    """A model the CLI trained: how training ended, its figures, and where it is kept."""

    final: Progress  # the training loop's last record
    report: Report | None  # None when the figures could not be computed
    saved: Path  # where the model is: the path asked for, or a fallback (see not_saved)
    not_saved: str = ""  # why it is not at the path asked for ("" when it is)


def _train_and_save(
    model_cfg,
    train_cfg,
    dataset,
    out: Path,
    fallback_name: str,
    run: RunWriter | None = None,
    cancel: threading.Event | None = None,
) -> _Trained:
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
    return _Trained(final, rep, saved, not_saved)


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
_NOT_SAVED = 3  # trained, but kept elsewhere than asked: the message says where
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
    dataset = _load_data(args)
    model_cfg, train_cfg = _configs(args, dataset)
    device = pick_device(train_cfg.device)  # an unusable device is refused before training
    if not distributed.join(device).leader:
        return _train_share(model_cfg, train_cfg, dataset)
    out = args.out or _default_out(dataset, model_cfg, train_cfg)
    data_file = [] if args.dataset in BUILTINS else [Path(args.dataset)]
    check_destination(out, CheckpointError, inputs=data_file)  # before training, not after
    _note_skipped(dataset)
    with _run_writer(args.run_dir, model_cfg, train_cfg, dataset) as run:
        trained = _train_and_save(model_cfg, train_cfg, dataset, out, out.name, run)
    if trained.report is not None:
        print_report(trained.report)
    print_held_out(trained.final.val)
    if trained.not_saved:
        return _NOT_SAVED
    return _EXIT.get(trained.final.status, 1)


def _run_writer(folder: Path | None, model_cfg, train_cfg, dataset):
    """`train --run-dir`'s writer (it marks the run in run.json however it ends), or none."""
    from explorer.core.run_folder import RunWriter

    if folder is None:
        return contextlib.nullcontext()
    return RunWriter(folder, model_cfg, train_cfg, dataset)


def cmd_sweep(args) -> int:
    from explorer.core.device import pick_device
    from explorer.core.kind_table import KIND_TABLE, WEIGHT_SYMBOLS, kinds_where
    from explorer.core.sweep import MANIFEST, checkpoint_names
    from explorer.sweep_runs import SweepJob, SweepTally, run_parallel, run_serial

    weight, values = ("beta", args.betas) if args.betas else (args.weight, args.values)
    kind, symbol = KIND_TABLE[args.kind], WEIGHT_SYMBOLS[weight]
    if weight not in kind.weights:
        has = f"its weights are {', '.join(kind.weights)}" if kind.weights else "it has none"
        raise ExplorerError(
            f"--kind {args.kind}: a {symbol} sweep needs a kind whose objective has {symbol} "
            f"({kinds_where(lambda k: weight in k.weights)}); {has}"
        )
    dataset = _load_data(args)
    configs = [_configs(args, dataset, **{weight: v}) for v in values]  # all checked first
    names = checkpoint_names(weight, values)
    pick_device(configs[0][1].device)
    out = args.out or Path(f"sweep-{dataset.name}")
    if (out / MANIFEST).exists():
        raise ExplorerError(f"{out}: already holds a sweep; choose another --out")
    _sweep_folder(out, names)
    _note_skipped(dataset)
    jobs = [
        SweepJob(weight, getattr(train_cfg, weight), out, name, model_cfg, train_cfg)
        for (model_cfg, train_cfg), name in zip(configs, names, strict=True)
    ]
    tally = SweepTally(out, dataset.describe())
    if args.parallel > 1:
        run_parallel(jobs, args.parallel, dataset, tally, sweep_one)
    else:
        run_serial(jobs, dataset, tally, sweep_one)
    status = tally.exit_status()
    return _NOT_SAVED if tally.not_saved else status


def sweep_one(
    job: SweepJob, dataset: Dataset, cancel: threading.Event | None = None
) -> SweepOutcome:
    """Train, save and score one value of a sweep (in this process, or a worker's)."""
    from explorer.core.sweep import SweepModel, disentanglement_columns
    from explorer.sweep_runs import SweepOutcome

    trained = _train_and_save(
        job.model_cfg,
        job.train_cfg,
        dataset,
        job.folder / job.file,
        f"{job.folder.absolute().name}-{job.file}",
        cancel=cancel,
    )
    status = trained.final.status
    if trained.not_saved or trained.report is None:
        return SweepOutcome(None, status, not_saved=trained.not_saved)
    rep, e = trained.report, trained.report.evaluation
    row = SweepModel(
        weight=job.weight,
        value=job.value,
        file=job.file,
        elbo=e.elbo,
        recon=e.recon,
        kl=e.kl,
        active_units=rep.active_count,
        mig=rep.mig.score if rep.mig is not None else None,
        status=status,
        **disentanglement_columns(rep.disentanglement),
    )
    return SweepOutcome(row, status)


def _sweep_folder(out: Path, names: list[str]) -> None:
    """Make the sweep's folder, checking first that every checkpoint can be written in it
    (a folder made here is removed again when one cannot)."""
    from explorer.core.destination import check_destination

    if out.exists() and not out.is_dir():
        raise ExplorerError(f"{out}: is a file; give a folder for the sweep")
    made = not out.exists()
    if made:
        check_destination(out, CheckpointError)  # its parent exists and takes new entries
        try:
            out.mkdir()
        except OSError as e:
            raise CheckpointError(f"{out}: the folder cannot be made ({e.strerror or e})") from e
    try:
        for name in names:
            if (out / name).exists():  # a model of an earlier sweep whose table is gone
                raise CheckpointError(f"{out / name}: already exists; choose another --out")
            check_destination(out / name, CheckpointError)
    except ExplorerError:
        if made:
            out.rmdir()
        raise


def cmd_evaluate(args) -> int:
    # --json promises one JSON line on stdout: what a model's own code prints meanwhile
    # (Python's print or TorchScript's C++ output) goes to stderr instead.
    with stdout_to_stderr() if args.json else contextlib.nullcontext():
        rep, title = _evaluated(args)
    if args.json:
        print(json.dumps(rep.to_dict()))
    else:
        print(title)
        print_report(rep)
    return 0


def _evaluated(args) -> tuple[Report, str]:
    """The figures of the model `args` name, and the title of their table."""
    opened = _opened(args)
    return _scored(args, opened.model, opened.dataset), opened.title


@dataclass
class _Opened:
    """A model the command line names, and the data it is evaluated on."""

    model: LatentModel
    dataset: Dataset
    title: str  # the title of its table of figures
    checkpoint: Checkpoint | None  # None for a model from elsewhere


def _opened(args) -> _Opened:
    """The model `args.model` names (a checkpoint, or from elsewhere) and the data of
    --dataset (default: a built-in model's own), checked to fit each other."""
    from explorer.core.checkpoint import load_checkpoint
    from explorer.core.data import BUILTINS
    from explorer.core.external_files import open_external
    from explorer.core.kinds import describe
    from explorer.core.model import images_to_tensor

    source = external_source(args.model, args)
    if source is not None:
        if args.dataset is None:
            raise ExplorerError(f"{args.model}: name the data to evaluate on with --dataset")
        dataset = _load_data(args)
        probe_images = images_to_tensor(dataset.images[:8]).float() / 255
        model = open_external(source, dataset.image_shape, probe_images)
        a = model.config.adapters
        title = (
            f"{args.model}: {model.config.architecture}, latent size {model.config.latent_dim}; "
            f"input {a.input}, encoder {a.encoder}, decoder {a.decoder}; "
            f"scored as Bernoulli; evaluated on {dataset.name}"
        )
        return _Opened(model, dataset, title, None)
    ckpt = load_checkpoint(args.model)
    if args.dataset is None:
        name = ckpt.dataset.get("name")
        if name not in BUILTINS:
            raise ExplorerError(
                f"{args.model}: trained on {name or 'unknown data'}; "
                "name the data to evaluate on with --dataset"
            )
        args.dataset = name
    dataset = _load_data(args)
    model, cfg = ckpt.model, ckpt.model.config
    if dataset.image_shape != tuple(cfg.image_shape):
        raise ExplorerError(
            f"{args.model}: the model expects images of shape {tuple(cfg.image_shape)} "
            f"(channels, height, width) but {dataset.name} has {dataset.image_shape}"
        )
    trained = ckpt.train_config
    title = f"{args.model}: {describe(cfg, trained)}, {cfg.likelihood}; evaluated on {dataset.name}"
    return _Opened(model, dataset, title, ckpt)


def _scored(args, model: LatentModel, dataset: Dataset) -> Report:
    """`model`'s figures on `dataset` with the options of `args` (--k, --max-images,
    --prior-samples); CheckpointError when the model computes non-finite values."""
    from explorer.core.device import pick_device
    from explorer.core.metrics import report

    rep = report(
        model.to(pick_device("auto")),
        dataset,
        iw_k=args.k,
        max_images=args.max_images,
        on_data_samples=args.prior_samples,
        metric_settings=_metric_settings(args, dataset),
    )
    if rep.non_finite:
        raise CheckpointError(
            f"{args.model}: the model produced non-finite values (NaN or infinite) on "
            f"{dataset.name}: {', '.join(rep.non_finite)}"
        )
    return rep


def cmd_report(args) -> int:
    from explorer.core.data import BUILTINS
    from explorer.core.destination import check_destination
    from explorer.core.report import ReportError, build, card_of, write

    out = args.out or Path(f"{args.model.stem}-report.html")
    data_file = [] if args.dataset in (None, *BUILTINS) else [Path(args.dataset)]
    # refused before the model is evaluated (minutes on a large model), not after
    check_destination(out, ReportError, inputs=[args.model, *data_file])
    opened = _opened(args)
    rep = _scored(args, opened.model, opened.dataset)
    ckpt = opened.checkpoint
    card = (
        card_of(opened.model, args.model.name)
        if ckpt is None
        else card_of(
            ckpt.model, args.model.name, ckpt.train_config, ckpt.dataset, ckpt.created, ckpt.history
        )
    )
    write(out, build(opened.model, opened.dataset, rep, card))
    print(f"wrote {out}: {opened.title}")
    return 0


def _metric_settings(args, dataset):
    """The disentanglement metrics' protocol the options ask for, checked against the data
    before anything is computed."""
    from explorer.core.disentanglement import MetricSettings
    from explorer.core.disentanglement.points import kept_factors

    if args.exclude_factors:
        if dataset.factors is None:
            raise ExplorerError(f"--exclude-factors: {dataset.name} has no factors to leave out")
        kept_factors(dataset.factor_names or [], args.exclude_factors, "--exclude-factors")
    return MetricSettings(
        exclude=args.exclude_factors,
        codes=args.codes,
        bins=args.bins,
        sap_continuous=args.sap_factors == "continuous",
    )


def cmd_export(args) -> int:
    from explorer.core.checkpoint import load_checkpoint
    from explorer.core.export import export_torchscript

    ckpt = load_checkpoint(args.model)
    out = export_torchscript(ckpt.model, args.torchscript, source=args.model)  # read back
    cfg = ckpt.model.config
    print(
        f"wrote {out}: TorchScript with encode(x) -> (mu, logvar), decode(z) -> images, "
        f"latent_dim {cfg.latent_dim}, image_shape {list(cfg.image_shape)}"
    )
    return 0


COMMANDS = {
    "train": cmd_train,
    "sweep": cmd_sweep,
    "evaluate": cmd_evaluate,
    "report": cmd_report,
    "export": cmd_export,
}


def _run(command, args) -> int:
    """`command`'s status. Under torchrun (of the commands, `train` alone runs in several
    processes) the process group it joined is left however it ends, and the messages of
    ranks other than 0 say whose they are."""
    from explorer.core import distributed

    group = distributed.environment()
    if not group.active:
        return command(args)
    if args.command != "train":
        raise ExplorerError(f"{args.command}: runs in one process; torchrun starts train only")
    try:
        return command(args)
    except ExplorerError as e:
        if group.leader:
            raise
        raise ExplorerError(f"rank {group.rank}: {e}") from e
    finally:
        distributed.leave()


def main(argv: Sequence[str]) -> int:
    """Run one headless command (`argv` as typed after `python -m explorer`): its exit status.

    explorer/__main__.py decides what runs: it sends no command, `app` and a model file
    to the window, and everything else here.
    """
    argv = list(argv)
    parser = build_parser()
    args = parser.parse_args(argv)
    command = COMMANDS.get(args.command)
    if command is None:  # `app` is in the help's list; the window is opened by __main__
        parser.error(f"{args.command} opens the window: run python -m explorer {args.command}")
    setup_logging()
    try:
        return _run(command, args)
    except ExplorerError as e:
        logging.getLogger(LOGGER).error("%s %s: %s", args.command, " ".join(argv[1:]), e)
        print(f"error: {e}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        # Ctrl-C outside a training run (which stops at an epoch's end and saves): while
        # data is read, a factory builds a model that never comes, or a report is written.
        # Whatever was saved before stays; nothing half-written is left (writes are atomic).
        print(f"{args.command}: interrupted", file=sys.stderr)
        return 130

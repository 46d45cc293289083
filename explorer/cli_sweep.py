"""`python -m explorer sweep`: train one model per value of a weight (β, γ, …) into a
folder, with the table of their figures that the app opens as a sweep.

The values' settings and checkpoint names are all checked before the first trains;
`sweep_one` trains, saves and scores one value as `train` does (`cli_train.train_and_save`),
and explorer/sweep_runs.py runs it for every value, one after another or N at once.
"""

from __future__ import annotations

import threading
from pathlib import Path
from typing import TYPE_CHECKING

from explorer.cli_settings import configs_of, load_data, note_skipped
from explorer.cli_train import NOT_SAVED, train_and_save
from explorer.core.errors import CheckpointError, ExplorerError

if TYPE_CHECKING:  # the command imports torch when it runs, not when the app starts
    from explorer.core.data import Dataset
    from explorer.sweep_runs import SweepJob, SweepOutcome


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
    dataset = load_data(args)
    configs = [configs_of(args, dataset, **{weight: v}) for v in values]  # all checked first
    names = checkpoint_names(weight, values)
    pick_device(configs[0][1].device)
    out = args.out or Path(f"sweep-{dataset.name}")
    if (out / MANIFEST).exists():
        raise ExplorerError(f"{out}: already holds a sweep; choose another --out")
    _sweep_folder(out, names)
    note_skipped(dataset)
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
    return NOT_SAVED if tally.not_saved else status


def sweep_one(
    job: SweepJob, dataset: Dataset, cancel: threading.Event | None = None
) -> SweepOutcome:
    """Train, save and score one value of a sweep (in this process, or a worker's)."""
    from explorer.core.sweep import SweepModel, disentanglement_columns
    from explorer.sweep_runs import SweepOutcome

    trained = train_and_save(
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

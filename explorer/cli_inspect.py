"""The headless commands that open a trained model rather than train one: `evaluate`
(its figures on data, as a table or one JSON line), `report` (one self-contained HTML file
of them) and `export` (a TorchScript file).

A model is a checkpoint of this app or one from elsewhere (TorchScript, or weights and a
factory: explorer/external_options.py); `_opened` checks it against the data before
anything is computed.
"""

from __future__ import annotations

import contextlib
import json
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from explorer.cli_settings import load_data
from explorer.core.errors import CheckpointError, ExplorerError
from explorer.external_options import external_source
from explorer.terminal import print_report, stdout_to_stderr

if TYPE_CHECKING:  # the commands import torch when they run, not when the app starts
    from explorer.core.checkpoint import Checkpoint
    from explorer.core.data import Dataset
    from explorer.core.metrics import Report
    from explorer.core.model import LatentModel


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
        dataset = load_data(args)
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
    dataset = load_data(args)
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
            ckpt.model,
            args.model.name,
            ckpt.train_config,
            ckpt.dataset,
            ckpt.created,
            ckpt.history,
            ckpt.world_size,
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

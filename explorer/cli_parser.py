"""The headless commands' parser: each command's options, their help and defaults.

The values are parsed and bounded by the types in `cli_options`; `cli` runs what was
asked for. A bad option is one line naming it, exit status 2.
"""

from __future__ import annotations

import argparse
import math
from pathlib import Path
from typing import NoReturn

from explorer import cli_options as opt
from explorer.external_options import add_external_options

DESCRIPTION = (
    "Headless front end: `python -m explorer train | sweep | evaluate | report | export`; no Qt."
)


class _Parser(argparse.ArgumentParser):
    """Reports a bad option as one line naming it (argparse's own prints the usage first)."""

    def error(self, message: str) -> NoReturn:
        self.exit(2, f"error: {message} (see {self.prog} --help)\n")


def _add_data_options(p: argparse.ArgumentParser, default: str | None) -> None:
    p.add_argument(
        "--dataset",
        default=default,
        help="built-in name (digits, sprites) or a path: IDX file, .npz/.npy, .parquet/.arrow "
        "table, datasets save_to_disk folder, image folder"
        + (f" (default: {default})" if default else " (default: the model's own)"),
    )
    p.add_argument("--count", type=opt.count, help="images to generate for a built-in dataset")
    p.add_argument(
        "--data-seed", type=opt.seed, default=0, help="seed of a built-in dataset (default 0)"
    )
    p.add_argument("--image-key", help=".npz: the array holding the images; a table: the column")
    p.add_argument("--label-key", help=".npz: the array holding the labels; a table: the column")


def _add_training_options(t: argparse.ArgumentParser) -> None:
    from explorer.core.config import (
        ARCHITECTURES,
        CORRUPTIONS,
        DEFAULT_FLOW_STEPS,
        KL_SCHEDULES,
    )
    from explorer.core.kind_table import DEFAULT_KIND, KIND_TABLE

    t.add_argument(
        "--kind",
        choices=tuple(KIND_TABLE),
        default=DEFAULT_KIND,
        help="; ".join(f"{k.name}: {k.about}" for k in KIND_TABLE.values())
        + f" (default {DEFAULT_KIND})",
    )
    t.add_argument(
        "--latent-dim", type=opt.latent_dim, default=2, help="size of z, 1..64 (default 2)"
    )
    t.add_argument(
        "--arch",
        choices=ARCHITECTURES,
        default="mlp",
        help="encoder/decoder: mlp, conv (strided convolutions), or broadcast (an MLP encoder "
        "and a spatial broadcast decoder, which lays position out along single dimensions) "
        "(default mlp)",
    )
    t.add_argument(
        "--flow-steps",
        type=opt.flow_steps,
        default=DEFAULT_FLOW_STEPS,
        help=f"flowvae: planar flow steps K of the posterior (default {DEFAULT_FLOW_STEPS})",
    )
    t.add_argument(
        "--hidden",
        type=opt.hidden_sizes,
        default=None,
        help="hidden sizes, e.g. 400 or 512,256 (default 400 for mlp and for broadcast's "
        "encoder, 256 for conv)",
    )
    t.add_argument("--likelihood", choices=["bernoulli", "gaussian"], default="bernoulli")
    t.add_argument("--epochs", type=opt.epochs, default=10)
    t.add_argument(
        "--lr",
        type=opt.float_in(0, 10, above_lo=True),
        default=1e-3,
        help="Adam learning rate (default 1e-3)",
    )
    t.add_argument("--batch-size", type=opt.batch_size, default=128)
    t.add_argument(
        "--warmup",
        type=opt.float_in(0, opt.MAX_EPOCHS),
        default=0.0,
        help="epochs over which β ramps up from 0",
    )
    weight = opt.float_in(0, math.inf)
    t.add_argument(
        "--beta",
        type=weight,
        help="weight of the KL term (default 1); betatcvae: of the total correlation (default 6)",
    )
    t.add_argument(
        "--alpha",
        type=weight,
        help="betatcvae: weight of the index-code MI (default 1); m2: of the classifier's "
        "cross-entropy, ×N/N_labelled on each labelled image (default 0.1, the paper's 0.1·N)",
    )
    t.add_argument(
        "--labelled",
        type=opt.float_in(0, 1, above_lo=True),
        default=0.1,
        help="m2: share of the training images told their label, the same share of each "
        "class, chosen by --seed (default 0.1)",
    )
    t.add_argument(
        "--gamma",
        type=weight,
        help="betatcvae: weight of the dimension-wise KL (default 1); factorvae: of the total "
        "correlation (default 10); annealedvae: of |KL − C| (default 1000)",
    )
    t.add_argument(
        "--c-max",
        type=weight,
        help="annealedvae and --kl-schedule capacity: the capacity C's final value in nats "
        "(default 25)",
    )
    t.add_argument(
        "--sparsity",
        type=weight,
        help="sparseae, sparseae-kl: weight λ of the code's sparsity penalty (default 1; "
        "sparseae-kl 10)",
    )
    t.add_argument(
        "--rho",
        type=opt.float_in(0, 1, above_lo=True),
        help="sparseae-kl: target mean activation ρ of each code unit, below 1 (default 0.05)",
    )
    t.add_argument(
        "--capacity-epochs",
        type=opt.float_in(0, opt.MAX_EPOCHS),
        default=0.0,
        help="epochs over which C grows from 0 to C_max (default 0: the whole run)",
    )
    t.add_argument(
        "--kl-schedule",
        choices=KL_SCHEDULES,
        default="warmup",
        help="how β moves where it is a setting: warmup (ramps from 0 over --warmup epochs, "
        "then constant), cyclical (ramps up --cycles times; Fu et al. 2019), capacity "
        "(β·|KL − C| with C growing to --c-max; Burgess et al. 2018); default warmup",
    )
    t.add_argument(
        "--cycles",
        type=opt.cycles,
        default=4,
        help="cyclical: how many times β ramps up from 0 (default 4)",
    )
    t.add_argument(
        "--cycle-ramp",
        type=opt.float_in(0, 1, above_lo=True),
        default=0.5,
        help="cyclical: share of each cycle spent ramping up (default 0.5)",
    )
    t.add_argument(
        "--samples",
        type=opt.importance_samples,
        default=5,
        help="iwae: importance samples k per image (default 5)",
    )
    t.add_argument(
        "--corrupt",
        choices=CORRUPTIONS,
        default="none",
        help="denoising / masked training: the encoder sees the image with a random block "
        "greyed out (mask) or pixels replaced by noise (noise); default none",
    )
    t.add_argument(
        "--corrupt-level",
        type=opt.float_in(0, 0.99, above_lo=True),
        default=0.25,
        help="share of the image masked, or of pixels noised (default 0.25)",
    )
    t.add_argument("--seed", type=opt.seed, default=0, help="0..2³²−1 (default 0)")
    t.add_argument(
        "--device",
        type=opt.device,
        default="auto",
        help="auto, cpu, cuda, cuda:N or mps (default auto)",
    )
    t.add_argument(
        "--threads",
        type=opt.threads,
        default=0,
        help=f"CPU threads for torch, up to {opt.MAX_THREADS} (default: torch's)",
    )
    t.add_argument(
        "--precision",
        choices=["auto", "bf16", "fp32"],
        default="auto",
        help="matmul precision: auto = bf16 mixed precision where the device has native "
        "bf16, else fp32 (weights and losses are always fp32)",
    )


def _add_model_to_score(p: argparse.ArgumentParser) -> None:
    """What `evaluate` and `report` share: the model, its data and the figures' options."""
    p.add_argument(
        "model", type=Path, help="a .safetensors checkpoint, a TorchScript .pt, or weights"
    )
    _add_data_options(p, None)
    add_external_options(p)
    _add_figure_options(p)


def _add_figure_options(p: argparse.ArgumentParser) -> None:
    """How `evaluate` and `report` compute the figures: the same options, the same
    defaults (`EvaluateConfig`), so the two give the same numbers."""
    from explorer.core.config import EvaluateConfig

    d = EvaluateConfig()
    p.add_argument(
        "--k",
        type=opt.importance_samples,
        default=d.iw_k,
        help=f"samples per image for the IW bound (default {d.iw_k})",
    )
    p.add_argument(
        "--max-images",
        type=opt.max_images,
        default=d.max_images,
        help=f"images evaluated (default {d.max_images})",
    )
    p.add_argument(
        "--prior-samples",
        type=opt.prior_samples,
        default=d.prior_samples,
        help=f"prior samples checked for being on the data (default {d.prior_samples}, 0 = skip)",
    )
    _add_metric_options(p)


def _add_metric_options(e: argparse.ArgumentParser) -> None:
    """The disentanglement metrics' protocol (data with factors): the common variants."""
    e.add_argument(
        "--exclude-factors",
        type=opt.names,
        default=(),
        metavar="NAMES",
        help="factors the disentanglement metrics leave out, e.g. shape (MIG as Chen et al. "
        "report it on dSprites); default: none",
    )
    e.add_argument(
        "--codes",
        choices=["means", "samples"],
        default="means",
        help="score posterior means (disentanglement_lib) or one sample of q(z|x) per image "
        "(Chen et al.'s code); default means",
    )
    e.add_argument(
        "--bins", type=opt.bins, default=20, help="MIG: histogram bins per dimension (default 20)"
    )
    e.add_argument(
        "--sap-factors",
        choices=["discrete", "continuous"],
        default="discrete",
        help="SAP: score each dimension by a classifier's accuracy (discrete, "
        "disentanglement_lib's setting) or by R² (continuous); default discrete",
    )


def build_parser() -> argparse.ArgumentParser:
    from explorer.core.kind_table import WEIGHT_SYMBOLS

    parser = _Parser(prog="python -m explorer", description=DESCRIPTION)
    sub = parser.add_subparsers(
        dest="command", metavar="{train,sweep,evaluate,report,export,app,follow}", required=True
    )

    t = sub.add_parser(
        "train",
        help="train a model (PCA, autoencoder, sparse autoencoder, β-VAE, CVAE, IWAE, "
        "planar-flow VAE, β-TCVAE, FactorVAE, AnnealedVAE); save a checkpoint",
    )
    _add_data_options(t, "digits")
    _add_training_options(t)
    t.add_argument(
        "--out", type=Path, help="checkpoint to write (default: <dataset>-z<d>-beta<β>.safetensors)"
    )
    t.add_argument(
        "--run-dir",
        type=Path,
        help="folder to write each epoch's checkpoint and figures into as it ends, for "
        "python -m explorer follow (on this machine, or another sharing the folder)",
    )

    w = sub.add_parser(
        "sweep",
        help="train one model per value of a weight (β, or the kind's α, γ, C_max); a table "
        "and a rate–distortion plot",
    )
    _add_data_options(w, "digits")
    swept = w.add_mutually_exclusive_group(required=True)
    swept.add_argument(
        "--betas", type=opt.betas, help="β values, comma-separated, e.g. 0,0.5,1,2,4,8"
    )
    swept.add_argument(
        "--values",
        type=opt.sweep_values("value"),
        help="values of --weight, comma-separated, e.g. --weight gamma --values 5,10,20",
    )
    w.add_argument(
        "--weight",
        choices=tuple(WEIGHT_SYMBOLS),
        default="beta",
        help="the weight --values sweeps, one the --kind has (default beta)",
    )
    _add_training_options(w)
    w.add_argument(
        "--out", type=Path, help="folder to create for the sweep (default: sweep-<dataset>)"
    )
    w.add_argument(
        "--parallel",
        type=opt.parallel,
        default=1,
        metavar="N",
        help="train N values at once, one process each: one per GPU where there are GPUs, "
        "else sharing the CPU cores (default 1: one after another)",
    )

    e = sub.add_parser(
        "evaluate",
        help="reconstruction, KL, ELBO, importance-weighted bound, active units, samples on "
        "the data, and on data with factors MIG, DCI, SAP and the FactorVAE score",
    )
    _add_model_to_score(e)
    e.add_argument("--json", action="store_true", help="print the figures as one JSON line")

    r = sub.add_parser(
        "report",
        help="one self-contained HTML page to share: the model, its figures (as evaluate), "
        "the latent space, manifold map, traversals, interpolation and loss curves",
    )
    _add_model_to_score(r)
    r.add_argument(
        "--out", type=Path, help="the .html file to write (default: <model>-report.html)"
    )

    x = sub.add_parser("export", help="write a checkpoint as a TorchScript module")
    x.add_argument("model", type=Path, help="a .safetensors checkpoint")
    x.add_argument(
        "--torchscript",
        type=Path,
        required=True,
        help="the .pt file to write: encode, decode, latent_dim and image_shape",
    )

    sub.add_parser("app", help="open the desktop app (the default)")
    f = sub.add_parser("follow", help="open the desktop app following a train --run-dir folder")
    f.add_argument("run_dir", type=Path, help="the folder given to train --run-dir")
    return parser

"""What a headless command's options stand for in the core: the data --dataset names
(`load_data`, with a note on files skipped in it) and the model and training settings
of `train` and `sweep` (`configs_of`), checked before anything trains.
"""

from __future__ import annotations

import sys


def load_data(args):
    """The dataset of --dataset (a built-in name or a path), with --count, --data-seed,
    --image-key and --label-key."""
    from explorer.core.data import load_dataset

    return load_dataset(
        args.dataset,
        count=args.count,
        seed=args.data_seed,
        image_key=args.image_key,
        label_key=args.label_key,
    )


def note_skipped(dataset) -> None:
    """Say on stderr how many files of `dataset`'s folder could not be read, if any."""
    skipped = dataset.extra.get("skipped")
    if skipped:
        print(
            f"note: skipped {len(skipped)} unreadable file(s) in {dataset.source}, "
            f"e.g. {skipped[0]}",
            file=sys.stderr,
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


def configs_of(args, dataset, **swept: float):
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

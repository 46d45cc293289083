"""Whether a model can train on a dataset with a config, checked before the first step:
`check_fit` (image shape, labels, PCA's limits, the KL schedule for the kind, the
processes of a torchrun) and `check_step_memory` (a step's activations against the
machine's memory), each raising ConfigError in words a user understands.

The training loop calls `check_fit` first; the window calls it too, before it starts a
training thread, so a run that cannot train is refused where it is asked for.
"""

from __future__ import annotations

from explorer.core import distributed, files
from explorer.core.config import ModelConfig, TrainConfig
from explorer.core.data import Dataset
from explorer.core.errors import ConfigError
from explorer.core.kind_table import KIND_TABLE, kinds_where
from explorer.core.kinds import activations_per_image
from explorer.core.metrics import dataset_labels
from explorer.core.model import LatentModel
from explorer.core.pca import PCAModel
from explorer.core.train_split import train_count


def check_fit(model: LatentModel, dataset: Dataset, config: TrainConfig) -> None:
    """Raise ConfigError, in words a user understands, when `model` cannot train on
    `dataset` with `config` (wrong image shape, no labels for a cvae, PCA corrupted)."""
    if tuple(model.config.image_shape) != dataset.image_shape:
        raise ConfigError(
            f"the model expects images of shape {tuple(model.config.image_shape)} "
            f"(channels, height, width) but {dataset.name} has {dataset.image_shape}"
        )
    if isinstance(model, PCAModel) and config.corruption != "none":
        raise ConfigError(
            f"PCA is fitted in closed form; {config.corruption} corruption applies to the "
            f"trained kinds ({kinds_where(lambda k: k.trained)})"
        )
    fitted_on = train_count(len(dataset), config.val_fraction)
    if isinstance(model, PCAModel) and model.config.latent_dim > fitted_on:
        raise ConfigError(
            f"latent size {model.config.latent_dim} is more than the {fitted_on} images PCA "
            f"is fitted to (of {dataset.name}): it finds at most that many directions"
        )
    dataset_labels(model, dataset)
    distributed.check_supported(model.kind)
    if config.kl_schedule == "capacity" and KIND_TABLE[model.kind].tc_split:
        raise ConfigError(
            f"the capacity schedule holds a single KL term at C; a {KIND_TABLE[model.kind].noun} "
            f"weighs its KL's parts apart (capacity applies to "
            f"{kinds_where(lambda k: k.scheduled and not k.tc_split)}; the AnnealedVAE has it)"
        )
    if isinstance(model.config, ModelConfig) and KIND_TABLE[model.kind].trained:
        check_step_memory(model.config, config, fitted_on)


# Bytes a training step holds per value a layer outputs: the fp32 activation kept for
# the backward pass (gradients are freed as the backward pass goes; a step's measured
# peak is within 10% of this for the mlp, the conv and the broadcast network, whose
# pixel layer counts its backward pass's copies: kinds.activations_per_image).
_STEP_BYTES_PER_VALUE = 4
# A step may take twice what a dataset may (files.memory_budget(): a quarter of memory):
# half of the machine's memory, with the data and the model beside it.
_STEP_BUDGETS = 2


def check_step_memory(model: ModelConfig, config: TrainConfig, train_images: int) -> None:
    """Raise ConfigError naming the batch size when one training step of `model` on
    batches of `config.batch_size` (at most `train_images`) would need more than half
    of the machine's memory. Each setting is bounded on its own; together (a large
    batch of large images through a conv network) they can ask for far more memory
    than the machine has, and the step would be killed or swap instead of failing."""
    # an importance-weighted kind decodes k samples per image; M2 an unlabelled one as
    # every class
    kind = KIND_TABLE[model.kind]
    samples = (
        config.samples if kind.importance_weighted else model.classes if kind.semi_supervised else 1
    )
    per_image = activations_per_image(model) * samples
    batch = min(config.batch_size, max(1, train_images))
    need, budget = per_image * batch * _STEP_BYTES_PER_VALUE, _STEP_BUDGETS * files.memory_budget()
    if need > budget:
        fits = budget // (per_image * _STEP_BYTES_PER_VALUE)
        c, h, w = model.image_shape
        advice = f"use a batch size of at most {fits:,}" if fits else "use smaller images"
        raise ConfigError(
            f"batch size {batch:,}: one training step of a {model.kind} ({model.architecture}) "
            f"on {c}×{h}×{w} images needs about {need / 2**30:.1f} GiB, more than the "
            f"{budget / 2**30:.1f} GiB this machine can spare for it; {advice}"
        )

"""Building a model of a kind: its config from a user's settings, then its weights.

The kinds (their table, with what applies to each: core/kind_table.py) run in the
order of the argument for the VAE. PCA finds the best linear subspace; the
autoencoder is its non-linear version, with a latent space nothing keeps regular; the
VAE encodes each image as a distribution and its KL term keeps the space continuous
(β weights that term: the β-VAE); the conditional VAE is told the class, so its code
holds only the style; the IWAE is a VAE trained on a tighter bound on log p(x); the
β-TCVAE, FactorVAE and AnnealedVAE are VAEs whose objectives ask for a disentangled code
(independent dimensions, or one opened a little at a time). The sparse autoencoders add
a penalty that leaves few code units on for each image; the planar-flow VAE's posterior
bends the Gaussian's samples through a few invertible maps. M2 is the conditional VAE
told the class of a share of the images only, its classifier guessing the rest.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch

from explorer.core import checks
from explorer.core.config import DEFAULT_FLOW_STEPS, MAX_PARAMETERS, ModelConfig, TrainConfig
from explorer.core.data.dataset import Dataset
from explorer.core.errors import ConfigError
from explorer.core.kind_table import DEFAULT_KIND, KIND_NAMES, KIND_TABLE, WEIGHT_SYMBOLS
from explorer.core.model import VAE, LatentModel
from explorer.core.pca import PCAModel
from explorer.core.semi_supervised import M2

# Hidden layer widths when none are given: the MLP's one layer (the broadcast network's
# encoder's), the conv net's dense layer
DEFAULT_HIDDEN = {"mlp": (400,), "conv": (256,), "broadcast": (400,)}


@dataclass(frozen=True)
class ModelSettings:
    """What a user chooses of a model (the CLI's options, the panel's widgets); the data
    adds the rest (`model_config`)."""

    kind: str = DEFAULT_KIND
    latent_dim: int = 2
    architecture: str = "mlp"
    hidden: tuple[int, ...] | None = None  # None: the architecture's DEFAULT_HIDDEN
    likelihood: str = "bernoulli"
    flow_steps: int = DEFAULT_FLOW_STEPS  # planar steps K, for a kind with a flow posterior


def model_config(settings: ModelSettings, dataset: Dataset, option: str = "") -> ModelConfig:
    """The validated model `settings` make for the images of `dataset`; a kind that needs
    labels is conditioned on the data's classes. `option`, when given ("--kind"), is
    named in the message refusing a kind the data cannot train, and the messages name
    the command line's options (else the settings by their names in the window).

    Raises ConfigError when a setting is out of range, the model would be too large for
    the data's images, or the data lacks the labels the kind needs; the message names
    the data and the settings.
    """
    kind = KIND_TABLE[checks.choice(settings.kind, "kind", KIND_NAMES)]
    if kind.needs_labels and dataset.labels is None:
        named = f" ({option} {kind.name})" if option else ""
        raise ConfigError(
            f"{dataset.source or dataset.name}: a {kind.noun}{named} needs the class of every "
            "image, and this data has no labels; choose another kind, or data with labels"
        )
    config = ModelConfig(
        kind=settings.kind,
        classes=dataset.num_classes if kind.needs_labels else 0,
        image_shape=dataset.image_shape,
        latent_dim=settings.latent_dim,
        architecture=settings.architecture,
        hidden=settings.hidden or DEFAULT_HIDDEN.get(settings.architecture, ()),
        likelihood=settings.likelihood,
        flow_steps=settings.flow_steps if kind.flow else 0,
    )
    try:
        state_shapes(config)  # validated, and the whole model's size, before it is built
    except ConfigError as e:  # the data's image size and the settings decide it together
        c, h, w = dataset.image_shape
        hidden = ",".join(map(str, config.hidden)) if isinstance(config.hidden, tuple) else "?"
        chosen = (
            f"{option} {config.kind} --arch {config.architecture} --hidden {hidden}"
            if option
            else f"kind {config.kind}, network {config.architecture}, hidden {hidden}"
        )
        raise ConfigError(
            f"{dataset.source or dataset.name} ({c}×{h}×{w} images) with {chosen}: {e}"
        ) from e
    return config


def _construct(config: ModelConfig) -> LatentModel:
    kind = KIND_TABLE[config.kind]
    if kind.fitted:
        return PCAModel(config)
    return M2(config) if kind.semi_supervised else VAE(config)


def state_shapes(config: ModelConfig) -> dict[str, tuple[int, ...]]:
    """The shape of every weight and buffer a model of `config` has, found without
    allocating any (the model is laid out on torch's "meta" device); raises ConfigError
    when they add up to more than MAX_PARAMETERS values."""
    config.validate()
    with torch.device("meta"):
        layout = _construct(config)
    shapes = {k: tuple(v.shape) for k, v in layout.state_dict().items()}
    total = sum(math.prod(s) for s in shapes.values())
    if total > MAX_PARAMETERS:
        c, h, w = config.image_shape
        raise ConfigError(
            f"a {config.kind} ({config.architecture}, hidden {', '.join(map(str, config.hidden))}) "
            f"for {c}×{h}×{w} images would have {total:,} weights ({total * 4 / 2**30:.1f} GiB), "
            f"more than the limit of {MAX_PARAMETERS:,}: use smaller images, fewer hidden "
            "units or the conv network"
        )
    return shapes


def activations_per_image(config: ModelConfig) -> int:
    """Values every layer of a model of `config` outputs for one image in one forward
    pass, found without allocating any (a pass over torch's "meta" device): what a
    training step keeps per image of its batch for the backward pass. A layer whose
    backward pass holds several tensors of its output's size at once says how many in
    `step_copies` (layers._PixelInputs)."""
    config.validate()
    total = 0

    def count(module: torch.nn.Module, inputs: object, output: object) -> None:
        nonlocal total
        if isinstance(output, torch.Tensor):
            total += output.numel() * getattr(module, "step_copies", 1)

    with torch.device("meta"):
        layout = _construct(config)
        for module in layout.modules():  # the layers themselves, not their containers
            if not list(module.children()):
                module.register_forward_hook(count)
        y = torch.zeros(1, dtype=torch.long) if KIND_TABLE[config.kind].needs_labels else None
        layout(torch.zeros(1, *config.image_shape), y)
    return total


def build_model(config: ModelConfig, seed: int = 0) -> LatentModel:
    """A freshly initialised model of `config.kind`; the same seed gives the same weights.

    Its size is checked (`state_shapes`) before anything is allocated."""
    state_shapes(config)
    with torch.random.fork_rng(devices=[]):  # the seed decides a network's initial weights
        torch.manual_seed(seed)
        return _construct(config)


def describe(model: ModelConfig, train: TrainConfig | None) -> str:
    """The kind and what shapes it, in a few words: "vae, latent size 2, β = 4, mlp";
    "factorvae, latent size 10, γ = 10, conv"."""
    kind = KIND_TABLE[model.kind]
    parts = [model.kind, f"latent size {model.latent_dim}"]
    if train is not None:  # the weights of its objective: β = 4, or α = 1, β = 6, γ = 1
        parts += [f"{WEIGHT_SYMBOLS[w]} = {getattr(train, w):g}" for w in kind.weights]
    if train is not None and kind.importance_weighted:
        parts.append(f"k = {train.samples}")
    if kind.needs_labels:
        parts.append(f"{model.classes} classes")
    if kind.flow:
        parts.append(f"{model.flow_steps} planar steps")
    if train is not None and kind.semi_supervised:
        parts.append(f"{100 * train.labelled:.3g}% labelled")
    if train is not None and train.corruption != "none":
        parts.append(f"{train.corruption} {train.corruption_level:g}")
    if kind.trained:
        parts.append(model.architecture)
    return ", ".join(parts)

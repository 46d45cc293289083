"""The model kinds, in the order the argument for the VAE runs, and building one.

PCA finds the best linear subspace; the autoencoder is its non-linear version, with a
latent space nothing keeps regular; the VAE encodes each image as a distribution and
its KL term keeps the space continuous (β weights that term: the β-VAE); the
conditional VAE is told the class, so its code holds only the style; the IWAE is a
VAE trained on a tighter bound on log p(x).
"""

from __future__ import annotations

import math

import torch

from explorer.core.config import KINDS, MAX_PARAMETERS, ModelConfig, TrainConfig
from explorer.core.errors import ConfigError
from explorer.core.model import VAE, LatentModel
from explorer.core.pca import PCAModel

# kind -> (short name, one sentence for tooltips and --help)
KIND_INFO: dict[str, tuple[str, str]] = {
    "pca": ("PCA", "principal components: the best linear code, fitted in closed form"),
    "ae": ("Autoencoder", "deterministic codes, no KL: nothing keeps the gaps regular"),
    "vae": ("VAE / β-VAE", "a distribution per image; β weights the KL term (1 = the VAE)"),
    "cvae": ("Conditional VAE", "told the class, so the code holds only the style"),
    "iwae": ("IWAE", "a VAE trained on the importance-weighted bound with k samples"),
}
assert tuple(KIND_INFO) == KINDS

# What applies to which kind (the panel greys out the rest; the CLI says so).
USES_BETA = ("vae", "cvae")
USES_SAMPLES = ("iwae",)
TRAINED = ("ae", "vae", "cvae", "iwae")  # by gradient steps (PCA is fitted once)


def _construct(config: ModelConfig) -> LatentModel:
    return PCAModel(config) if config.kind == "pca" else VAE(config)


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


def build_model(config: ModelConfig, seed: int = 0) -> LatentModel:
    """A freshly initialised model of `config.kind`; the same seed gives the same weights.

    Its size is checked (`state_shapes`) before anything is allocated."""
    state_shapes(config)
    if config.kind == "pca":
        return PCAModel(config)
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        return VAE(config)


def describe(model: ModelConfig, train: TrainConfig | None) -> str:
    """The kind and what shapes it, in a few words: "vae, latent size 2, β = 4, mlp"."""
    parts = [model.kind, f"latent size {model.latent_dim}"]
    if train is not None and model.kind in USES_BETA:
        parts.append(f"β = {train.beta:g}")
    if train is not None and model.kind in USES_SAMPLES:
        parts.append(f"k = {train.samples}")
    if model.kind == "cvae":
        parts.append(f"{model.classes} classes")
    if train is not None and train.corruption != "none":
        parts.append(f"{train.corruption} {train.corruption_level:g}")
    if model.kind != "pca":
        parts.append(model.architecture)
    return ", ".join(parts)

"""Configuration dataclasses: what a model is and how it is trained.

Both are plain, JSON-serialisable data: they travel inside checkpoints, across the
worker thread and on the command line. `validate()` turns a bad setting into a
ConfigError that names the setting.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, fields
from typing import Any

from explorer.core.errors import ConfigError

# Model kinds (core/kinds.py says what each is): PCA, a plain autoencoder, the VAE (and
# β-VAE), the conditional VAE and the importance-weighted autoencoder.
KINDS = ("pca", "ae", "vae", "cvae", "iwae")
ARCHITECTURES = ("mlp", "conv")
LIKELIHOODS = ("bernoulli", "gaussian")
MAX_LATENT_DIM = 64
MAX_CVAE_CLASSES = 1000  # a conditional VAE's one-hot input; more is not a class label


@dataclass(frozen=True)
class ModelConfig:
    """The shape of a model; enough to rebuild it from its weights."""

    kind: str = "vae"  # one of KINDS; files from before kinds existed hold VAEs
    image_shape: tuple[int, int, int] = (1, 28, 28)  # (channels, height, width) of the images
    latent_dim: int = 2  # size of z, 1..64
    architecture: str = "mlp"  # "mlp" (fully connected) or "conv" (strided convolutions)
    hidden: tuple[int, ...] = (400,)  # MLP: hidden layer widths; conv: width of the dense layer
    likelihood: str = "bernoulli"  # p(x|z): "bernoulli" (BCE) or "gaussian" (fixed σ)
    gaussian_sigma: float = 0.1  # σ of the Gaussian likelihood, in pixel units of [0, 1]
    classes: int = 0  # cvae: how many classes it is conditioned on (0 for other kinds)

    def validate(self) -> ModelConfig:
        if self.kind not in KINDS:
            raise ConfigError(f"kind must be one of {', '.join(KINDS)}, got {self.kind!r}")
        if self.kind == "cvae" and not 2 <= self.classes <= MAX_CVAE_CLASSES:
            raise ConfigError(
                f"a conditional VAE needs 2 to {MAX_CVAE_CLASSES} classes, got {self.classes}"
            )
        if self.kind != "cvae" and self.classes != 0:
            raise ConfigError(f"only a cvae is conditioned on classes; a {self.kind} has none")
        if not 1 <= self.latent_dim <= MAX_LATENT_DIM:
            raise ConfigError(
                f"latent size must be between 1 and {MAX_LATENT_DIM}, got {self.latent_dim}"
            )
        if self.architecture not in ARCHITECTURES:
            raise ConfigError(
                f"architecture must be one of {', '.join(ARCHITECTURES)}, got {self.architecture!r}"
            )
        if self.likelihood not in LIKELIHOODS:
            raise ConfigError(
                f"likelihood must be one of {', '.join(LIKELIHOODS)}, got {self.likelihood!r}"
            )
        if len(self.image_shape) != 3 or min(self.image_shape) < 1:
            raise ConfigError(
                f"image shape must be (channels, height, width), got {self.image_shape}"
            )
        if not self.hidden or min(self.hidden) < 1:
            raise ConfigError(f"hidden sizes must be positive integers, got {self.hidden}")
        if not (self.gaussian_sigma > 0 and math.isfinite(self.gaussian_sigma)):
            raise ConfigError(f"Gaussian σ must be positive, got {self.gaussian_sigma}")
        return self

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> ModelConfig:
        known = {f.name for f in fields(cls)}
        unknown = set(data) - known
        if unknown:
            raise ConfigError(f"unknown model settings: {', '.join(sorted(unknown))}")
        data = dict(data)
        for key in ("image_shape", "hidden"):
            if key in data:
                data[key] = tuple(int(v) for v in data[key])
        return cls(**data).validate()


PRECISIONS = ("auto", "bf16", "fp32")
CORRUPTIONS = ("none", "mask", "noise")


@dataclass(frozen=True)
class TrainConfig:
    """How to train: the objective's β and the optimiser's settings."""

    beta: float = 1.0  # weight of the KL term; 0 = plain autoencoder objective, 1 = VAE
    epochs: int = 10  # passes over the training split
    batch_size: int = 128  # images per optimiser step
    lr: float = 1e-3  # Adam learning rate
    seed: int = 0  # seeds weights, shuffling, sampling and the validation split
    device: str = "auto"  # "auto" (CUDA, then MPS, then CPU), "cpu", "cuda", "cuda:1", "mps"
    val_fraction: float = 0.1  # share of the data held out for the validation ELBO
    warmup_epochs: float = 0.0  # ramp β linearly from 0 over this many epochs (0 = off)
    threads: int = 0  # CPU threads for torch; 0 = leave torch's default
    # Matmul precision: "auto" (bf16 mixed precision where the device computes bf16
    # natively, else fp32), "bf16" or "fp32". Weights, optimiser state, losses and all
    # reported metrics stay fp32 either way.
    precision: str = "auto"
    samples: int = 5  # iwae: importance samples k per image in the objective
    # Denoising / masked training: the encoder sees a corrupted image and the loss asks
    # for the clean one. "none", "mask" (one random block greyed out) or "noise" (a
    # random share of pixels replaced by uniform noise); half of each batch stays whole.
    corruption: str = "none"
    corruption_level: float = (
        0.25  # mask: share of the image the block covers; noise: share of pixels
    )

    def validate(self) -> TrainConfig:
        if not (self.beta >= 0 and math.isfinite(self.beta)):
            raise ConfigError(f"β must be a finite number ≥ 0, got {self.beta}")
        if self.epochs < 1:
            raise ConfigError(f"epochs must be at least 1, got {self.epochs}")
        if self.batch_size < 1:
            raise ConfigError(f"batch size must be at least 1, got {self.batch_size}")
        if not (self.lr > 0 and math.isfinite(self.lr)):
            raise ConfigError(f"learning rate must be a positive number, got {self.lr}")
        if not 0 <= self.val_fraction < 1:
            raise ConfigError(f"validation fraction must be in [0, 1), got {self.val_fraction}")
        if not (self.warmup_epochs >= 0 and math.isfinite(self.warmup_epochs)):
            raise ConfigError(f"warm-up epochs must be ≥ 0, got {self.warmup_epochs}")
        if self.threads < 0:
            raise ConfigError(f"threads must be ≥ 0, got {self.threads}")
        if self.precision not in PRECISIONS:
            raise ConfigError(
                f"precision must be one of {', '.join(PRECISIONS)}, got {self.precision!r}"
            )
        if not 1 <= self.samples <= 1000:
            raise ConfigError(
                f"importance samples k must be between 1 and 1000, got {self.samples}"
            )
        if self.corruption not in CORRUPTIONS:
            raise ConfigError(
                f"corruption must be one of {', '.join(CORRUPTIONS)}, got {self.corruption!r}"
            )
        if not 0 < self.corruption_level < 1:
            raise ConfigError(
                f"corruption level must be between 0 and 1 (a share), got {self.corruption_level}"
            )
        return self

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> TrainConfig:
        known = {f.name for f in fields(cls)}
        # Older or newer files may carry extra keys; a training config is informative
        # once training is over, so unknown keys are dropped rather than refused.
        return cls(**{k: v for k, v in data.items() if k in known})


# How to read a model trained elsewhere (core/external.py); "auto" = chosen by the probe.
INPUT_LAYOUTS = ("auto", "image", "flat")
ENCODER_OUTPUTS = ("auto", "pair", "split", "distribution")
DECODER_OUTPUTS = ("auto", "probabilities", "logits", "distribution")


@dataclass(frozen=True)
class Adapters:
    """How a user's encode/decode are called and read."""

    # encode's input: "image" = x as (B, C, H, W); "flat" = x as (B, C·H·W)
    input: str = "auto"
    # encode's output: "pair" = (mu, logvar, ...) with any extra items ignored; "split" =
    # one (B, 2d) tensor whose halves are mu and logvar; "distribution" = a
    # torch.distributions Normal (or Independent Normal), read by its mean and stddev
    encoder: str = "auto"
    # decode's output (flattened or not): "probabilities" = pixel means in [0, 1];
    # "logits" = the sigmoid is applied; "distribution" = its mean (a Bernoulli's probs)
    decoder: str = "auto"

    def validate(self) -> Adapters:
        for name, allowed in (
            ("input", INPUT_LAYOUTS),
            ("encoder", ENCODER_OUTPUTS),
            ("decoder", DECODER_OUTPUTS),
        ):
            if getattr(self, name) not in allowed:
                raise ConfigError(
                    f"adapter {name} must be one of {', '.join(allowed)}, "
                    f"got {getattr(self, name)!r}"
                )
        return self

    @classmethod
    def parse(cls, text: str) -> Adapters:
        """From "encoder=split,decoder=logits" (the CLI's --adapt); unnamed parts stay auto."""
        values: dict[str, str] = {}
        known = {f.name for f in fields(cls)}
        for part in filter(None, (p.strip() for p in text.split(","))):
            key, sep, value = part.partition("=")
            if not sep or key.strip() not in known:
                raise ConfigError(
                    f"adapters are given as {'=…,'.join(sorted(known))}=…, got {part!r}"
                )
            values[key.strip()] = value.strip()
        return cls(**values).validate()

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class ExternalConfig:
    """The shape of a model trained elsewhere, as found by probing it."""

    image_shape: tuple[int, int, int]  # (channels, height, width) its encoder takes
    latent_dim: int  # size of z its encoder returns
    architecture: str  # what it is, for people: "TorchScript", "mymodels:build_model"
    adapters: Adapters  # how its encode/decode are read (none left "auto")
    kind: str = "vae"  # read as a VAE: its encoder gives a Gaussian posterior
    # The metrics treat its decodes as Bernoulli means of pixels in [0, 1] (what
    # reconstruction_nll reads); its own training objective is not known.
    likelihood: str = "bernoulli"
    gaussian_sigma: float = 0.1  # unused with "bernoulli"; here for reconstruction_nll

"""Configuration dataclasses: what a model is and how it is trained.

Both are plain, JSON-serialisable data: they travel inside checkpoints, across the
worker thread and on the command line. `validate()` turns a bad setting into a
ConfigError that names the setting.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, fields
from typing import Any

from explorer.core import checks
from explorer.core.errors import ConfigError, listed
from explorer.core.kind_table import DEFAULT_KIND, KIND_NAMES, KIND_TABLE, kinds_where

KINDS = KIND_NAMES  # the model kinds (core/kind_table.py: what each is, what applies to it)
ARCHITECTURES = ("mlp", "conv", "broadcast")
LIKELIHOODS = ("bernoulli", "gaussian")
MAX_LATENT_DIM = 64
MAX_FLOW_STEPS = 64  # flowvae: its encoder outputs K·(2d + 1) numbers for K steps
DEFAULT_FLOW_STEPS = 4  # flowvae: K when none is given
MAX_CVAE_CLASSES = 1000  # a conditional VAE's one-hot input; more is not a class label
# Bounds on what a model may be built for, whoever asks (a checkpoint's metadata, an
# image folder of huge pictures, the command line): a file must never decide to
# allocate gigabytes. Sized far above the built-in data (64×64) and MNIST-like sets.
MAX_IMAGE_SIDE = 1024  # pixels of a model's image height and width
MAX_CHANNELS = 4  # grey, grey + alpha, RGB, RGBA
MAX_HIDDEN_WIDTH = 16_384
MAX_HIDDEN_LAYERS = 8
# Weights and buffers of one model: 100 M floats are 400 MB, about 1.6 GB while training
# (gradients and Adam's two moments); core/kinds.py counts them before building.
MAX_PARAMETERS = 100_000_000


@dataclass(frozen=True)
class ModelConfig:
    """The shape of a model; enough to rebuild it from its weights."""

    kind: str = DEFAULT_KIND  # one of KINDS
    image_shape: tuple[int, int, int] = (1, 28, 28)  # (channels, height, width) of the images
    latent_dim: int = 2  # size of z, 1..64
    # "mlp" (fully connected), "conv" (strided convolutions) or "broadcast" (the mlp's
    # encoder, a spatial broadcast decoder: layers.BroadcastDecoder)
    architecture: str = "mlp"
    # mlp: the encoder's widths (the decoder's reversed); broadcast: the encoder's; conv:
    # the dense layer's
    hidden: tuple[int, ...] = (400,)
    likelihood: str = "bernoulli"  # p(x|z): "bernoulli" (BCE) or "gaussian" (fixed σ)
    gaussian_sigma: float = 0.1  # σ of the Gaussian likelihood, in pixel units of [0, 1]
    classes: int = 0  # cvae: how many classes it is conditioned on (0 for other kinds)
    flow_steps: int = 0  # flowvae: planar flow steps K of its posterior (0 for other kinds)

    def validate(self) -> ModelConfig:
        """Check every field's type and range (a config may come from a file)."""
        checks.choice(self.kind, "kind", KINDS)
        checks.whole(self.classes, "classes", 0, MAX_CVAE_CLASSES)
        kind = KIND_TABLE[self.kind]
        if kind.needs_labels and self.classes < 2:
            raise ConfigError(
                f"a {kind.noun} needs 2 to {MAX_CVAE_CLASSES} classes, got {self.classes}"
            )
        if not kind.needs_labels and self.classes != 0:
            labelled = kinds_where(lambda k: k.needs_labels)
            raise ConfigError(
                f"only a {labelled} is conditioned on classes; a {self.kind} has none"
            )
        checks.whole(self.latent_dim, "latent size", 1, MAX_LATENT_DIM)
        checks.whole(self.flow_steps, "flow steps", 0, MAX_FLOW_STEPS)
        if kind.flow != (self.flow_steps > 0):
            raise ConfigError(
                f"a {kind.noun} has {f'1 to {MAX_FLOW_STEPS}' if kind.flow else 'no'} flow "
                f"steps, got {self.flow_steps}"
            )
        checks.choice(self.architecture, "architecture", ARCHITECTURES)
        checks.choice(self.likelihood, "likelihood", LIKELIHOODS)
        shape = checks.items(self.image_shape, "image shape (channels, height, width)", 3)
        if len(shape) != 3:
            raise ConfigError(
                f"image shape must be (channels, height, width), got {self.image_shape}"
            )
        c, h, w = (checks.whole(v, "image shape", 1, 2**31) for v in shape)
        if c > MAX_CHANNELS:
            raise ConfigError(f"images have {c} channels; a model takes 1 to {MAX_CHANNELS}")
        if max(h, w) > MAX_IMAGE_SIDE:
            raise ConfigError(
                f"images of {w:,}×{h:,} pixels are larger than the {MAX_IMAGE_SIDE}×"
                f"{MAX_IMAGE_SIDE} a model can be built for; resize them first"
            )
        hidden = checks.items(self.hidden, "hidden sizes", MAX_HIDDEN_LAYERS)
        if not hidden:
            raise ConfigError("hidden sizes: at least one layer width is needed")
        for width in hidden:
            checks.whole(width, "a hidden layer's width", 1, MAX_HIDDEN_WIDTH)
        sigma = checks.number(self.gaussian_sigma, "Gaussian σ")
        if not (sigma > 0 and math.isfinite(sigma)):
            raise ConfigError(f"Gaussian σ must be positive, got {sigma}")
        pixels = math.prod(shape)
        if kind.fitted and self.latent_dim > pixels:
            raise ConfigError(
                f"latent size {self.latent_dim} is more than the {pixels} pixel values of a "
                f"{'×'.join(map(str, shape))} image: PCA finds at most that many directions"
            )
        return self

    def to_dict(self) -> dict[str, Any]:
        out = asdict(self)
        if not self.flow_steps:  # so a model with no flow opens in versions before flows
            del out["flow_steps"]
        return out

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> ModelConfig:
        known = {f.name for f in fields(cls)}
        unknown = set(data) - known
        if unknown:
            raise ConfigError(f"unknown model settings: {listed(unknown)}")
        data = dict(data)
        for key in ("image_shape", "hidden"):
            if isinstance(data.get(key), list):  # JSON has no tuples; anything else is refused
                data[key] = tuple(data[key])
        return cls(**data).validate()


PRECISIONS = ("auto", "bf16", "fp32")
MAX_EPOCHS = 1_000_000
MAX_BATCH_SIZE = 1_000_000
MAX_SEED = 2**32 - 1  # NumPy's seeds are 32-bit
MAX_THREADS = 1024  # torch's OpenMP runtime aborts the process on absurd counts
MAX_SAMPLES = 1000  # iwae: importance samples per image
CORRUPTIONS = ("none", "mask", "noise")
# How the KL term's weight moves during a run (core/schedules.py): "warmup" ramps it
# from 0 over `warmup_epochs` (0: constant), "cyclical" ramps it up `cycles` times,
# "capacity" holds the KL at a capacity C that grows to `c_max`.
KL_SCHEDULES = ("warmup", "cyclical", "capacity")
MAX_CYCLES = 1000


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
    # The weights of the disentangling objectives (core/kind_table.py says whose is whose)
    alpha: float = 1.0  # β-TCVAE: weight of the index-code mutual information
    gamma: float = 1.0  # β-TCVAE: dimension-wise KL; FactorVAE: TC; AnnealedVAE: |KL − C|
    c_max: float = 25.0  # capacity (AnnealedVAE, capacity schedule): C's final value, nats
    capacity_epochs: float = 0.0  # epochs over which C grows from 0 to c_max (0 = the run)
    kl_schedule: str = "warmup"  # one of KL_SCHEDULES; where β is a setting of the kind
    cycles: int = 4  # cyclical: how many times the KL weight ramps up (M of Fu et al.)
    cycle_ramp: float = 0.5  # cyclical: share of each cycle spent ramping up (R)
    sparsity: float = 1.0  # sparse autoencoders: weight λ of the code's sparsity penalty
    rho: float = 0.05  # sparseae-kl: target mean activation ρ of each sigmoid code unit
    # m2: share of the training images whose label it is told, the same share of each
    # class, chosen by `seed` (core/train_split.py: labelled_images says which)
    labelled: float = 0.1

    def validate(self) -> TrainConfig:
        """Check every field's type and range (a config may come from a file)."""
        checks.finite(self.beta, "β", 0)
        checks.whole(self.epochs, "epochs", 1, MAX_EPOCHS)
        checks.whole(self.batch_size, "batch size", 1, MAX_BATCH_SIZE)
        lr = checks.number(self.lr, "learning rate")
        if not (lr > 0 and math.isfinite(lr)):
            raise ConfigError(f"learning rate must be a positive number, got {lr}")
        checks.whole(self.seed, "seed", 0, MAX_SEED)
        checks.text(self.device, "device", 64)
        if not 0 <= checks.number(self.val_fraction, "validation fraction") < 1:
            raise ConfigError(f"validation fraction must be in [0, 1), got {self.val_fraction}")
        checks.finite(self.warmup_epochs, "warm-up epochs", 0)
        checks.whole(self.threads, "threads", 0, MAX_THREADS)
        checks.choice(self.precision, "precision", PRECISIONS)
        checks.whole(self.samples, "importance samples k", 1, MAX_SAMPLES)
        checks.choice(self.corruption, "corruption", CORRUPTIONS)
        if not 0 < checks.number(self.corruption_level, "corruption level") < 1:
            raise ConfigError(
                f"corruption level must be between 0 and 1 (a share), got {self.corruption_level}"
            )
        checks.finite(self.alpha, "α", 0)
        checks.finite(self.gamma, "γ", 0)
        checks.finite(self.c_max, "C_max", 0)
        checks.finite(self.capacity_epochs, "capacity epochs", 0)
        checks.choice(self.kl_schedule, "KL schedule", KL_SCHEDULES)
        checks.finite(self.sparsity, "λ (sparsity)", 0)
        if not 0 < checks.number(self.rho, "ρ (target activation)") < 1:
            raise ConfigError(f"ρ (target activation) must be between 0 and 1, got {self.rho}")
        checks.whole(self.cycles, "cycles", 1, MAX_CYCLES)
        if not 0 < checks.number(self.cycle_ramp, "cycle ramp") <= 1:
            raise ConfigError(
                f"cycle ramp must be above 0 and at most 1 (a share), got {self.cycle_ramp}"
            )
        if not 0 < checks.number(self.labelled, "labelled fraction") <= 1:
            raise ConfigError(
                f"labelled fraction must be above 0 and at most 1 (a share), got {self.labelled}"
            )
        return self

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> TrainConfig:
        known = {f.name for f in fields(cls)}
        # Older or newer files may carry extra keys; a training config is informative
        # once training is over, so unknown keys are dropped rather than refused.
        return cls(**{k: v for k, v in data.items() if k in known}).validate()


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


@dataclass(frozen=True)
class EvaluateConfig:
    """How a model's figures are computed: `evaluate`'s options and defaults, which
    `report` and the window's report share, so all three give the same numbers."""

    iw_k: int = 50  # samples per image for the importance-weighted bound
    max_images: int = 2000  # images evaluated (a seeded subset of larger data)
    prior_samples: int = 1000  # prior samples checked for being on the data (0 = skip)

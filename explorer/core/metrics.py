"""What a trained model has learned, in numbers.

- `evaluate`: the ELBO split into reconstruction and KL (per dimension), per image in
  nats, and the squared error of the reconstruction from the posterior mean, which
  every kind has. For a deterministic model (PCA, the autoencoder) the KL and so the
  ELBO are not defined: they are NaN, and `kl_per_dim` is empty. A flow posterior's KL
  is a one-sample estimate, and its per-dimension figures are those of its linearised
  Gaussian summary (core/flows.py), which need not add up to it.
- `active_units`: a dimension is active when the variance over the data of its
  posterior mean exceeds 0.01 (Burda et al., 2016).
- `iw_bound`: the importance-weighted bound on log p(x) with k samples (Burda et al.);
  k = 1 is the ELBO, larger k is tighter.
- `report` adds, on data with ground-truth factors, the disentanglement metrics of
  `explorer.core.disentanglement` (MIG, DCI, SAP, the FactorVAE score), each with the
  protocol it was measured under.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np
import torch

from explorer.core.data.dataset import Dataset
from explorer.core.disentanglement import (
    DEFAULT_SETTINGS,
    MetricSettings,
    MIGResult,
    Scores,
    score,
)
from explorer.core.disentanglement.points import MIN_POINTS
from explorer.core.errors import ConfigError
from explorer.core.kind_table import DEFAULT_KIND, KIND_TABLE
from explorer.core.model import (
    LatentModel,
    gaussian_kl,
    images_to_tensor,
    importance_terms,
    reconstruction_nll,
)
from explorer.core.on_data import ON_DATA_MIN_IMAGES, OnData, on_data
from explorer.core.pass_size import images_per_pass
from explorer.core.progress import Reporter, quiet

ACTIVE_THRESHOLD = 0.01
_LOG_2PI = math.log(2 * math.pi)
_IW_VALUES = 1 << 26  # pixels decoded at once by iw_bound: 256 MB of float32 at most


@dataclass(frozen=True)
class Evaluation:
    """The ELBO of a set of images, per image in nats."""

    elbo: float  # -(recon + kl): a lower bound on log p(x); NaN for a deterministic model
    recon: float  # E_q[-log p(x|z)]
    # KL(q(z|x) ‖ p(z)), summed over dimensions (M2: plus KL(q(y|x) ‖ p(y))); NaN for a
    # deterministic model
    kl: float
    kl_per_dim: tuple[float, ...]  # KL of each latent dimension; empty when not defined
    count: int  # images evaluated
    # squared error Σ (x - decode(mu))² per image, pixels in [0, 1]: the reconstruction
    # error every kind has, PCA included
    sq_error: float = math.nan
    # M2: the share of the labels given whose class q(y|x) guesses right (argmax); None
    # for the other kinds, or without labels (None, not NaN: evaluations compare equal)
    accuracy: float | None = None


def image_batches(
    images: torch.Tensor, labels: torch.Tensor | None, batch_size: int, device: torch.device
) -> Iterator[tuple[torch.Tensor, torch.Tensor | None]]:
    """(x, y) batches from uint8 images (N, C, H, W) and labels (N,) or None: x is float
    (B, C, H, W) in [0, 1] on `device`, y (B,) int64 on `device` or None."""
    for lo in range(0, len(images), batch_size):
        x = images[lo : lo + batch_size].to(device, non_blocking=True).float().div_(255.0)
        y = None if labels is None else labels[lo : lo + batch_size].to(device)
        yield x, y


@torch.inference_mode()
def encode(
    model: LatentModel,
    images: torch.Tensor,
    labels: torch.Tensor | None = None,
    batch_size: int = 1024,
    progress: Reporter = quiet,
) -> tuple[np.ndarray, np.ndarray]:
    """Posterior parameters of every image: uint8 (N, C, H, W) -> mu, logvar: (N, d).

    A conditional model encodes each image with its label (N,); a deterministic one
    returns logvar = -inf. `progress` hears the share encoded after each batch.
    """
    was_training = model.training
    model.eval()
    # Written into arrays made up front: small results kept between the batches' large
    # temporaries pin the heap (glibc), and encoding the 737,280 sprites then grew the
    # process far past the codes' size (`scripts/bench_scale.py` reports the peak).
    n, d = len(images), model.config.latent_dim
    mus, logvars = np.empty((n, d), np.float32), np.empty((n, d), np.float32)
    lo = 0
    batch_size = images_per_pass(images.shape[1:], batch_size)
    for x, y in image_batches(images, labels, batch_size, model.device):
        mu, logvar = model.encode(x, y)
        mus[lo : lo + len(x)] = mu.float().cpu().numpy()
        logvars[lo : lo + len(x)] = logvar.float().cpu().numpy()
        lo += len(x)
        progress(f"Encoding {n:,} images", lo / n)
    model.train(was_training)
    return mus, logvars


@dataclass(frozen=True)
class EvaluationSums:
    """What `evaluate` adds up over images, before dividing by their count: partial sums
    of disjoint sets of images add up (the ranks of a distributed run each score a share)."""

    count: int  # images scored
    recon: float  # Σ -log p(x|z)
    sq_error: float  # Σ (x - decode(mu))²
    kl: tuple[float, ...]  # Σ KL per dimension; empty for a deterministic model
    # Σ one-sample KL of a flow posterior, log q_K(z|x) − log p(z): a flow's KL has no
    # closed form, and `kl` holds its linearised Gaussian's per dimension; NaN: no flow
    flow_kl: float = math.nan
    kl_class: float = 0.0  # M2: Σ KL(q(y|x) ‖ p(y)), the class's share of its KL
    right: float = math.nan  # M2: Σ labels its classifier guesses right; NaN: none scored

    def values(self) -> list[float]:
        """[count, recon, sq_error, flow_kl, kl_class, right, *kl]: one vector to add to
        another run's."""
        head = [float(self.count), self.recon, self.sq_error, self.flow_kl]
        return [*head, self.kl_class, self.right, *self.kl]

    @classmethod
    def of_values(cls, values: list[float]) -> EvaluationSums:
        """The inverse of `values`."""
        return cls(round(values[0]), values[1], values[2], tuple(values[6:]), *values[3:6])

    def evaluation(self, deterministic: bool) -> Evaluation:
        """The per-image means; NaN where no image was scored."""
        n = self.count or math.nan
        recon, sq_error = self.recon / n, self.sq_error / n
        if deterministic:
            return Evaluation(math.nan, recon, math.nan, (), count=self.count, sq_error=sq_error)
        kl_dims = tuple(k / n for k in self.kl)
        if not math.isnan(self.flow_kl):
            kl = self.flow_kl / n
        else:
            kl = float(sum(kl_dims)) + self.kl_class / n
        return Evaluation(
            -(recon + kl),
            recon,
            kl,
            kl_dims,
            count=self.count,
            sq_error=sq_error,
            accuracy=None if math.isnan(self.right / n) else self.right / n,
        )


def evaluate(
    model: LatentModel,
    images: torch.Tensor,
    labels: torch.Tensor | None = None,
    batch_size: int = 1024,
) -> Evaluation:
    """One-sample ELBO estimate over uint8 images (N, C, H, W) (labels (N,) for a cvae).

    M2's is its bound on log p(x), every class weighed by q(y|x), no label used; its
    reconstruction decodes as the class the classifier guesses, and the labels (when
    given) score that guess (`Evaluation.accuracy`)."""
    return evaluation_sums(model, images, labels, batch_size).evaluation(model.deterministic)


@torch.inference_mode()
def evaluation_sums(
    model: LatentModel,
    images: torch.Tensor,
    labels: torch.Tensor | None = None,
    batch_size: int = 1024,
) -> EvaluationSums:
    """`evaluate`'s sums over uint8 images (N, C, H, W), N may be 0."""
    was_training = model.training
    model.eval()
    d = model.config.latent_dim
    flow = KIND_TABLE[model.kind].flow
    semi = KIND_TABLE[model.kind].semi_supervised
    recon_sum = sq_sum = flow_kl_sum = kl_class_sum = 0.0
    right = 0
    kl_sum = torch.zeros(d, dtype=torch.float64)
    batch_size = images_per_pass(images.shape[1:], batch_size)
    for x, y in image_batches(images, labels, batch_size, model.device):
        if semi:
            t = model.terms(x, None)
            recon_sum += float(t.recon.double().sum())
            kl_sum += t.kl_dims.double().sum(0).cpu()
            kl_class_sum += float(t.kl_class.double().sum())
            guess = t.logits.argmax(1)
            right += 0 if y is None else int((guess == y).sum())
            mean = model.decode(model.encode(x, guess)[0], guess).float()
        else:
            if flow:  # a flow's KL has no closed form: one sample's log q_K(z|x) − log p(z)
                drawn = model.draw(x, 1, y)
                z, log_q, mu, logvar = drawn.z[0], drawn.log_q[0], drawn.mu, drawn.logvar
                logits = model.decode_logits(z, y)
                flow_kl_sum += float((log_q + 0.5 * (z.square() + _LOG_2PI).sum(1)).double().sum())
            else:
                logits, mu, logvar = model(x, y)
            recon_sum += float(reconstruction_nll(logits.float(), x, model.config).double().sum())
            mean = model.decode(mu, y).float()
            if not model.deterministic:
                kl_sum += gaussian_kl(mu.float(), logvar.float()).double().sum(0).cpu()
        sq_sum += float((x - mean).double().square().sum())
    model.train(was_training)
    kl = () if model.deterministic else tuple(kl_sum.tolist())
    scored = right if semi and labels is not None else math.nan
    return EvaluationSums(
        len(images),
        recon_sum,
        sq_sum,
        kl,
        flow_kl_sum if flow else math.nan,
        kl_class_sum,
        scored,
    )


def kl_per_dim(mu: np.ndarray, logvar: np.ndarray) -> np.ndarray:
    """Mean analytic KL of each dimension over the data: (N, d) -> (d,)."""
    return (0.5 * (mu**2 + np.exp(logvar) - 1.0 - logvar)).mean(0)


def active_units(mu: np.ndarray, threshold: float = ACTIVE_THRESHOLD) -> np.ndarray:
    """Which dimensions are used: Var over the data of the posterior mean > threshold."""
    return mu.var(0) > threshold


@torch.inference_mode()
def iw_bound(
    model: LatentModel,
    images: torch.Tensor,
    labels: torch.Tensor | None = None,
    k: int = 50,
    batch_size: int = 256,
) -> float:
    """Mean importance-weighted lower bound on log p(x) (log p(x|y) for a cvae; M2's
    sums p(y) p(x|y) over every class, `M2.iw_bound`), nats per image:
    log p(x) ≥ E[log (1/k) Σ_i p(x|z_i) p(z_i) / q(z_i|x)], z_i ~ q(z|x).

    Not defined for a deterministic model (it has no q to sample): raises ValueError.
    """
    if model.deterministic:
        raise ValueError(f"a {model.kind} has no posterior to sample: no importance bound")
    was_training = model.training
    model.eval()
    # k decodes per image: fewer images at a time for a large k, so the decoded batch
    # stays within _IW_VALUES values whatever k the user asks for, and the decoder's
    # layer outputs for it within what any inference pass may take (pass_size: a
    # broadcast decoder keeps 33 values per pixel it decodes)
    shape = images.shape[1:]
    decoded = min(_IW_VALUES // math.prod(shape), images_per_pass(shape, batch_size * k))
    batch_size = max(1, min(batch_size, decoded // k))
    total = 0.0
    for x, y in image_batches(images, labels, batch_size, model.device):
        if KIND_TABLE[model.kind].semi_supervised:  # on log p(x), every class enumerated
            bound = model.iw_bound(x, k)
        else:
            bound = importance_terms(model, x, k, y).bound()
        total += float(bound.double().sum())
    model.train(was_training)
    return total / len(images)


def dataset_labels(model: LatentModel, dataset: Dataset) -> torch.Tensor | None:
    """The class of every image as (N,) int64 when `model` is conditioned on it, else None.

    Raises ConfigError when a conditional model meets data without fitting labels.
    """
    if not model.conditional:
        return None
    classes = model.config.classes
    if dataset.labels is None:
        raise ConfigError(
            f"a {KIND_TABLE[model.kind].noun} needs the class of every image, and "
            f"{dataset.name} has no labels; choose another kind, or data with labels"
        )
    if dataset.num_classes > classes:
        raise ConfigError(
            f"{dataset.name} has {dataset.num_classes} classes but the model knows {classes}"
        )
    return torch.from_numpy(dataset.labels)


def _defined(value: float) -> float | None:
    return None if math.isnan(value) else value


@dataclass(frozen=True)
class Report:
    """The numbers shown after training and by `evaluate`; all per image in nats."""

    evaluation: Evaluation  # ELBO, reconstruction, KL and KL per dimension
    active: tuple[bool, ...]  # per dimension: is it used (see active_units)
    iw_bound: float | None  # importance-weighted bound on log p(x), when asked for and defined
    iw_k: int  # samples per image for iw_bound (0 = not computed)
    disentanglement: Scores | None  # when the data has ground-truth factors (and 10 images)
    kind: str = DEFAULT_KIND  # the model's kind (core/kind_table.py)
    on_data: OnData | None = None  # are prior samples on the data (when asked for)
    # figures the kind defines that came out NaN or infinite ("codes": the posterior
    # means), e.g. a model from elsewhere that computes NaN; empty for a sound model
    non_finite: tuple[str, ...] = ()

    @property
    def mig(self) -> MIGResult | None:
        """The MIG of `disentanglement`, or None."""
        return None if self.disentanglement is None else self.disentanglement.mig

    @property
    def active_count(self) -> int:
        return int(sum(self.active))

    def to_dict(self) -> dict:
        """Plain data for JSON; figures a kind does not define (an autoencoder's KL) are None."""
        e = self.evaluation
        out = {
            "kind": self.kind,
            "images": e.count,
            "elbo": _defined(e.elbo),
            "recon": e.recon,
            "kl": _defined(e.kl),
            "sq_error": e.sq_error,
            "active_units": self.active_count,
        }
        if e.accuracy is not None:
            out["accuracy"] = e.accuracy
        if self.iw_bound is not None:
            out |= {"iw_bound": self.iw_bound, "iw_k": self.iw_k}
        if self.on_data is not None:
            out |= {"on_data": self.on_data.fraction, "on_data_threshold": self.on_data.threshold}
        if self.mig is not None:
            out["mig"] = self.mig.score
            out["mig_per_factor"] = dict(zip(self.mig.factor_names, self.mig.gaps, strict=True))
            out["disentanglement"] = self.disentanglement.to_dict()
        return out


def report(
    model: LatentModel,
    dataset: Dataset,
    iw_k: int = 0,
    max_images: int = 10_000,
    seed: int = 0,
    on_data_samples: int = 0,
    metric_settings: MetricSettings = DEFAULT_SETTINGS,
) -> Report:
    """Evaluate `model` on (a seeded subset of at most `max_images` of) `dataset`.

    iw_k > 0 adds the importance-weighted bound (stochastic kinds only);
    on_data_samples > 0 adds the share of that many prior samples that are on the data;
    `metric_settings` chooses the disentanglement metrics' protocol (data with factors).
    """
    pick = np.arange(len(dataset))
    if len(pick) > max_images:
        pick = np.sort(np.random.default_rng(seed).choice(len(pick), max_images, replace=False))
    images = images_to_tensor(dataset.images[pick])
    labels = dataset_labels(model, dataset)
    labels = None if labels is None else labels[torch.from_numpy(pick)]
    bound = None
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        evaluation = evaluate(model, images, labels)
        if iw_k > 0 and not model.deterministic:
            bound = iw_bound(model, images, labels, k=iw_k)
    mu, logvar = encode(model, images, labels)
    bad = _non_finite(model, evaluation, bound, mu)
    result = None  # the metrics and on_data need finite codes, on_data three images or more
    if dataset.factors is not None and "codes" not in bad and len(mu) >= MIN_POINTS:
        names = dataset.factor_names or [f"factor {i}" for i in range(dataset.factors.shape[1])]
        result = score(mu, logvar, dataset.factors[pick], names, metric_settings)
    checked = None
    if on_data_samples > 0 and len(images) >= ON_DATA_MIN_IMAGES and "codes" not in bad:
        checked = on_data(model, images, labels, samples=on_data_samples, seed=seed)
    return Report(
        evaluation=evaluation,
        active=tuple(bool(a) for a in active_units(mu)),
        iw_bound=bound,
        iw_k=iw_k if bound is not None else 0,
        disentanglement=result,
        kind=model.kind,
        on_data=checked,
        non_finite=bad,
    )


def _non_finite(
    model: LatentModel, evaluation: Evaluation, bound: float | None, mu: np.ndarray
) -> tuple[str, ...]:
    """The figures of `report` that should be finite and are not."""
    figures = {"reconstruction": evaluation.recon, "squared error": evaluation.sq_error}
    if not model.deterministic:
        figures |= {"KL": evaluation.kl}
    if bound is not None:
        figures |= {"importance-weighted bound": bound}
    bad = [name for name, value in figures.items() if not math.isfinite(value)]
    return tuple(bad + ([] if np.isfinite(mu).all() else ["codes"]))

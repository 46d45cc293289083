"""What a trained model has learned, in numbers.

- `evaluate`: the ELBO split into reconstruction and KL (per dimension), per image in nats.
- `active_units`: a dimension is active when the variance over the data of its
  posterior mean exceeds 0.01 (Burda et al., 2016).
- `iw_bound`: the importance-weighted bound on log p(x) with k samples (Burda et al.);
  k = 1 is the ELBO, larger k is tighter.
- `mig`: the Mutual Information Gap (Chen et al., 2018) computed as disentanglement_lib
  does: posterior means of up to 10,000 points, each latent discretised into 20
  histogram bins, mutual information with each factor in nats, the gap between the two
  most informative latents divided by the factor's entropy, averaged over factors.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np
import torch

from explorer.core.data.dataset import Dataset
from explorer.core.model import LatentModel, gaussian_kl, images_to_tensor, reconstruction_nll

ACTIVE_THRESHOLD = 0.01


@dataclass(frozen=True)
class Evaluation:
    """The ELBO of a set of images, per image in nats."""

    elbo: float  # -(recon + kl): a lower bound on log p(x)
    recon: float  # E_q[-log p(x|z)]
    kl: float  # KL(q(z|x) ‖ p(z)), summed over dimensions
    kl_per_dim: tuple[float, ...]  # KL of each latent dimension
    count: int  # images evaluated


def _device(model: LatentModel) -> torch.device:
    return next(model.parameters()).device


def _batches(images: torch.Tensor, batch_size: int, device: torch.device) -> Iterator[torch.Tensor]:
    """Float batches (B, C, H, W) in [0, 1] on `device` from a uint8 (N, C, H, W) tensor."""
    for lo in range(0, len(images), batch_size):
        yield images[lo : lo + batch_size].to(device, non_blocking=True).float().div_(255.0)


@torch.inference_mode()
def encode(
    model: LatentModel, images: torch.Tensor, batch_size: int = 1024
) -> tuple[np.ndarray, np.ndarray]:
    """Posterior parameters of every image: uint8 (N, C, H, W) -> mu, logvar: (N, d)."""
    was_training = model.training
    model.eval()
    mus, logvars = [], []
    for x in _batches(images, batch_size, _device(model)):
        mu, logvar = model.encode(x)
        mus.append(mu.float().cpu())
        logvars.append(logvar.float().cpu())
    model.train(was_training)
    return torch.cat(mus).numpy(), torch.cat(logvars).numpy()


@torch.inference_mode()
def evaluate(model: LatentModel, images: torch.Tensor, batch_size: int = 1024) -> Evaluation:
    """One-sample ELBO estimate over uint8 images (N, C, H, W)."""
    was_training = model.training
    model.eval()
    d = model.config.latent_dim
    recon_sum = 0.0
    kl_sum = torch.zeros(d, dtype=torch.float64)
    for x in _batches(images, batch_size, _device(model)):
        logits, mu, logvar = model(x)
        recon_sum += float(reconstruction_nll(logits, x, model.config).double().sum())
        kl_sum += gaussian_kl(mu, logvar).double().sum(0).cpu()
    model.train(was_training)
    n = len(images)
    kl_dims = (kl_sum / n).tolist()
    recon, kl = recon_sum / n, float(sum(kl_dims))
    return Evaluation(elbo=-(recon + kl), recon=recon, kl=kl, kl_per_dim=tuple(kl_dims), count=n)


def kl_per_dim(mu: np.ndarray, logvar: np.ndarray) -> np.ndarray:
    """Mean analytic KL of each dimension over the data: (N, d) -> (d,)."""
    return (0.5 * (mu**2 + np.exp(logvar) - 1.0 - logvar)).mean(0)


def active_units(mu: np.ndarray, threshold: float = ACTIVE_THRESHOLD) -> np.ndarray:
    """Which dimensions are used: Var over the data of the posterior mean > threshold."""
    return mu.var(0) > threshold


@torch.inference_mode()
def iw_bound(model: LatentModel, images: torch.Tensor, k: int = 50, batch_size: int = 256) -> float:
    """Mean importance-weighted lower bound on log p(x), nats per image.

    log p(x) ≥ E[log (1/k) Σ_i p(x|z_i) p(z_i) / q(z_i|x)], z_i ~ q(z|x).
    """
    was_training = model.training
    model.eval()
    total = 0.0
    log2pi = math.log(2 * math.pi)
    for x in _batches(images, batch_size, _device(model)):
        mu, logvar = model.encode(x)
        std = torch.exp(0.5 * logvar)
        eps = torch.randn((k, *mu.shape), device=mu.device)  # (k, B, d)
        z = mu + std * eps
        log_q = (-0.5 * (eps.square() + logvar + log2pi)).sum(-1)  # (k, B)
        log_prior = (-0.5 * (z.square() + log2pi)).sum(-1)
        logits = model.decode_logits(z.flatten(0, 1))  # (k·B, C, H, W)
        x_rep = x.expand(k, *x.shape).flatten(0, 1)
        log_lik = -reconstruction_nll(logits, x_rep, model.config).view(k, -1)
        log_w = log_lik + log_prior - log_q
        total += float((torch.logsumexp(log_w, 0) - math.log(k)).double().sum())
    model.train(was_training)
    return total / len(images)


@dataclass(frozen=True)
class MIGResult:
    score: float  # mean normalised gap over factors, in [0, 1]
    gaps: tuple[float, ...]  # per factor: (top MI - second MI) / H(factor)
    best_dims: tuple[int, ...]  # per factor: the latent dimension with the most MI
    mutual_info: np.ndarray  # (d, K) MI between each latent and each factor, nats
    factor_names: tuple[str, ...]
    entropies: tuple[float, ...]  # per factor: H(factor) in nats, over the points used


def _discrete_mi(a: np.ndarray, b: np.ndarray) -> float:
    """Mutual information (nats) of two non-negative integer sequences of equal length."""
    joint = np.zeros((a.max() + 1, b.max() + 1))
    np.add.at(joint, (a, b), 1.0)
    joint /= joint.sum()
    pa, pb = joint.sum(1, keepdims=True), joint.sum(0, keepdims=True)
    nz = joint > 0
    return float((joint[nz] * np.log(joint[nz] / (pa @ pb)[nz])).sum())


def _entropy(a: np.ndarray) -> float:
    p = np.bincount(a) / len(a)
    p = p[p > 0]
    return float(-(p * np.log(p)).sum())


def mig(
    mu: np.ndarray,
    factors: np.ndarray,
    factor_names: list[str] | None = None,
    bins: int = 20,
    max_points: int = 10_000,
    seed: int = 0,
) -> MIGResult:
    """MIG of posterior means mu: (N, d) against integer factors: (N, K)."""
    if len(mu) > max_points:
        pick = np.random.default_rng(seed).choice(len(mu), max_points, replace=False)
        mu, factors = mu[pick], factors[pick]
    # Histogram discretisation as in disentanglement_lib: bin edges over each latent's range.
    codes = np.stack([np.digitize(m, np.histogram(m, bins)[1][:-1]) for m in mu.T], axis=1)
    k = factors.shape[1]
    names = tuple(factor_names or [f"factor {i}" for i in range(k)])
    mi = np.array(
        [[_discrete_mi(codes[:, j], factors[:, f]) for f in range(k)] for j in range(mu.shape[1])]
    )
    gaps, best = [], []
    entropies = tuple(_entropy(factors[:, f]) for f in range(k))
    for f, h in enumerate(entropies):
        order = np.argsort(mi[:, f])[::-1]
        best.append(int(order[0]))
        if h <= 0:  # a constant factor carries nothing to disentangle
            gaps.append(float("nan"))
            continue
        second = mi[order[1], f] if len(order) > 1 else 0.0
        gaps.append(float((mi[order[0], f] - second) / h))
    valid = [g for g in gaps if not math.isnan(g)]
    return MIGResult(
        score=float(np.mean(valid)) if valid else 0.0,
        gaps=tuple(gaps),
        best_dims=tuple(best),
        mutual_info=mi,
        factor_names=names,
        entropies=entropies,
    )


@dataclass(frozen=True)
class Report:
    """The numbers shown after training and by `evaluate`; all per image in nats."""

    evaluation: Evaluation  # ELBO, reconstruction, KL and KL per dimension
    active: tuple[bool, ...]  # per dimension: is it used (see active_units)
    iw_bound: float | None  # importance-weighted bound on log p(x), when asked for
    iw_k: int  # samples per image for iw_bound (0 = not computed)
    mig: MIGResult | None  # when the data has ground-truth factors

    @property
    def active_count(self) -> int:
        return int(sum(self.active))

    def to_dict(self) -> dict:
        e = self.evaluation
        out = {
            "images": e.count,
            "elbo": e.elbo,
            "recon": e.recon,
            "kl": e.kl,
            "active_units": self.active_count,
        }
        if self.iw_bound is not None:
            out |= {"iw_bound": self.iw_bound, "iw_k": self.iw_k}
        if self.mig is not None:
            out["mig"] = self.mig.score
            out["mig_per_factor"] = dict(zip(self.mig.factor_names, self.mig.gaps, strict=True))
        return out


def report(
    model: LatentModel, dataset: Dataset, iw_k: int = 0, max_images: int = 10_000, seed: int = 0
) -> Report:
    """Evaluate `model` on (a seeded subset of at most `max_images` of) `dataset`."""
    pick = np.arange(len(dataset))
    if len(pick) > max_images:
        pick = np.sort(np.random.default_rng(seed).choice(len(pick), max_images, replace=False))
    images = images_to_tensor(dataset.images[pick])
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        evaluation = evaluate(model, images)
        bound = iw_bound(model, images, k=iw_k) if iw_k > 0 else None
    mu, _ = encode(model, images)
    result = None
    if dataset.factors is not None:
        result = mig(mu, dataset.factors[pick], dataset.factor_names, seed=seed)
    return Report(
        evaluation=evaluation,
        active=tuple(bool(a) for a in active_units(mu)),
        iw_bound=bound,
        iw_k=iw_k,
        mig=result,
    )

"""The sparsity penalties of a sparse autoencoder, on a batch of codes.

A sparse autoencoder (Ng, "Sparse autoencoder", CS294A lecture notes, 2011) is an
autoencoder whose loss adds λ times a penalty that keeps most code units near zero for
each image, so few units carry each one:

- L1: Σ_j |h_j| of each image's code h, averaged over the batch;
- KL: Σ_j KL(ρ ‖ ρ̂_j), where ρ̂_j is unit j's mean activation over the batch and the
  units are sigmoids (activations in (0, 1)): KL(ρ ‖ ρ̂) = ρ log(ρ/ρ̂) + (1 − ρ)
  log((1 − ρ)/(1 − ρ̂)), which is 0 when the unit is on a share ρ of the time on average.

`firing` tells, for the units view, on which images each unit fires.
"""

from __future__ import annotations

import numpy as np
import torch

# ρ̂ is kept this far inside (0, 1): a unit that saturates on a whole batch (a sigmoid
# rounds to exactly 0 or 1 in float32) would make the KL infinite and end the run.
_EPS = 1e-6
# A unit fires on an image when its activation's size is above this share of the largest
# activation's size in the data: a scale-free line, since an L1 code's scale is the
# decoder's choice (it can grow its weights to shrink the code).
FIRE_SHARE = 0.1


def l1_penalty(codes: torch.Tensor) -> torch.Tensor:
    """Mean over the batch of Σ_j |h_j|: codes (B, d) -> a scalar."""
    return codes.abs().sum(1).mean()


def kl_penalty(codes: torch.Tensor, rho: float) -> torch.Tensor:
    """Σ_j KL(ρ ‖ ρ̂_j), ρ̂_j the batch's mean of unit j: codes (B, d) in (0, 1) -> a scalar."""
    rho_hat = codes.mean(0).clamp(_EPS, 1 - _EPS)
    rho = min(max(rho, _EPS), 1 - _EPS)
    kl = rho * torch.log(rho / rho_hat) + (1 - rho) * torch.log((1 - rho) / (1 - rho_hat))
    return kl.sum()


def penalty(kind: str, codes: torch.Tensor, rho: float) -> torch.Tensor:
    """The penalty `kind` ("l1" or "kl", a Kind's `sparsity`) puts on codes (B, d)."""
    return kl_penalty(codes, rho) if kind == "kl" else l1_penalty(codes)


def firing(codes: np.ndarray) -> np.ndarray:
    """(N, d) -> (N, d) bool: where a unit's activation is above FIRE_SHARE of the
    largest size any unit reaches on the data."""
    size = np.abs(np.asarray(codes, dtype=np.float64))
    top = float(size.max()) if size.size else 0.0
    return size > FIRE_SHARE * top if top > 0 else np.zeros(size.shape, bool)


def unit_histograms(codes: np.ndarray, bins: int) -> tuple[np.ndarray, np.ndarray]:
    """The histogram of each unit's activations over the data, on bins shared by all units
    (so the units compare at a glance): codes (N, d) -> (share of the unit's images in each
    bin (bins, d), the bins' edges (bins + 1,))."""
    codes = np.asarray(codes, dtype=np.float64)
    lo, hi = (float(codes.min()), float(codes.max())) if codes.size else (0.0, 1.0)
    if not hi > lo:  # every activation alike: one bin around it
        lo, hi = lo - 0.5, hi + 0.5
    edges = np.linspace(lo, hi, bins + 1)
    counts = np.stack([np.histogram(codes[:, j], edges)[0] for j in range(codes.shape[1])], 1)
    return counts / max(len(codes), 1), edges

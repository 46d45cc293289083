"""The encoder's uncertainty: q(z|x) = N(μ, diag σ²) of a data point, seen on the plane.

On a plane p = Vᵀ(z - o) (see `projection`), a Gaussian code projects to a Gaussian
point with mean Vᵀ(μ - o) and covariance Vᵀ diag(σ²) V (2×2). Its k-σ ellipse is the
set of points at Mahalanobis distance k: centre + k · L · (cos t, sin t), where
L Lᵀ is that covariance (its eigenvectors scaled by the square roots of the eigenvalues,
so the ellipse's semi-axes are k·√λ along them). For a chosen-dims plane the axes are
simply k·σ of the two dimensions.

`posterior_samples` draws the codes whose decodes show what the encoder is unsure about.
A posterior that is no Gaussian (a planar flow's, core/flows.py) has no ellipse:
`model_samples` draws its codes from the model itself, to be shown as a cloud.
"""

from __future__ import annotations

import numpy as np
import torch

from explorer.core.model import LatentModel
from explorer.core.projection import Plane

_ELLIPSE_POINTS = 48  # outline vertices: smooth at any zoom the plot allows


def plane_gaussian(plane: Plane, mu: np.ndarray, logvar: np.ndarray) -> tuple[np.ndarray, ...]:
    """Project q(z|x) onto the plane: mu, logvar (..., d) -> centre (..., 2), cov (..., 2, 2)."""
    var = np.exp(np.asarray(logvar, dtype=np.float64))
    v = plane.basis  # (d, 2)
    cov = np.einsum("di,...d,dj->...ij", v, var, v)
    return plane.to_plane(mu), cov


def ellipse_outlines(
    centre: np.ndarray, cov: np.ndarray, n_sigma: float, points: int = _ELLIPSE_POINTS
) -> np.ndarray:
    """Closed outlines of the n-σ ellipses: centre (E, 2), cov (E, 2, 2) -> (E, points + 1, 2).

    The last vertex repeats the first so each outline closes.
    """
    lam, vec = np.linalg.eigh(np.asarray(cov, dtype=np.float64))
    scale = vec * np.sqrt(np.clip(lam, 0.0, None))[:, None, :]  # (E, 2, 2): L with L Lᵀ = cov
    t = np.linspace(0.0, 2.0 * np.pi, points + 1)
    circle = np.stack([np.cos(t), np.sin(t)])  # (2, points + 1)
    return np.asarray(centre, np.float64)[:, None, :] + n_sigma * np.einsum(
        "eij,jt->eti", scale, circle
    )


def joined(outlines: np.ndarray) -> np.ndarray:
    """Outlines (E, P, 2) as one polyline (E·(P + 1), 2) with NaN breaks between them,
    so any number of ellipses is drawn as a single item."""
    e, p, _ = outlines.shape
    gaps = np.full((e, 1, 2), np.nan)
    return np.concatenate([outlines, gaps], axis=1).reshape(e * (p + 1), 2)


def posterior_samples(mu: np.ndarray, logvar: np.ndarray, k: int, seed: int = 0) -> np.ndarray:
    """k codes drawn from q(z|x): mu, logvar (d,) -> (k, d); seeded, so a point's strip
    does not flicker when it is redrawn."""
    eps = np.random.default_rng(seed).standard_normal((k, len(mu)))
    return np.asarray(mu, np.float64) + np.exp(0.5 * np.asarray(logvar, np.float64)) * eps


@torch.inference_mode()
def model_samples(model: LatentModel, images: torch.Tensor, k: int, seed: int = 0) -> np.ndarray:
    """k codes per image drawn from the model's own q(z|x): uint8 images (N, C, H, W) ->
    (N, k, d); seeded, so a redrawn cloud does not flicker."""
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        x = images.to(model.device).float().div_(255.0)
        z = model.draw(x, k).z
    return z.permute(1, 0, 2).float().cpu().numpy()

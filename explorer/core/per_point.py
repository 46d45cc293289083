"""What explains the model, point by point: each image's reconstruction error, the KL of
its posterior from the prior, and the posterior's spread, to colour the latent plot by.

- reconstruction error: Σ (x - decode(μ))² over the image's pixels (in [0, 1]), the
  squared error every kind has (PCA and the autoencoder too), as `metrics.evaluate`
  averages it; a decode pass over the data, taken a bounded number of images at a time
  (`pass_size`).
- KL: KL(q(z|x) ‖ N(0, I)) summed over the dimensions, from the codes alone.
- posterior σ: the mean over the dimensions of σ = exp(½ log σ²), from the codes alone.

A deterministic model (PCA, the autoencoder) has no posterior spread: its KL and σ are
not defined (`available` leaves them out).
"""

from __future__ import annotations

import numpy as np
import torch

from explorer.core.metrics import image_batches
from explorer.core.model import LatentModel
from explorer.core.pass_size import images_per_pass
from explorer.core.progress import Reporter, quiet

RECON = "reconstruction error"
KL = "KL"
SIGMA = "posterior σ"
QUANTITIES = (RECON, KL, SIGMA)  # in the order the colour chooser lists them
# why a quantity is missing for a model without a posterior spread (a tooltip)
NO_SPREAD = "a {kind} encodes each image to one point: it has no posterior σ, so no KL"


def available(model: LatentModel) -> tuple[str, ...]:
    """The quantities `model` defines: all of them, or the reconstruction error alone for a
    deterministic model."""
    return (RECON,) if model.deterministic else QUANTITIES


def point_kl(mu: np.ndarray, logvar: np.ndarray) -> np.ndarray:
    """KL(N(μ, σ²) ‖ N(0, I)) of each point, summed over dimensions: (N, d) each -> (N,)."""
    out = np.zeros(len(mu), np.float64)
    for j in range(mu.shape[1]):  # a column at a time: no (N, d) float64 temporaries
        m, lv = mu[:, j].astype(np.float64), logvar[:, j].astype(np.float64)
        out += 0.5 * (m * m + np.exp(lv) - 1.0 - lv)
    return out.astype(np.float32)


def point_sigma(logvar: np.ndarray) -> np.ndarray:
    """The posterior σ of each point, averaged over dimensions: (N, d) -> (N,)."""
    out = np.zeros(len(logvar), np.float64)
    for j in range(logvar.shape[1]):
        out += np.exp(0.5 * logvar[:, j].astype(np.float64))
    return (out / max(logvar.shape[1], 1)).astype(np.float32)


@torch.inference_mode()
def reconstruction_errors(
    model: LatentModel,
    images: torch.Tensor,
    mu: np.ndarray,
    labels: torch.Tensor | None = None,
    batch_size: int = 1024,
    progress: Reporter = quiet,
) -> np.ndarray:
    """Σ (x - decode(μ))² of each uint8 image (N, C, H, W), pixels in [0, 1], decoded
    from its posterior mean mu (N, d) (with its label (N,) for a cvae) -> (N,) float32."""
    was_training = model.training
    model.eval()
    n = len(images)
    out = np.empty(n, np.float32)
    batch_size = images_per_pass(images.shape[1:], batch_size)
    lo = 0
    for x, y in image_batches(images, labels, batch_size, model.device):
        z = torch.as_tensor(mu[lo : lo + len(x)], dtype=torch.float32, device=model.device)
        mean = model.decode(z, y).float()
        out[lo : lo + len(x)] = (x - mean).square().flatten(1).sum(1).cpu().numpy()
        lo += len(x)
        progress(f"Measuring the reconstruction error of {n:,} images", lo / n)
    model.train(was_training)
    return out


def point_values(
    what: str,
    model: LatentModel,
    images: torch.Tensor,
    mu: np.ndarray,
    logvar: np.ndarray,
    labels: torch.Tensor | None = None,
    progress: Reporter = quiet,
) -> np.ndarray:
    """The quantity `what` (one of QUANTITIES) of every point -> (N,) float32.

    Raises ValueError for a quantity the model does not define (`available`)."""
    if what not in available(model):
        raise ValueError(f"{what}: not defined for a {model.kind}")
    if what == RECON:
        return reconstruction_errors(model, images, mu, labels, progress=progress)
    return point_kl(mu, logvar) if what == KL else point_sigma(logvar)

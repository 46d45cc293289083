"""PCA as a latent model: the best linear subspace, fitted in closed form.

The encoder projects a centred image onto the top d principal directions and divides
by each direction's standard deviation, so the codes of the data have unit variance
(whitened) and the sliders and the N(0, I) samples cover the same ground as a VAE's.
The decoder maps back: x̂ = mean + (z · σ) @ components. That is probabilistic PCA
(Tipping & Bishop, 1999) in the limit of no pixel noise; reconstruction is the same
as plain PCA's. It is deterministic: there is no posterior spread and no KL.
"""

from __future__ import annotations

import math

import torch

from explorer.core.config import ModelConfig
from explorer.core.model import LatentModel

_EPS = 1e-4  # decoded pixels are clamped this far inside (0, 1) before taking logits
_EXACT_MAX_PIXELS = 4096  # up to this many values per image the covariance is decomposed exactly


class PCAModel(LatentModel):
    """encode(x: (B, C, H, W)) -> z: (B, d) whitened scores; decode(z) -> (B, C, H, W)."""

    def __init__(self, config: ModelConfig):
        super().__init__()
        self.config = config.validate()
        n = math.prod(config.image_shape)
        d = config.latent_dim
        self.register_buffer("mean", torch.zeros(n))  # (C·H·W,) the mean image
        # (d, C·H·W) orthonormal principal directions, largest variance first
        self.register_buffer("components", torch.eye(d, n))
        self.register_buffer("scale", torch.ones(d))  # (d,) standard deviation along each

    def encode(
        self, x: torch.Tensor, y: torch.Tensor | None = None
    ) -> tuple[torch.Tensor, torch.Tensor]:
        z = (x.flatten(1).float() - self.mean) @ self.components.T / self.scale
        return z, torch.full_like(z, -math.inf)

    def reconstruct(self, z: torch.Tensor) -> torch.Tensor:
        """z: (B, d) -> the linear reconstruction (B, C, H, W), not clamped."""
        flat = self.mean + (z.float() * self.scale) @ self.components
        return flat.view(len(z), *self.config.image_shape)

    def decode_logits(self, z: torch.Tensor, y: torch.Tensor | None = None) -> torch.Tensor:
        return torch.logit(self.reconstruct(z).clamp(_EPS, 1 - _EPS))

    def decode(self, z: torch.Tensor, y: torch.Tensor | None = None) -> torch.Tensor:
        return self.reconstruct(z).clamp(0.0, 1.0)

    @torch.no_grad()
    def fit(self, images: torch.Tensor, batch_size: int = 4096) -> None:
        """Fit to uint8 images (N, C, H, W) in one pass (float64 sums over batches)."""
        n_pix = self.mean.numel()
        d = self.config.latent_dim
        device = self.mean.device
        if n_pix <= _EXACT_MAX_PIXELS:
            total = torch.zeros(n_pix, dtype=torch.float64, device=device)
            gram = torch.zeros(n_pix, n_pix, dtype=torch.float64, device=device)
            for lo in range(0, len(images), batch_size):
                x = images[lo : lo + batch_size].to(device).flatten(1).double() / 255.0
                total += x.sum(0)
                gram += x.T @ x
            mean = total / len(images)
            cov = gram / len(images) - torch.outer(mean, mean)
            var, vecs = torch.linalg.eigh(cov)  # ascending
            var, vecs = var.flip(0)[:d], vecs.flip(1)[:, :d].T
        else:  # large images: a randomised SVD of the centred data (Halko et al., 2011)
            x = torch.cat(
                [
                    images[lo : lo + batch_size].to(device).flatten(1).float() / 255.0
                    for lo in range(0, len(images), batch_size)
                ]
            )
            mean = x.mean(0).double()
            _, s, v = torch.svd_lowrank(x - mean.float(), q=min(d + 10, *x.shape), niter=6)
            var, vecs = (s[:d].double() ** 2) / len(x), v[:, :d].T.double()
        # A direction with no variance (fewer images than dimensions, or constant
        # pixels) keeps a unit scale: its code is always 0 and decodes to the mean.
        scale = torch.where(var > 1e-12, var.clamp_min(0).sqrt(), torch.ones_like(var))
        # Fix each direction's sign (largest entry positive) so refits agree.
        sign = torch.sign(vecs.gather(1, vecs.abs().argmax(1, keepdim=True)))
        self.mean.copy_(mean.float())
        self.components.copy_((vecs * sign).float())
        self.scale.copy_(scale.float())

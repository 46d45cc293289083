"""The VAE and its β-weighted ELBO.

Implements the variational autoencoder of Kingma & Welling, "Auto-Encoding Variational
Bayes" (2014): an encoder q(z|x) = N(μ(x), diag σ²(x)), a standard normal prior
p(z) = N(0, I), the reparameterisation z = μ + σ·ε, and a decoder p(x|z) that is
Bernoulli (binary cross-entropy) or Gaussian with a fixed σ. The β-VAE objective of
Higgins et al. (2017) weights the KL term: loss = E[-log p(x|z)] + β·KL(q(z|x) ‖ p(z)).
β = 0 is a plain autoencoder objective, β = 1 the ELBO itself.

All losses are per image, in nats. The decoder returns logits; `decode` applies the
sigmoid, and the Bernoulli loss uses BCE-with-logits (stabler and faster than a
sigmoid followed by BCE).
"""

from __future__ import annotations

import copy
import itertools
import math
from dataclasses import dataclass

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from explorer.core.config import ExternalConfig, ModelConfig

_CONV_CHANNELS = (32, 32, 64, 64)  # widths of the strided conv layers, outermost first


def _mlp(sizes: list[int]) -> nn.Sequential:
    """Linear layers with ReLU between them (none after the last)."""
    layers: list[nn.Module] = []
    for i, (a, b) in enumerate(itertools.pairwise(sizes)):
        layers.append(nn.Linear(a, b))
        if i < len(sizes) - 2:
            layers.append(nn.ReLU())
    return nn.Sequential(*layers)


def _conv_depth(h: int, w: int) -> int:
    """How many stride-2 layers halve (h, w) exactly while they stay above 4 pixels."""
    n = 0
    while n < len(_CONV_CHANNELS) and h % 2 == 0 and w % 2 == 0 and min(h, w) > 4:
        h, w, n = h // 2, w // 2, n + 1
    return n


class LatentModel(nn.Module):
    """What the app, the metrics and the exporter need of a model, ours or a user's.

    encode(x: (B, C, H, W) in [0, 1]) -> mu, logvar: (B, latent_dim)
    decode_logits(z: (B, latent_dim)) -> (B, C, H, W) Bernoulli logits
    decode(z) -> (B, C, H, W) mean image in [0, 1]
    """

    config: ModelConfig | ExternalConfig

    def encode(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        raise NotImplementedError

    def decode_logits(self, z: torch.Tensor) -> torch.Tensor:
        raise NotImplementedError

    def decode(self, z: torch.Tensor) -> torch.Tensor:
        return torch.sigmoid(self.decode_logits(z))

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """One stochastic pass: (logits of x given a sampled z, mu, logvar)."""
        mu, logvar = self.encode(x)
        z = mu + torch.randn_like(mu) * torch.exp(0.5 * logvar)
        return self.decode_logits(z), mu, logvar

    def copy(self) -> LatentModel:
        """An independent CPU copy in eval mode (for another thread to decode or save)."""
        raise NotImplementedError


class VAE(LatentModel):
    """Encoder and decoder for images of `config.image_shape`.

    encode(x: (B, C, H, W) in [0, 1]) -> mu, logvar: (B, latent_dim)
    decode_logits(z: (B, latent_dim)) -> (B, C, H, W) logits
    decode(z) -> (B, C, H, W) mean image in [0, 1]
    """

    def __init__(self, config: ModelConfig):
        super().__init__()
        self.config = config.validate()
        c, h, w = config.image_shape
        d = config.latent_dim
        if config.architecture == "mlp":
            sizes = [c * h * w, *config.hidden]
            self.encoder = nn.Sequential(nn.Flatten(), _mlp([*sizes, 2 * d]))
            self.decoder = nn.Sequential(_mlp([d, *reversed(sizes)]), nn.Unflatten(1, (c, h, w)))
            return
        depth = _conv_depth(h, w)
        chans = [c, *_CONV_CHANNELS[:depth]]
        fh, fw = h >> depth, w >> depth
        feat = chans[-1] * fh * fw
        down: list[nn.Module] = []
        for a, b in itertools.pairwise(chans):
            down += [nn.Conv2d(a, b, 4, stride=2, padding=1), nn.ReLU()]
        self.encoder = nn.Sequential(
            *down,
            nn.Flatten(),
            _mlp([feat, *config.hidden]),
            nn.ReLU(),
            nn.Linear(config.hidden[-1], 2 * d),
        )
        up: list[nn.Module] = []
        rev = chans[::-1]
        for i, (a, b) in enumerate(itertools.pairwise(rev)):
            up.append(nn.ConvTranspose2d(a, b, 4, stride=2, padding=1))
            if i < len(rev) - 2:
                up.append(nn.ReLU())
        self.decoder = nn.Sequential(
            _mlp([d, *reversed(config.hidden), feat]),
            nn.ReLU(),
            nn.Unflatten(1, (chans[-1], fh, fw)),
            *up,
        )

    def encode(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        mu, logvar = self.encoder(x).chunk(2, dim=1)
        return mu, logvar

    def decode_logits(self, z: torch.Tensor) -> torch.Tensor:
        return self.decoder(z)

    def copy(self) -> VAE:
        # A deep copy, not VAE(config) + load_state_dict: that would first draw random
        # initial weights (~20 ms for a small MLP, paid on the GUI thread every epoch).
        return copy.deepcopy(self).to("cpu").eval()

    def loss(self, x: torch.Tensor, beta: float) -> LossTerms:
        """The β-weighted negative ELBO of a batch x: (B, C, H, W), per image in nats.

        The loss is computed in fp32 even when the network ran in bf16 (autocast).
        """
        logits, mu, logvar = (t.float() for t in self(x))
        recon = reconstruction_nll(logits, x, self.config).mean()
        kl_dims = gaussian_kl(mu, logvar).mean(0)
        kl = kl_dims.sum()
        return LossTerms(total=recon + beta * kl, recon=recon, kl=kl, kl_per_dim=kl_dims)


@dataclass
class LossTerms:
    """Scalars are per-image means in nats; kl_per_dim: (latent_dim,)."""

    total: torch.Tensor  # recon + β·kl, what the optimiser minimises
    recon: torch.Tensor  # E_q[-log p(x|z)]
    kl: torch.Tensor  # KL(q(z|x) ‖ N(0, I))
    kl_per_dim: torch.Tensor


def gaussian_kl(mu: torch.Tensor, logvar: torch.Tensor) -> torch.Tensor:
    """Analytic KL(N(mu, exp(logvar)) ‖ N(0, 1)) per dimension: (B, d) -> (B, d)."""
    return 0.5 * (mu.square() + logvar.exp() - 1.0 - logvar)


def reconstruction_nll(
    logits: torch.Tensor, x: torch.Tensor, config: ModelConfig | ExternalConfig
) -> torch.Tensor:
    """-log p(x|z) per image: logits, x: (B, C, H, W) -> (B,)."""
    if config.likelihood == "bernoulli":
        nll = F.binary_cross_entropy_with_logits(logits, x, reduction="none")
    else:
        sigma = config.gaussian_sigma
        mean = torch.sigmoid(logits)
        nll = 0.5 * ((x - mean) / sigma).square() + 0.5 * math.log(2 * math.pi * sigma**2)
    return nll.flatten(1).sum(1)


def images_to_tensor(images: np.ndarray) -> torch.Tensor:
    """Dataset layout (N, H, W) or (N, H, W, C) uint8 -> model layout (N, C, H, W) uint8.

    Kept as uint8 (4× smaller than float); scale batches with `x.float() / 255`.
    """
    t = torch.from_numpy(np.ascontiguousarray(images))
    t = t.unsqueeze(1) if t.ndim == 3 else t.permute(0, 3, 1, 2)
    return t.contiguous()


def build_model(config: ModelConfig, seed: int = 0) -> VAE:
    """A freshly initialised VAE; the same seed gives the same weights."""
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        return VAE(config)

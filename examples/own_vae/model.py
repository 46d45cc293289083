"""A VAE as many people write it in their own repository (the classic MNIST VAE shape).

Nothing here knows about Latent Explorer. Its quirks are the common ones: encode takes
flattened images, decode returns flattened probabilities. The app finds that out by
probing; `build_model` is the factory it is pointed at:

    python -m explorer vae.pth --factory examples/own_vae/model.py:build_model \
        --factory-args '{"latent_dim": 2}' --dataset t10k-images-idx3-ubyte.gz
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn


class VAE(nn.Module):
    def __init__(self, latent_dim: int = 2, hidden: int = 400, pixels: int = 784):
        super().__init__()
        self.fc1 = nn.Linear(pixels, hidden)
        self.fc_mu = nn.Linear(hidden, latent_dim)
        self.fc_logvar = nn.Linear(hidden, latent_dim)
        self.fc3 = nn.Linear(latent_dim, hidden)
        self.fc4 = nn.Linear(hidden, pixels)

    def encode(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """x: (B, 784) in [0, 1] -> mu, logvar: (B, latent_dim)."""
        h = F.relu(self.fc1(x))
        return self.fc_mu(h), self.fc_logvar(h)

    def decode(self, z: torch.Tensor) -> torch.Tensor:
        """z: (B, latent_dim) -> (B, 784) pixel probabilities."""
        return torch.sigmoid(self.fc4(F.relu(self.fc3(z))))

    def forward(self, x: torch.Tensor):
        mu, logvar = self.encode(x.view(-1, 784))
        z = mu + torch.randn_like(mu) * torch.exp(0.5 * logvar)
        return self.decode(z), mu, logvar


def build_model(latent_dim: int = 2, hidden: int = 400) -> VAE:
    return VAE(latent_dim, hidden)

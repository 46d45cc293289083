"""VAEs as people write them in their own repositories, for the tests of external models.

Each one differs from ours in one of the ways the adapters handle. They are small and
untrained; what matters is how they are called and what they return. A class is a
factory too (`tests.external_models:PairVAE`); two factories that go wrong live here.
"""

from __future__ import annotations

import sys
import threading
from pathlib import Path

import torch
from torch import nn
from torch.distributions import Bernoulli, Independent, Normal

from explorer.core.external_files import torchscript_quietly

PIXELS = 28 * 28


def script(module: nn.Module, path: Path) -> Path:
    """Save `module` as TorchScript, as its author would."""
    with torchscript_quietly():
        torch.jit.script(module).save(str(path))
    return path


class PairVAE(nn.Module):
    """encode -> (mu, logvar); decode -> images in [0, 1]; says its own sizes."""

    def __init__(self, latent_dim: int = 3):
        super().__init__()
        self.enc = nn.Sequential(nn.Flatten(), nn.Linear(PIXELS, 32), nn.ReLU())
        self.mu = nn.Linear(32, latent_dim)
        self.logvar = nn.Linear(32, latent_dim)
        self.dec = nn.Sequential(nn.Linear(latent_dim, PIXELS), nn.Unflatten(1, (1, 28, 28)))
        self.latent_dim = latent_dim
        self.image_shape = [1, 28, 28]

    @torch.jit.export
    def encode(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        h = self.enc(x)
        return self.mu(h), self.logvar(h)

    @torch.jit.export
    def decode(self, z: torch.Tensor) -> torch.Tensor:
        return torch.sigmoid(self.dec(z))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.decode(self.encode(x)[0])


class SplitFlatVAE(nn.Module):
    """Takes flattened images; encode -> one (B, 2d) tensor; decode -> flat logits."""

    def __init__(self, latent_dim: int = 2):
        super().__init__()
        self.encoder = nn.Linear(PIXELS, 2 * latent_dim)
        self.decoder = nn.Linear(latent_dim, PIXELS)

    def encode(self, x: torch.Tensor) -> torch.Tensor:
        return self.encoder(x)

    def decode(self, z: torch.Tensor) -> torch.Tensor:
        return self.decoder(z) * 4.0  # logits well outside [0, 1]


class DistributionVAE(nn.Module):
    """encode -> Independent(Normal); decode -> Independent(Bernoulli(logits))."""

    def __init__(self, latent_dim: int = 2):
        super().__init__()
        self.encoder = nn.Sequential(nn.Flatten(), nn.Linear(PIXELS, 2 * latent_dim))
        self.decoder = nn.Linear(latent_dim, PIXELS)

    def encode(self, x: torch.Tensor) -> Independent:
        mu, log_std = self.encoder(x).chunk(2, dim=1)
        return Independent(Normal(mu, log_std.exp()), 1)

    def decode(self, z: torch.Tensor) -> Independent:
        return Independent(Bernoulli(logits=self.decoder(z).view(-1, 1, 28, 28)), 3)


class ExtrasVAE(PairVAE):
    """encode -> (mu, logvar, h); decode -> (x, a second item)."""

    def encode(self, x: torch.Tensor):
        h = self.enc(x)
        return self.mu(h), self.logvar(h), h

    def decode(self, z: torch.Tensor):
        return torch.sigmoid(self.dec(z)), z


class NoDecode(nn.Module):
    def __init__(self):
        super().__init__()
        self.lin = nn.Linear(PIXELS, 4)

    def encode(self, x: torch.Tensor) -> torch.Tensor:
        return self.lin(x.flatten(1))


class WrongDecodeSize(SplitFlatVAE):
    def decode(self, z: torch.Tensor) -> torch.Tensor:
        return self.decoder(z)[:, :100]


class OddEncoder(SplitFlatVAE):
    def encode(self, x: torch.Tensor) -> torch.Tensor:
        return self.encoder(x)[:, :3]


def build_raises() -> nn.Module:
    raise ValueError("this factory needs a config file")


def build_not_a_module() -> dict:
    return {"encoder": None}


HANG = threading.Event()  # `build_hangs` returns once this is set (never, unless a test does)


def build_hangs() -> nn.Module:
    """A factory that waits on something that never comes (a lock, a server)."""
    HANG.wait()
    return PairVAE()


def build_exits() -> nn.Module:
    """A factory written as a script: it ends the program."""
    sys.exit(3)

"""The total-correlation terms of the disentangling objectives.

β-TCVAE (Chen et al., "Isolating Sources of Disentanglement in VAEs", NeurIPS 2018)
splits the KL term, averaged over the data, into

    E[KL(q(z|x) ‖ p(z))] = MI(x; z) + TC(z) + Σ_j KL(q(z_j) ‖ p(z_j))
                           index-code MI   total correlation   dimension-wise KL

and estimates the aggregate posterior q(z) = (1/N) Σ_n q(z|x_n) on a batch of M codes by
minibatch-weighted sampling (MWS, their eq. 4): log q(z_i) ≈ logsumexp_j log q(z_i|x_j)
− log(N·M), and each marginal q(z_i,d) alike, one dimension at a time. The three
estimates then add up exactly to the batch's Monte-Carlo estimate of the KL term,
mean_i [log q(z_i|x_i) − log p(z_i)] (`TCTerms.kl`).

FactorVAE (Kim & Mnih, "Disentangling by Factorising", ICML 2018) estimates TC with a
discriminator D that tells codes z ~ q(z) (label 0) from codes whose dimensions were
shuffled independently across the batch (label 1), which follow Π_j q(z_j): with two
logits, TC ≈ E[log D(z)/(1 − D(z))] = E[logit_0 − logit_1] (their eq. 3).
"""

from __future__ import annotations

import itertools
import math
from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import nn

# Kim & Mnih's discriminator has 6 layers of 1000 units (6 M weights, sized for a GPU);
# 4 of 256 (0.2 M) keep a FactorVAE step on a CPU near a VAE's, and a code of at most 64
# dimensions needs no more to be told from its shuffle.
DISCRIMINATOR_HIDDEN = (256, 256, 256, 256)
DISCRIMINATOR_LR = 1e-4  # Adam, betas (0.5, 0.9), as in the paper
DISCRIMINATOR_BETAS = (0.5, 0.9)

_LOG_2PI = math.log(2 * math.pi)


def gaussian_log_density(z: torch.Tensor, mu: torch.Tensor, logvar: torch.Tensor) -> torch.Tensor:
    """log N(z; mu, exp(logvar)) per dimension, broadcasting the three alike."""
    return -0.5 * (_LOG_2PI + logvar + (z - mu).square() * torch.exp(-logvar))


@dataclass
class TCTerms:
    """The β-TCVAE split of a batch's KL estimate, each a scalar (mean over the batch)."""

    mi: torch.Tensor  # index-code mutual information
    tc: torch.Tensor  # total correlation
    dim_kl: torch.Tensor  # dimension-wise KL

    @property
    def kl(self) -> torch.Tensor:
        """Their sum: the Monte-Carlo KL, mean_i [log q(z_i|x_i) − log p(z_i)]."""
        return self.mi + self.tc + self.dim_kl


def tc_decomposition(
    z: torch.Tensor, mu: torch.Tensor, logvar: torch.Tensor, dataset_size: int
) -> TCTerms:
    """MI, TC and dimension-wise KL of codes z: (M, d) drawn from q(z|x) = N(mu, exp(logvar))
    (each (M, d)), by minibatch-weighted sampling over a dataset of `dataset_size` images."""
    m = len(z)
    log_qz_x = gaussian_log_density(z, mu, logvar).sum(1)  # (M,) log q(z_i|x_i)
    log_pz = gaussian_log_density(z, torch.zeros_like(z), torch.zeros_like(z)).sum(1)
    # (M, M, d): log q(z_i,d | x_j,d) for every code i and every posterior j in the batch
    pairs = gaussian_log_density(z[:, None], mu[None], logvar[None])
    log_nm = math.log(dataset_size * m)
    log_qz = torch.logsumexp(pairs.sum(2), 1) - log_nm  # (M,)
    log_prod_qzd = (torch.logsumexp(pairs, 1) - log_nm).sum(1)  # (M,)
    return TCTerms(
        mi=(log_qz_x - log_qz).mean(),
        tc=(log_qz - log_prod_qzd).mean(),
        dim_kl=(log_prod_qzd - log_pz).mean(),
    )


def permute_dims(z: torch.Tensor, generator: torch.Generator | None = None) -> torch.Tensor:
    """z: (B, d) with each dimension shuffled across the batch by its own permutation:
    every column keeps its values (its marginal), the rows' dependence is broken."""
    b, d = z.shape
    order = torch.argsort(torch.rand(b, d, generator=generator, device=z.device), dim=0)
    return torch.gather(z, 0, order)


class Discriminator(nn.Module):
    """FactorVAE's D: codes (B, d) -> 2 logits (B, 2), [joint, shuffled]."""

    def __init__(self, latent_dim: int, hidden: tuple[int, ...] = DISCRIMINATOR_HIDDEN):
        super().__init__()
        sizes = [latent_dim, *hidden]
        layers: list[nn.Module] = []
        for a, b in itertools.pairwise(sizes):
            layers += [nn.Linear(a, b), nn.LeakyReLU(0.2)]
        self.net = nn.Sequential(*layers, nn.Linear(sizes[-1], 2))

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        return self.net(z)

    def tc(self, z: torch.Tensor) -> torch.Tensor:
        """The TC estimate on codes z: (B, d), mean over the batch of logit_0 − logit_1."""
        logits = self(z)
        return (logits[:, 0] - logits[:, 1]).mean()

    def loss(self, z: torch.Tensor) -> torch.Tensor:
        """Cross-entropy of telling z: (B, d) (class 0) from its shuffle (class 1);
        the codes are detached, so only D learns from it."""
        z = z.detach()
        shuffled = permute_dims(z)
        logits = self(torch.cat([z, shuffled]))
        labels = torch.cat(
            [torch.zeros(len(z), dtype=torch.long), torch.ones(len(z), dtype=torch.long)]
        ).to(z.device)
        return F.cross_entropy(logits, labels)

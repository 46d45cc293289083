"""The semi-supervised VAE "M2" and its objective.

Kingma, Rezende, Mohamed & Welling, "Semi-supervised Learning with Deep Generative
Models" (NeurIPS 2014). The generative model is p(x|y, z) p(y) p(z): a class y with a
uniform prior p(y) = 1/K and a style z ~ N(0, I). The approximate posterior factors as
q(z, y|x) = q(z|x, y) q(y|x), where q(y|x) is a classifier. The encoder q(z|x, y) and
the decoder p(x|y, z) are the conditional VAE's (core/model.py conditions both on the
one-hot class); the classifier is a head of its own on the encoder's image features.

It is told the labels of a share of the training images only. With L(x, y) the
negative ELBO of an image with its class (their eq. 6, a bound on −log p(x, y)),

    L(x, y) = E_q(z|x,y)[−log p(x|y, z)] + KL(q(z|x, y) ‖ p(z)) − log p(y),

an image whose label is not known is scored over every class (their eq. 7, a bound on
−log p(x)):

    U(x) = Σ_y q(y|x) L(x, y) − H(q(y|x)),

and the labelled images also teach the classifier (their eq. 9):
J^α = Σ_labelled L(x, y) + Σ_unlabelled U(x) + α·E_labelled[−log q(y|x)], α = 0.1·N.
Here each term is per image of the data (J^α / N), so a labelled image's cross-entropy
weighs α·N/N_labelled, α being the paper's divided by N (TrainConfig.alpha, 0.1).

Reported as the other kinds report: "recon" is the expected −log p(x|y, z), "kl" the KL
of z plus KL(q(y|x) ‖ p(y)) = log K − H(q(y|x)), which is log K (= −log p(y)) for a
labelled image, whose q is the point mass at its label.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import torch
import torch.nn.functional as F

from explorer.core.config import ModelConfig
from explorer.core.layers import mlp
from explorer.core.model import (
    VAE,
    LossTerms,
    Weights,
    gaussian_kl,
    importance_terms,
    reconstruction_nll,
)

UNKNOWN = -1  # the label of a training image whose class M2 is not told
_LABELS_STREAM = 2014  # the labelled share is drawn from its own stream of the run's seed


@dataclass
class M2Terms:
    """Every part of M2's objective, per image of a batch of B."""

    recon: torch.Tensor  # (B,) E[−log p(x|y, z)]: at the known y, else averaged over q(y|x)
    kl_dims: torch.Tensor  # (B, d) KL(q(z|x, y) ‖ p(z)) per dimension, likewise
    kl_class: torch.Tensor  # (B,) KL(q(y|x) ‖ p(y)); log K where y is known
    ce: torch.Tensor  # (B,) −log q(y|x) at the known label; 0 where it is not known
    logits: torch.Tensor  # (B, K) the classifier's

    def negative_elbo(self) -> torch.Tensor:
        """(B,) L(x, y) where y is known, U(x) where not."""
        return self.recon + self.kl_dims.sum(1) + self.kl_class


class M2(VAE):
    """The conditional VAE's encoder q(z|x, y) and decoder p(x|y, z), plus a classifier
    q(y|x): (B, C, H, W) -> (B, K) logits, an MLP of the VAE's hidden widths on the
    encoder's image features (the image itself for the mlp and broadcast networks, the
    convolutions' output for the conv one, so those are shared with q(z|x, y))."""

    def __init__(self, config: ModelConfig):
        super().__init__(config)
        # the encoder's first dense layer takes the features and the one-hot class
        features = self.encoder[self._features][0].in_features - config.classes
        self.classifier = mlp([features, *config.hidden, config.classes])

    def classify(self, x: torch.Tensor) -> torch.Tensor:
        """q(y|x) as logits: x (B, C, H, W) -> (B, K)."""
        return self.classifier(self.encoder[: self._features](x))

    def encode(
        self, x: torch.Tensor, y: torch.Tensor | None = None
    ) -> tuple[torch.Tensor, torch.Tensor]:
        # q(z|x, y) needs a class: where the label is not known (y None), the
        # classifier's most likely one, argmax q(y|x), as M2 itself would guess it
        if y is None:
            y = self.classify(x).argmax(1)
        return super().encode(x, y)

    def terms(
        self, x: torch.Tensor, y: torch.Tensor | None, inputs: torch.Tensor | None = None
    ) -> M2Terms:
        """The parts of the objective for x (B, C, H, W) with labels y (B,), UNKNOWN
        where not told (y None: none told); `inputs` is what the encoder and the
        classifier see (a corrupted x), the bound scores x. One z per image and class."""
        inputs = x if inputs is None else inputs
        b, k = len(x), self.config.classes
        if y is None:
            y = torch.full((b,), UNKNOWN, device=x.device)
        known = y >= 0
        logits = self.classify(inputs).float()
        log_q = F.log_softmax(logits, 1)
        labelled, unlabelled = known.nonzero()[:, 0], (~known).nonzero()[:, 0]
        # rows: each labelled image with its class, each unlabelled one with every class
        image = torch.cat([labelled, unlabelled.repeat_interleave(k)])
        classes = torch.arange(k, device=x.device).repeat(len(unlabelled))
        cls = torch.cat([y[labelled], classes])
        q_rows = log_q[unlabelled].exp().flatten()
        weight = torch.cat([torch.ones(len(labelled), device=x.device), q_rows])
        mu, logvar = (t.float() for t in self.encode(inputs[image], cls))
        z = mu + torch.randn_like(mu) * torch.exp(0.5 * logvar)
        recon_rows = reconstruction_nll(self.decode_logits(z, cls).float(), x[image], self.config)
        recon = torch.zeros(b, device=x.device).index_add(0, image, weight * recon_rows)
        kl_rows = gaussian_kl(mu, logvar) * weight[:, None]
        kl_dims = torch.zeros(b, mu.shape[1], device=x.device).index_add(0, image, kl_rows)
        log_k = math.log(k)
        kl_class = torch.where(known, log_k, (log_q.exp() * log_q).sum(1) + log_k)
        ce = torch.where(known, -log_q.gather(1, y.clamp(min=0)[:, None])[:, 0], 0.0)
        return M2Terms(recon, kl_dims, kl_class, ce, logits)

    def loss(
        self,
        x: torch.Tensor,
        beta: float,
        y: torch.Tensor | None = None,
        inputs: torch.Tensor | None = None,
        samples: int = 1,
        weights: Weights | None = None,
    ) -> LossTerms:
        """J^α per image of the batch (module docstring); β is M2's own 1 (not used),
        `weights.classify` the weight of a labelled image's cross-entropy."""
        t = self.terms(x, y, inputs)
        w = weights or Weights()
        kl = t.kl_dims.sum(1) + t.kl_class
        return LossTerms(
            total=(t.negative_elbo() + w.classify * t.ce).mean(),
            recon=t.recon.mean(),
            kl=kl.mean(),
            kl_per_dim=t.kl_dims.mean(0),
        )

    def iw_bound(self, x: torch.Tensor, k: int) -> torch.Tensor:
        """(B,) log p(x) ≥ log Σ_y p(y) exp(b_y), b_y the importance-weighted bound on
        log p(x|y) with k samples of q(z|x, y): every class enumerated, no label used."""
        per_class = [
            importance_terms(self, x, k, torch.full((len(x),), c, device=x.device)).bound()
            for c in range(self.config.classes)
        ]
        return torch.logsumexp(torch.stack(per_class), 0) - math.log(self.config.classes)


def classify_weight(alpha: float, images: int, labelled: int) -> float:
    """The weight of one labelled image's cross-entropy in the per-image objective:
    the paper's α = alpha·N spread over the N_labelled images told their class."""
    return alpha * images / labelled if labelled else 0.0


def labelled_mask(labels: np.ndarray, fraction: float, seed: int) -> np.ndarray:
    """Which of the images with `labels` (N,) are told their class: `fraction` of each
    class (rounded, at least one), drawn by `seed`; (N,) bool. Stratified, so a class
    rare in the data is not left out of a small share by chance."""
    rng = np.random.default_rng((seed, _LABELS_STREAM))
    told = np.zeros(len(labels), dtype=bool)
    for c in np.unique(labels):
        members = np.flatnonzero(labels == c)
        take = max(1, round(len(members) * fraction))
        told[rng.choice(members, take, replace=False)] = True
    return told

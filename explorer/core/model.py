"""The VAE and its β-weighted ELBO.

Implements the variational autoencoder of Kingma & Welling, "Auto-Encoding Variational
Bayes" (2014): an encoder q(z|x) = N(μ(x), diag σ²(x)), a standard normal prior
p(z) = N(0, I), the reparameterisation z = μ + σ·ε, and a decoder p(x|z) that is
Bernoulli (binary cross-entropy) or Gaussian with a fixed σ. The β-VAE objective of
Higgins et al. (2017) weights the KL term: loss = E[-log p(x|z)] + β·KL(q(z|x) ‖ p(z)).
β = 0 is a plain autoencoder objective, β = 1 the ELBO itself. The disentangling
objectives (β-TCVAE, FactorVAE, AnnealedVAE and the capacity schedule) replace the KL
term as `VAE.loss` says; their total-correlation terms are in core/objectives.py.

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
from explorer.core.data.on_disk import DiskImages, DiskTensor, model_layout
from explorer.core.data.packed import PackedImages, PackedTensor
from explorer.core.flows import flow, linearised, parameter_count, planar_parameters
from explorer.core.kind_table import KIND_TABLE
from explorer.core.layers import BroadcastDecoder, mlp
from explorer.core.objectives import Discriminator, gaussian_log_density, tc_decomposition
from explorer.core.sparsity import penalty

_LOG_2PI = math.log(2 * math.pi)

_CONV_CHANNELS = (32, 32, 64, 64)  # widths of the strided conv layers, outermost first


def _conv_depth(h: int, w: int) -> int:
    """How many stride-2 layers halve (h, w) exactly while they stay above 4 pixels."""
    n = 0
    while n < len(_CONV_CHANNELS) and h % 2 == 0 and w % 2 == 0 and min(h, w) > 4:
        h, w, n = h // 2, w // 2, n + 1
    return n


class LatentModel(nn.Module):
    """What the app, the metrics and the exporter need of a model, ours or a user's.

    encode(x: (B, C, H, W) in [0, 1], y: (B,) labels) -> mu, logvar: (B, latent_dim)
    decode_logits(z: (B, latent_dim), y) -> (B, C, H, W) Bernoulli logits
    decode(z, y) -> (B, C, H, W) mean image in [0, 1]

    y is read only by a conditional model (kind "cvae"); left out, it decodes and
    encodes as class `condition`. A deterministic model (PCA, the autoencoder) encodes
    each image to a point: its logvar is -inf, and it has no KL and no prior.
    """

    config: ModelConfig | ExternalConfig
    condition: int = 0  # cvae: the class used when no labels are given

    @property
    def kind(self) -> str:
        return self.config.kind

    @property
    def device(self) -> torch.device:
        """Where its weights (or, for PCA, its fitted buffers) are."""
        for t in itertools.chain(self.parameters(), self.buffers()):
            return t.device
        return torch.device("cpu")

    @property
    def deterministic(self) -> bool:
        return KIND_TABLE[self.kind].deterministic

    @property
    def conditional(self) -> bool:
        return KIND_TABLE[self.kind].needs_labels

    def encode(
        self, x: torch.Tensor, y: torch.Tensor | None = None
    ) -> tuple[torch.Tensor, torch.Tensor]:
        raise NotImplementedError

    def decode_logits(self, z: torch.Tensor, y: torch.Tensor | None = None) -> torch.Tensor:
        raise NotImplementedError

    def decode(self, z: torch.Tensor, y: torch.Tensor | None = None) -> torch.Tensor:
        return torch.sigmoid(self.decode_logits(z, y))

    def forward(
        self, x: torch.Tensor, y: torch.Tensor | None = None
    ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """One stochastic pass: (logits of x given a sampled z, mu, logvar)."""
        if self.deterministic:
            mu, logvar = self.encode(x, y)
            return self.decode_logits(mu, y), mu, logvar
        drawn = self.draw(x, 1, y)
        return self.decode_logits(drawn.z[0], y), drawn.mu, drawn.logvar

    def draw(self, x: torch.Tensor, k: int, y: torch.Tensor | None = None) -> Draws:
        """k codes per image drawn from q(z|x), their log densities and what `encode`
        gives, from one pass of the encoder over x (B, C, H, W). Here q is the Gaussian
        `encode` gives."""
        mu, logvar = (t.float() for t in self.encode(x, y))
        eps = torch.randn((k, *mu.shape), device=mu.device)
        z = mu + torch.exp(0.5 * logvar) * eps
        return Draws(mu, logvar, z, (-0.5 * (eps.square() + logvar + _LOG_2PI)).sum(-1))

    def copy(self) -> LatentModel:
        """An independent CPU copy in eval mode (for another thread to decode or save)."""
        # A deep copy, not a new model + load_state_dict: that would first draw random
        # initial weights, which the GUI thread would pay for every epoch.
        return copy.deepcopy(self).to("cpu").eval()


class VAE(LatentModel):
    """The neural kinds (all but PCA) for images of `config.image_shape`.

    They share one encoder/decoder layout (MLP, strided convolutions, or an MLP encoder
    with a BroadcastDecoder). The VAE's encoder outputs (mu, logvar), 2·d numbers; the
    autoencoder's outputs the code, d numbers. A cvae's encoder takes the one-hot class
    beside the image features (after flattening) and its decoder takes it beside z. The
    IWAE and the disentangling kinds are VAEs trained on other objectives (see `loss`);
    a FactorVAE also holds its discriminator.
    """

    def __init__(self, config: ModelConfig):
        super().__init__()
        self.config = config.validate()
        c, h, w = config.image_shape
        d, k = config.latent_dim, config.classes
        out = d if KIND_TABLE[config.kind].deterministic else 2 * d
        out += parameter_count(d, config.flow_steps)  # a flow's (u, w, b) per step
        if config.architecture in ("mlp", "broadcast"):
            self.encoder = nn.Sequential(nn.Flatten(), mlp([c * h * w + k, *config.hidden, out]))
            self._features = 1  # encoder[:1] flattens; the class joins after it
            self.decoder = (
                BroadcastDecoder(d + k, (c, h, w))
                if config.architecture == "broadcast"
                else nn.Sequential(
                    mlp([d + k, *reversed(config.hidden), c * h * w]), nn.Unflatten(1, (c, h, w))
                )
            )
            self._add_discriminator()
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
            mlp([feat + k, *config.hidden]),
            nn.ReLU(),
            nn.Linear(config.hidden[-1], out),
        )
        self._features = len(down) + 1
        up: list[nn.Module] = []
        rev = chans[::-1]
        for i, (a, b) in enumerate(itertools.pairwise(rev)):
            up.append(nn.ConvTranspose2d(a, b, 4, stride=2, padding=1))
            if i < len(rev) - 2:
                up.append(nn.ReLU())
        self.decoder = nn.Sequential(
            mlp([d + k, *reversed(config.hidden), feat]),
            nn.ReLU(),
            nn.Unflatten(1, (chans[-1], fh, fw)),
            *up,
        )
        self._add_discriminator()

    def _add_discriminator(self) -> None:
        """A FactorVAE's discriminator is part of the model: saved and loaded with it,
        trained by its own optimiser (core/training.py)."""
        if KIND_TABLE[self.config.kind].discriminator:
            self.discriminator = Discriminator(self.config.latent_dim)

    def objective_parameters(self) -> list[nn.Parameter]:
        """The encoder's and decoder's weights: what the objective's optimiser steps (a
        discriminator has its own)."""
        return [p for n, p in self.named_parameters() if not n.startswith("discriminator.")]

    def _one_hot(self, y: torch.Tensor | None, like: torch.Tensor) -> torch.Tensor:
        """(B, classes) one-hot of y, or of `condition` when y is None."""
        if y is None:
            y = torch.full((len(like),), self.condition, dtype=torch.long, device=like.device)
        return F.one_hot(y.to(like.device, torch.long), self.config.classes).to(like.dtype)

    def encode(
        self, x: torch.Tensor, y: torch.Tensor | None = None
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """(mu, logvar) of q(z|x); for a flow, its linearised summary (flows.linearised)."""
        mu, logvar, planar = self._posterior(x, y)
        return (mu, logvar) if planar is None else linearised(mu, logvar, *planar)

    def _posterior(
        self, x: torch.Tensor, y: torch.Tensor | None
    ) -> tuple[torch.Tensor, torch.Tensor, tuple[torch.Tensor, ...] | None]:
        """The encoder's output read: mu, logvar (B, d) of the Gaussian (a deterministic
        kind's code and -inf), and a flow's planar (u, w, b) or None."""
        if self.conditional:
            features = self.encoder[: self._features](x)
            h = self.encoder[self._features :](torch.cat([features, self._one_hot(y, x)], 1))
        else:
            h = self.encoder(x)
        if self.deterministic:
            if KIND_TABLE[self.kind].sparsity == "kl":  # units whose mean is a share of "on"
                h = torch.sigmoid(h)
            return h, torch.full_like(h, -math.inf), None
        d = self.config.latent_dim
        mu, logvar = h[:, :d], h[:, d : 2 * d]
        if not self.config.flow_steps:
            return mu, logvar, None
        return mu, logvar, planar_parameters(h[:, 2 * d :].float(), d)

    def draw(self, x: torch.Tensor, k: int, y: torch.Tensor | None = None) -> Draws:
        """As LatentModel.draw; a flow's codes are the Gaussian's samples z₀ pushed through
        its steps, with log q_K(z_K|x) = log q₀(z₀|x) − Σ log |det ∂f/∂z|."""
        if not self.config.flow_steps:
            return super().draw(x, k, y)
        mu, logvar, planar = self._posterior(x, y)
        mu, logvar = mu.float(), logvar.float()
        z, log_q = _flow_samples(mu, logvar, planar, k)
        return Draws(*linearised(mu, logvar, *planar), z, log_q)

    def decode_logits(self, z: torch.Tensor, y: torch.Tensor | None = None) -> torch.Tensor:
        if self.conditional:
            z = torch.cat([z, self._one_hot(y, z)], 1)
        return self.decoder(z)

    def loss(
        self,
        x: torch.Tensor,
        beta: float,
        y: torch.Tensor | None = None,
        inputs: torch.Tensor | None = None,
        samples: int = 1,
        weights: Weights | None = None,
    ) -> LossTerms:
        """The objective for a batch x: (B, C, H, W), per image in nats.

        ae: the reconstruction error alone. vae and cvae: the β-weighted negative ELBO.
        iwae: the negative importance-weighted bound with `samples` draws (β is not
        used). betatcvae: reconstruction + α·MI + β·TC + γ·dimension-wise KL. factorvae:
        the negative ELBO + γ·TC, TC estimated by the discriminator. annealedvae (and
        the capacity schedule of a VAE): reconstruction + γ (β)·|KL − C|. `weights`
        holds α, γ, C and the data's size (the defaults: 1, 1, no capacity).
        `inputs` is what the encoder sees (a corrupted x for denoising or masked
        training); the loss always scores the clean x. Computed in fp32 even when the
        network ran in bf16 (autocast).
        """
        inputs = x if inputs is None else inputs
        kind = KIND_TABLE[self.kind]
        w = weights or Weights()
        if kind.importance_weighted:
            terms = importance_terms(self, x, samples, y, inputs)
            kl_dims = gaussian_kl(terms.mu, terms.logvar).mean(0)
            return LossTerms(
                total=-terms.bound().mean(),
                recon=-terms.log_lik[0].mean(),
                kl=kl_dims.sum(),
                kl_per_dim=kl_dims,
            )
        if kind.flow:
            return self._flow_loss(x, inputs, y, beta, w)
        mu, logvar = (t.float() for t in self.encode(inputs, y))
        z = mu if self.deterministic else mu + torch.randn_like(mu) * torch.exp(0.5 * logvar)
        recon = reconstruction_nll(self.decode_logits(z, y).float(), x, self.config).mean()
        if self.deterministic:
            none = recon.new_zeros(self.config.latent_dim)
            total = (
                recon + w.sparsity * penalty(kind.sparsity, mu, w.rho) if kind.sparsity else recon
            )
            return LossTerms(total=total, recon=recon, kl=none.sum(), kl_per_dim=none)
        kl_dims = gaussian_kl(mu, logvar).mean(0)
        kl = kl_dims.sum()
        out = LossTerms(total=recon, recon=recon, kl=kl, kl_per_dim=kl_dims, codes=z)
        if w.capacity is not None:
            held = w.gamma if kind.capacity else beta
            out.total, out.capacity = recon + held * (kl - w.capacity).abs(), w.capacity
        elif kind.tc_split:
            split = tc_decomposition(z, mu, logvar, w.dataset_size)
            out.total = recon + beta * split.tc + w.alpha * split.mi + w.gamma * split.dim_kl
            out.tc = split.tc
        elif kind.discriminator:
            out.tc = self.discriminator.tc(z)
            out.total = recon + beta * kl + w.gamma * out.tc
        else:
            out.total = recon + beta * kl
        return out

    def _flow_loss(
        self, x: torch.Tensor, inputs: torch.Tensor, y: torch.Tensor | None, beta: float, w: Weights
    ) -> LossTerms:
        """recon + β·KL with the KL a one-sample estimate, log q_K(z_K|x) − log p(z_K) (a
        flow's has no closed form); its per-dimension split is the linearised summary's."""
        mu, logvar, planar = self._posterior(inputs, y)
        mu, logvar = mu.float(), logvar.float()
        z, log_q = (t[0] for t in _flow_samples(mu, logvar, planar, 1))
        recon = reconstruction_nll(self.decode_logits(z, y).float(), x, self.config).mean()
        kl = (
            log_q - gaussian_log_density(z, torch.zeros_like(z), torch.zeros_like(z)).sum(1)
        ).mean()
        with torch.no_grad():
            kl_dims = gaussian_kl(*linearised(mu, logvar, *planar)).mean(0)
        out = LossTerms(total=recon + beta * kl, recon=recon, kl=kl, kl_per_dim=kl_dims)
        if w.capacity is not None:
            out.total, out.capacity = recon + beta * (kl - w.capacity).abs(), w.capacity
        return out


def _flow_samples(
    mu: torch.Tensor, logvar: torch.Tensor, planar: tuple[torch.Tensor, ...], k: int
) -> tuple[torch.Tensor, torch.Tensor]:
    """k draws of z₀ ~ N(mu, exp(logvar)) (B, d) pushed through the planar steps:
    z_K (k, B, d) and log q_K(z_K|x) = log q₀(z₀|x) − Σ log |det ∂f/∂z| (k, B)."""
    eps = torch.randn((k, *mu.shape), device=mu.device)
    z_k, log_det = flow(mu + torch.exp(0.5 * logvar) * eps, *planar)
    return z_k, (-0.5 * (eps.square() + logvar + _LOG_2PI)).sum(-1) - log_det


@dataclass(frozen=True)
class Weights:
    """The weights of an objective beside β at one step (TrainConfig's, as scheduled)."""

    alpha: float = 1.0  # β-TCVAE: index-code MI
    gamma: float = 1.0  # β-TCVAE: dimension-wise KL; FactorVAE: TC; AnnealedVAE: |KL − C|
    capacity: float | None = None  # C in nats where the KL is held at a capacity
    dataset_size: int = 1  # N of β-TCVAE's minibatch-weighted sampling: training images
    sparsity: float = 1.0  # sparse autoencoders: λ of the code's penalty
    rho: float = 0.05  # sparseae-kl: the units' target mean activation ρ
    classify: float = 0.0  # M2: weight of a labelled image's cross-entropy, α·N/N_labelled


@dataclass
class Draws:
    """Codes drawn from q(z|x) for a batch of B images, k per image."""

    mu: torch.Tensor  # (B, d) what `encode` gives: the Gaussian's (a flow's summary)
    logvar: torch.Tensor  # (B, d)
    z: torch.Tensor  # (k, B, d) the codes drawn
    log_q: torch.Tensor  # (k, B) log q(z|x) of each


@dataclass
class ImportanceTerms:
    """k posterior samples per image and their log densities, each (k, B); mu, logvar (B, d)."""

    log_lik: torch.Tensor  # log p(x|z_i)
    log_prior: torch.Tensor  # log p(z_i), standard normal
    log_q: torch.Tensor  # log q(z_i|x)
    mu: torch.Tensor
    logvar: torch.Tensor

    def bound(self) -> torch.Tensor:
        """(B,) log (1/k) Σ_i p(x|z_i) p(z_i) / q(z_i|x), the bound of Burda et al. (2016)."""
        k = len(self.log_lik)
        return torch.logsumexp(self.log_lik + self.log_prior - self.log_q, 0) - math.log(k)


def importance_terms(
    model: LatentModel,
    x: torch.Tensor,
    k: int,
    y: torch.Tensor | None = None,
    inputs: torch.Tensor | None = None,
) -> ImportanceTerms:
    """Draw k codes per image from q(z | inputs) and score them against x: (B, C, H, W)."""
    drawn = model.draw(x if inputs is None else inputs, k, y)
    z = drawn.z
    log_prior = (-0.5 * (z.square() + _LOG_2PI)).sum(-1)
    logits = model.decode_logits(z.flatten(0, 1), None if y is None else y.repeat(k)).float()
    x_rep = x.expand(k, *x.shape).flatten(0, 1)
    log_lik = -reconstruction_nll(logits, x_rep, model.config).view(k, -1)
    return ImportanceTerms(log_lik, log_prior, drawn.log_q, drawn.mu, drawn.logvar)


@dataclass
class LossTerms:
    """Scalars are per-image means in nats; kl_per_dim: (latent_dim,)."""

    total: torch.Tensor  # recon + β·kl (or the kind's objective), what the optimiser minimises
    recon: torch.Tensor  # E_q[-log p(x|z)]
    kl: torch.Tensor  # KL(q(z|x) ‖ N(0, I)), analytic
    kl_per_dim: torch.Tensor
    tc: torch.Tensor | None = None  # total correlation estimate (β-TCVAE, FactorVAE)
    capacity: float | None = None  # C the KL is held at (AnnealedVAE, capacity schedule)
    codes: torch.Tensor | None = None  # (B, d) the sampled z, for a FactorVAE's discriminator


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


def images_to_tensor(
    images: np.ndarray | PackedImages | DiskImages,
) -> torch.Tensor | PackedTensor | DiskTensor:
    """Dataset layout (N, H, W) or (N, H, W, C) uint8 -> model layout (N, C, H, W) uint8.

    Kept as uint8 (4× smaller than float); scale batches with `x.float() / 255`.
    Packed images stay packed: a PackedTensor, whose slices are (n, 1, H, W) uint8;
    images on disk stay there: a DiskTensor, whose slices are read from the file.
    """
    if isinstance(images, PackedImages):
        return PackedTensor.from_images(images)
    if isinstance(images, DiskImages):
        return DiskTensor(images)
    return model_layout(images)

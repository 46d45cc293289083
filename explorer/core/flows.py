"""Planar flows: a posterior richer than a diagonal Gaussian (Rezende & Mohamed 2015).

"Variational Inference with Normalizing Flows" (ICML 2015) draws z₀ from the encoder's
Gaussian q₀(z|x) = N(μ, diag σ²) and pushes it through K planar maps

    f(z) = z + u · tanh(wᵀz + b),   |det ∂f/∂z| = |1 + uᵀψ(z)|,  ψ(z) = tanh′(wᵀz + b) · w,

so that z_K = f_K ∘ … ∘ f_1(z₀) has the density

    log q_K(z_K|x) = log q₀(z₀|x) − Σ_k log |1 + u_kᵀψ_k(z_{k−1})|.

The flow's parameters (u, w, b of each step) come from the encoder, one set per image
(amortised, as in the paper's experiments). A planar map is invertible when wᵀu ≥ −1;
`planar_parameters` enforces it as the paper's appendix does, replacing u by
û = u + (m(wᵀu) − wᵀu) · w/‖w‖², m(a) = −1 + softplus(a), so wᵀû = m(wᵀu) > −1.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F


def parameter_count(latent_dim: int, steps: int) -> int:
    """How many numbers per image the encoder outputs for `steps` planar maps."""
    return steps * (2 * latent_dim + 1)


def planar_parameters(
    raw: torch.Tensor, latent_dim: int
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """The encoder's raw output (B, K·(2d + 1)) -> u (B, K, d) with wᵀu > −1, w (B, K, d),
    b (B, K)."""
    d = latent_dim
    p = raw.unflatten(-1, (-1, 2 * d + 1))
    u, w, b = p[..., :d], p[..., d : 2 * d], p[..., 2 * d]
    wu = (w * u).sum(-1, keepdim=True)
    # ‖w‖² is floored so that w = 0 (a map that is the identity) divides by no zero
    u_hat = u + (-1 + F.softplus(wu) - wu) * w / w.square().sum(-1, keepdim=True).clamp_min(1e-12)
    return u_hat, w, b


def planar_step(
    z: torch.Tensor, u: torch.Tensor, w: torch.Tensor, b: torch.Tensor
) -> tuple[torch.Tensor, torch.Tensor]:
    """One planar map of codes z: (..., B, d) with u, w: (B, d), b: (B,) ->
    (f(z): (..., B, d), log |det ∂f/∂z|: (..., B))."""
    a = (z * w).sum(-1) + b
    h = torch.tanh(a)
    z_next = z + u * h.unsqueeze(-1)
    psi_u = (1 - h.square()) * (w * u).sum(-1)  # ψ(z)ᵀu = tanh′(a) · wᵀu
    return z_next, torch.log((1 + psi_u).abs().clamp_min(1e-12))


def flow(
    z0: torch.Tensor, u: torch.Tensor, w: torch.Tensor, b: torch.Tensor
) -> tuple[torch.Tensor, torch.Tensor]:
    """All K maps: z0 (..., B, d), u, w (B, K, d), b (B, K) -> (z_K (..., B, d),
    Σ_k log |det ∂f_k/∂z| (..., B))."""
    z, log_det = z0, z0.new_zeros(z0.shape[:-1])
    for k in range(u.shape[-2]):
        z, step = planar_step(z, u[:, k], w[:, k], b[:, k])
        log_det = log_det + step
    return z, log_det


def flow_jacobian(
    z0: torch.Tensor, u: torch.Tensor, w: torch.Tensor, b: torch.Tensor
) -> torch.Tensor:
    """∂z_K/∂z₀ at z0 (B, d), by the chain rule of the planar maps: (B, d, d). Each map's
    Jacobian is I + u ψ(z)ᵀ."""
    z = z0
    jac = torch.eye(z0.shape[-1], dtype=z0.dtype, device=z0.device).expand(len(z0), -1, -1)
    for k in range(u.shape[-2]):
        uk, wk, bk = u[:, k], w[:, k], b[:, k]
        slope = 1 - torch.tanh((z * wk).sum(-1) + bk).square()  # tanh′(wᵀz + b): (B,)
        step = torch.eye(z.shape[-1], dtype=z.dtype, device=z.device) + uk[:, :, None] * (
            slope[:, None, None] * wk[:, None, :]
        )
        jac = step @ jac
        z, _ = planar_step(z, uk, wk, bk)
    return jac


def linearised(
    mu: torch.Tensor, logvar: torch.Tensor, u: torch.Tensor, w: torch.Tensor, b: torch.Tensor
) -> tuple[torch.Tensor, torch.Tensor]:
    """A diagonal Gaussian summary of q_K(z|x), for what reads a posterior as (mu, logvar)
    (the plot's codes, the sliders, active units): its centre f(μ), the flow applied to the
    base mean, and the log of the diagonal of J diag(σ²) Jᵀ, the covariance of the flow
    linearised at μ (J = ∂z_K/∂z₀). mu, logvar: (B, d) -> (B, d), (B, d)."""
    centre, _ = flow(mu, u, w, b)
    jac = flow_jacobian(mu, u, w, b)
    var = (jac.square() * logvar.exp()[:, None, :]).sum(-1)
    return centre, torch.log(var.clamp_min(1e-30))

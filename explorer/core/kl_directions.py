"""Forward against reverse KL: one Gaussian q fitted to a two-mode target p both ways.

The target p is a mixture of two 2-D Gaussians of one shape (a shared covariance)
whose means lie `separation` apart. q = N(m, S) is a Gaussian with a full covariance,
fitted

- by the *reverse* KL, argmin_q KL(q‖p) = E_q[log q − log p]: q is penalised wherever
  it puts mass that p lacks, and only by log(1/w) for a mode it leaves out (w the weight
  of the mode it covers), so once the modes are apart it settles on one of them
  (mode-seeking). It has no closed form; it is minimised by BFGS from a start on each
  mode, keeping the lower.
- by the *forward* KL, argmin_q KL(p‖q) = −H(p) − E_p[log q]: q is penalised wherever p
  has mass that q lacks, so it spreads over both modes (mass-covering). For a Gaussian q
  the minimiser is moment matching, in closed form: m the mixture's mean, S its
  covariance (E_p[log q] depends on p through its first two moments alone).

The covariance is full rather than diagonal because the forward fit's covariance is the
mixture's, tilted along the line joining the modes; a diagonal q (as a VAE's encoder
has) could only match its two axis variances, and a reverse fit could not lie along a
tilted mode. A VAE's encoder is fitted the reverse way: the ELBO is
log p(x) − KL(q(z|x)‖p(z|x)), so raising it lowers KL(q‖p) over q.

Every expectation of log p under a Gaussian is exact up to a 1-D integral: with a
shared covariance the log-ratio of the two parts, r(z) = log(w₁N₁(z) / w₀N₀(z)) = αᵀz + β,
is linear, so log p(z) = log w₀N₀(z) + softplus(r(z)); the first term's expectation is
a Gaussian cross-entropy and the second's depends on z only through the scalar r(z),
itself Gaussian under q. That integral is taken by the trapezoid rule, which converges
exponentially for softplus (analytic in a strip of half-width π) against a Gaussian, so
the fits and the numbers shown are exact to far below what is drawn, and deterministic.

Shapes: points (..., 2), means (2, 2), covariances (2, 2), weights (2,).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

_MAX_STEPS = 200  # BFGS steps; a fit from a mode's start takes under twenty
_GRAD_TOL = 1e-7  # stop once every partial derivative is below this (nats per unit);
# rounding in the 1-D integral leaves a floor near 1e-8
_SPAN = 10.0  # the 1-D integral runs over ±this many standard deviations
_SPACING = 0.2  # its node spacing in units of r: the error is about exp(−2π²/spacing)
_MAX_NODES = 20_001  # exact as above up to sd = 200, beyond any fit the view shows
_MAX_STEP = 1.0  # the most a BFGS step moves any parameter (log-scales included)


@dataclass(frozen=True)
class Gaussian:
    """N(mean, cov) in 2-D: mean (2,), cov (2, 2)."""

    mean: np.ndarray
    cov: np.ndarray


@dataclass(frozen=True)
class TwoModes:
    """p(z) = w₀ N(z; μ₀, Σ) + w₁ N(z; μ₁, Σ): means (2, 2), cov (2, 2), weights (2,)."""

    means: np.ndarray
    cov: np.ndarray
    weights: np.ndarray

    def component(self, k: int) -> Gaussian:
        return Gaussian(self.means[k], self.cov)

    def log_density(self, z: np.ndarray) -> np.ndarray:
        """log p(z): z (..., 2) -> (...,)."""
        alpha, beta = self.log_ratio()
        z = np.asarray(z, np.float64)
        return self._log_first(z) + np.logaddexp(0.0, z @ alpha + beta)

    def log_ratio(self) -> tuple[np.ndarray, float]:
        """(α (2,), β) with log(w₁N₁(z) / w₀N₀(z)) = αᵀz + β."""
        prec = np.linalg.inv(self.cov)
        m0, m1 = self.means
        alpha = prec @ (m1 - m0)
        w0, w1 = self.weights
        return alpha, float(np.log(w1 / w0) - 0.5 * (m1 @ prec @ m1 - m0 @ prec @ m0))

    def moments(self) -> Gaussian:
        """The mixture's mean and covariance (its first two moments)."""
        mean = self.weights @ self.means
        spread = np.einsum("k,ki,kj->ij", self.weights, self.means, self.means)
        return Gaussian(mean, self.cov + spread - np.outer(mean, mean))

    def _log_first(self, z: np.ndarray) -> np.ndarray:
        """log(w₀ N₀(z)): z (..., 2) -> (...,)."""
        d = z - self.means[0]
        maha = np.sum((d @ np.linalg.inv(self.cov)) * d, axis=-1)
        logdet = np.linalg.slogdet(self.cov)[1]
        return np.log(self.weights[0]) - np.log(2 * np.pi) - 0.5 * (logdet + maha)


@dataclass(frozen=True)
class TargetShape:
    """The two modes of the target, apart from their distance (the slider's)."""

    weights: tuple[float, float] = (0.6, 0.4)  # unequal, so the reverse fit has one best mode
    angle: float = 25.0  # degrees: the line through the two means, from the x-axis
    stds: tuple[float, float] = (0.9, 0.45)  # each mode's standard deviations along its axes
    tilt: float = 70.0  # degrees: each mode's long axis, from the x-axis


def bimodal(separation: float, shape: TargetShape = TargetShape()) -> TwoModes:
    """The target: two Gaussians of the same shape, their means `separation` apart on a
    line through the origin at `shape.angle`, placed so the mixture's mean is 0."""
    a, t = np.radians(shape.angle), np.radians(shape.tilt)
    w = np.asarray(shape.weights, np.float64)
    direction = np.array([np.cos(a), np.sin(a)])
    # offsets along `direction` with weighted mean 0: w₀o₀ + w₁o₁ = 0, o₀ − o₁ = separation
    offsets = np.array([w[1], -w[0]]) * separation
    rot = np.array([[np.cos(t), -np.sin(t)], [np.sin(t), np.cos(t)]])
    cov = rot @ np.diag(np.square(shape.stds)) @ rot.T
    return TwoModes(offsets[:, None] * direction, cov, w)


def _mean_softplus(mu: float, sd: float) -> tuple[float, float, float]:
    """E[softplus(s)] for s ~ N(mu, sd²), and its derivatives in mu and in sd."""
    if sd < 1e-12:
        return float(np.logaddexp(0.0, mu)), float(1 / (1 + np.exp(-mu))), 0.0
    n = min(2 * int(np.ceil(_SPAN / min(_SPACING / sd, 0.25))) + 1, _MAX_NODES)  # over ±_SPAN
    v, h = np.linspace(-_SPAN, _SPAN, n, retstep=True)
    weight = np.exp(-0.5 * v * v) * h / np.sqrt(2 * np.pi)
    s = mu + sd * v
    sig = 0.5 * (1 + np.tanh(0.5 * s))  # softplus' derivative, without overflow
    return (
        float(weight @ np.logaddexp(0.0, s)),
        float(weight @ sig),
        float(weight @ (sig * v)),
    )


def _cross_entropy(q: Gaussian, p: Gaussian) -> float:
    """−E_{z~q}[log p(z)] for two Gaussians, exact."""
    prec = np.linalg.inv(p.cov)
    d = q.mean - p.mean
    return float(
        np.log(2 * np.pi)
        + 0.5 * (np.linalg.slogdet(p.cov)[1] + np.trace(prec @ q.cov) + d @ prec @ d)
    )


def _entropy(q: Gaussian) -> float:
    """H(q) = ½ log det(2πe S), in 2-D."""
    return float(np.log(2 * np.pi * np.e) + 0.5 * np.linalg.slogdet(q.cov)[1])


def _expect_log_p(p: TwoModes, q: Gaussian) -> float:
    """E_{z~q}[log p(z)] = log w₀ − CE(q, N₀) + E_q[softplus(αᵀz + β)]."""
    alpha, beta = p.log_ratio()
    soft = _mean_softplus(alpha @ q.mean + beta, float(np.sqrt(alpha @ q.cov @ alpha)))[0]
    return float(np.log(p.weights[0]) - _cross_entropy(q, p.component(0)) + soft)


def reverse_kl(q: Gaussian, p: TwoModes) -> float:
    """KL(q‖p) = −H(q) − E_q[log p], in nats."""
    return -_entropy(q) - _expect_log_p(p, q)


def forward_kl(p: TwoModes, q: Gaussian) -> float:
    """KL(p‖q) = Σ_k w_k (E_{N_k}[log p] + CE(N_k, q)), in nats."""
    return sum(
        w * (_expect_log_p(p, p.component(k)) + _cross_entropy(p.component(k), q))
        for k, w in enumerate(p.weights)
    )


def _unpack(theta: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """θ = (m₀, m₁, log L₀₀, L₁₀, log L₁₁) -> mean (2,), Cholesky factor L (2, 2) of S."""
    chol = np.array([[np.exp(theta[2]), 0.0], [theta[3], np.exp(theta[4])]])
    return theta[:2], chol


def _pack(q: Gaussian) -> np.ndarray:
    chol = np.linalg.cholesky(q.cov)
    return np.array([*q.mean, np.log(chol[0, 0]), chol[1, 0], np.log(chol[1, 1])])


def _reverse_objective(theta: np.ndarray, p: TwoModes) -> tuple[float, np.ndarray]:
    """KL(q_θ‖p) up to a constant, and its gradient in θ.

    With S = L Lᵀ, P = Σ⁻¹, s = αᵀz + β ~ N(αᵀm + β, σ²), σ = |Lᵀα|:
    ∂/∂m KL = P(m − μ₀) − α E[sigmoid(s)],
    ∂/∂L KL = −L⁻ᵀ + P L − (∂E[softplus(s)]/∂σ / σ) α αᵀ L.
    """
    mean, chol = _unpack(theta)
    alpha, beta = p.log_ratio()
    prec = np.linalg.inv(p.cov)
    sd = float(np.linalg.norm(chol.T @ alpha))
    soft, d_mu, d_sd = _mean_softplus(alpha @ mean + beta, sd)
    d = mean - p.means[0]
    kl = -theta[2] - theta[4] + 0.5 * (np.sum(chol * (prec @ chol)) + d @ prec @ d) - soft
    d_mean = prec @ d - alpha * d_mu
    d_chol = prec @ chol - (d_sd / sd if sd > 1e-12 else 0.0) * np.outer(alpha, alpha) @ chol
    grad = np.array(
        [
            *d_mean,
            d_chol[0, 0] * chol[0, 0] - 1.0,
            d_chol[1, 0],
            d_chol[1, 1] * chol[1, 1] - 1.0,
        ]
    )
    return float(kl), grad


def _bfgs(theta: np.ndarray, p: TwoModes) -> np.ndarray:
    """Minimise `_reverse_objective` from `theta` by BFGS with a backtracking line search."""
    f, g = _reverse_objective(theta, p)
    h = np.eye(len(theta)) / max(1.0, float(np.abs(g).max()))  # a first step of size ≤ 1
    eye = np.eye(len(theta))
    for _ in range(_MAX_STEPS):
        if np.abs(g).max() < _GRAD_TOL:
            break
        step = -h @ g
        t = min(1.0, _MAX_STEP / float(np.abs(step).max()))  # a trial never leaps to a huge q
        while True:  # Armijo: a step that lowers f by a share of what the slope promised
            new = theta + t * step
            f_new, g_new = _reverse_objective(new, p)
            if f_new <= f + 1e-4 * t * (g @ step):
                break
            t *= 0.5
            if t < 1e-6:  # no step lowers f: as low as rounding allows
                return theta
        s, y = new - theta, g_new - g
        theta, f, g = new, f_new, g_new
        sy = s @ y
        if sy > 1e-14:  # keeps h positive definite
            rho = 1.0 / sy
            h = (eye - rho * np.outer(s, y)) @ h @ (eye - rho * np.outer(y, s))
            h += rho * np.outer(s, s)
    return theta


def fit_reverse(p: TwoModes) -> Gaussian:
    """argmin_q KL(q‖p) over full-covariance Gaussians: the lower of the fits started on
    each mode (once the modes are apart the objective has a local minimum on each;
    started from fixed points, the answer does not depend on what was fitted before)."""
    fits = []
    for k in range(len(p.weights)):
        mean, chol = _unpack(_bfgs(_pack(p.component(k)), p))
        fits.append(Gaussian(mean, chol @ chol.T))
    return min(fits, key=lambda q: reverse_kl(q, p))


def fit_forward(p: TwoModes) -> Gaussian:
    """argmin_q KL(p‖q) over Gaussians: moment matching, the mixture's mean and covariance."""
    return p.moments()


@dataclass(frozen=True)
class Fits:
    """Both fits of one target, and each one's KL both ways (nats)."""

    target: TwoModes
    reverse: Gaussian  # argmin KL(q‖p)
    forward: Gaussian  # argmin KL(p‖q)
    reverse_kls: tuple[float, float]  # (KL(q‖p), KL(p‖q)) of the reverse fit
    forward_kls: tuple[float, float]  # the same of the forward fit


def fit_both(separation: float, shape: TargetShape = TargetShape()) -> Fits:
    """The target for `separation` and its two fits."""
    p = bimodal(separation, shape)
    rev, fwd = fit_reverse(p), fit_forward(p)
    return Fits(
        p,
        rev,
        fwd,
        (reverse_kl(rev, p), forward_kl(p, rev)),
        (reverse_kl(fwd, p), forward_kl(p, fwd)),
    )


def density_grid(p: TwoModes, extent: float, size: int) -> np.ndarray:
    """p on a size × size grid over [−extent, extent]²: (size, size), rows along y."""
    axis = np.linspace(-extent, extent, size)
    ys, xs = np.meshgrid(axis, axis, indexing="ij")
    return np.exp(p.log_density(np.stack([xs, ys], axis=-1)))

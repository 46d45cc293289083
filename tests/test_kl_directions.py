"""The two KL fits against their definitions, and the KL figures against a grid integral."""

from __future__ import annotations

import numpy as np
import pytest

from explorer.core.kl_directions import (
    Gaussian,
    TargetShape,
    bimodal,
    fit_both,
    fit_forward,
    fit_reverse,
    forward_kl,
    reverse_kl,
)

_AXIS = np.linspace(-16.0, 16.0, 1281)  # a grid far past every density's tails
_CELL = (_AXIS[1] - _AXIS[0]) ** 2
_XS, _YS = np.meshgrid(_AXIS, _AXIS)
_Z = np.stack([_XS, _YS], axis=-1)


def log_gauss(mean: np.ndarray, cov: np.ndarray) -> np.ndarray:
    """log N(z; mean, cov) on the grid, written out from the definition."""
    d = _Z - mean
    inv = np.linalg.inv(cov)
    maha = inv[0, 0] * d[..., 0] ** 2 + 2 * inv[0, 1] * d[..., 0] * d[..., 1]
    maha += inv[1, 1] * d[..., 1] ** 2
    return -np.log(2 * np.pi) - 0.5 * np.log(np.linalg.det(cov)) - 0.5 * maha


def log_target(separation: float) -> np.ndarray:
    """log p on the grid: log(w₀N₀ + w₁N₁), summed directly (no log-ratio trick)."""
    p = bimodal(separation)
    parts = [np.log(w) + log_gauss(m, p.cov) for w, m in zip(p.weights, p.means, strict=True)]
    return np.logaddexp(*parts)


def grid_kl(log_a: np.ndarray, log_b: np.ndarray) -> float:
    """KL(a‖b) = ∫ a log(a/b) by a Riemann sum on the grid."""
    return float(np.sum(np.exp(log_a) * (log_a - log_b)) * _CELL)


@pytest.mark.parametrize("separation", [0.0, 1.5, 3.0, 5.0])
def test_the_kl_figures_match_a_grid_integral(separation):
    fits = fit_both(separation)
    log_p = log_target(separation)
    for q, (rev, fwd) in ((fits.reverse, fits.reverse_kls), (fits.forward, fits.forward_kls)):
        log_q = log_gauss(q.mean, q.cov)
        assert rev == pytest.approx(grid_kl(log_q, log_p), abs=1e-6)
        assert fwd == pytest.approx(grid_kl(log_p, log_q), abs=1e-6)


def test_far_apart_the_reverse_fit_sits_on_one_mode():
    """Mode-seeking: on the heavier mode, its own shape, and KL(q‖p) ≈ −log w (the other
    mode's mass left out costs only that); the forward KL of that fit is huge."""
    p = bimodal(7.0)
    q = fit_reverse(p)
    assert np.allclose(q.mean, p.means[0], atol=1e-3)
    assert np.allclose(q.cov, p.cov, atol=1e-3)
    assert reverse_kl(q, p) == pytest.approx(-np.log(0.6), abs=1e-3)
    assert forward_kl(p, q) > 10


def test_the_mode_taken_is_the_heavier_one():
    shape = TargetShape(weights=(0.3, 0.7))
    p = bimodal(7.0, shape)
    assert np.allclose(fit_reverse(p).mean, p.means[1], atol=1e-3)


def test_the_forward_fit_is_the_mixtures_mean_and_covariance():
    """Mass-covering: between the modes, with p's own first two moments, measured on
    the grid from the density itself."""
    p_on_grid = np.exp(log_target(4.0)) * _CELL
    mean = np.einsum("ij,ijk->k", p_on_grid, _Z)
    d = _Z - mean
    cov = np.einsum("ij,ijk,ijl->kl", p_on_grid, d, d)
    q = fit_forward(bimodal(4.0))
    assert np.allclose(q.mean, mean, atol=1e-6)
    assert np.allclose(q.cov, cov, atol=1e-6)
    m0, m1 = bimodal(4.0).means  # on the segment between the modes, at the weights' share
    assert np.allclose(q.mean, 0.6 * m0 + 0.4 * m1)


def nudged(q: Gaussian, step: float) -> list[Gaussian]:
    """q with its mean moved and its covariance stretched, each way, by `step`."""
    signs = (step, -step)
    out = [Gaussian(q.mean + s * e, q.cov) for e in np.eye(2) for s in signs]
    for a in (np.array([[1, 0], [0, 0]]), np.array([[0, 1], [1, 0]]), np.array([[0, 0], [0, 1]])):
        out += [Gaussian(q.mean, q.cov + s * a) for s in signs]
    return out


@pytest.mark.parametrize("separation", [1.0, 2.5, 4.0])
def test_each_fit_is_a_minimum_of_its_own_kl(separation):
    fits = fit_both(separation)
    p = fits.target
    for q in nudged(fits.reverse, 0.02):
        assert reverse_kl(q, p) > fits.reverse_kls[0]
    for q in nudged(fits.forward, 0.02):
        assert forward_kl(p, q) > fits.forward_kls[1]
    # and each scores lower than the other fit on the direction it minimises
    assert fits.reverse_kls[0] <= fits.forward_kls[0] + 1e-9
    assert fits.forward_kls[1] <= fits.reverse_kls[1] + 1e-9


def test_close_together_the_reverse_fit_spans_both_modes_too():
    """With the modes overlapping, p has one peak and the reverse fit sits between the
    means; apart, it jumps to one: the picture the slider shows."""
    near, far = fit_both(1.0), fit_both(4.0)
    assert np.linalg.norm(near.reverse.mean - near.forward.mean) < 0.05
    assert np.linalg.norm(far.reverse.mean - far.target.means[0]) < 0.05
    same = fit_both(0.0)  # one Gaussian: both fits are it, both KLs zero
    for q in (same.reverse, same.forward):
        assert np.allclose(q.mean, 0, atol=1e-6) and np.allclose(q.cov, same.target.cov)
    assert np.allclose([*same.reverse_kls, *same.forward_kls], 0, atol=1e-6)

"""q(z|x) on the plane: the projected covariance, its ellipses and samples."""

from __future__ import annotations

import numpy as np

from explorer.core.posterior import (
    ellipse_outlines,
    joined,
    plane_gaussian,
    posterior_samples,
)
from explorer.core.projection import dims_plane, pca_plane


def test_on_a_dims_plane_the_axes_are_the_two_sigmas():
    mu, sigma = np.array([0.5, -1.0, 2.0]), np.array([0.3, 0.9, 0.1])
    centre, cov = plane_gaussian(dims_plane(3, 2, 0), mu, 2 * np.log(sigma))
    assert np.allclose(centre, [2.0, 0.5])
    assert np.allclose(cov, np.diag([0.1**2, 0.3**2]))
    lam, vec = np.linalg.eigh(cov)  # the 1σ semi-axes, largest first
    lengths, directions = np.sqrt(lam[::-1]), vec[:, ::-1]
    assert np.allclose(lengths, [0.3, 0.1])
    assert np.allclose(np.abs(directions[:, 0]), [0, 1])  # the long axis is the plot's y
    outline = ellipse_outlines(centre[None], cov[None], 2.0)[0]
    assert np.allclose(outline.max(0) - outline.min(0), [4 * 0.1, 4 * 0.3])
    assert np.allclose(outline[0], outline[-1])  # closed


def test_on_a_rotated_plane_the_ellipse_matches_sampled_codes():
    rng = np.random.default_rng(1)
    plane = pca_plane(rng.normal(size=(500, 5)) @ rng.normal(size=(5, 5)))
    mu, logvar = rng.normal(size=5), rng.normal(size=5) - 1
    centre, cov = plane_gaussian(plane, mu, logvar)
    # Against sampling: project many codes from q(z|x) and measure their covariance.
    points = plane.to_plane(posterior_samples(mu, logvar, 200_000, seed=3))
    assert np.allclose(points.mean(0), centre, atol=0.01)
    assert np.allclose(np.cov(points.T), cov, rtol=0.03, atol=1e-3)
    # Every outline vertex is at Mahalanobis distance k.
    for k in (1.0, 2.0):
        d = ellipse_outlines(centre[None], cov[None], k)[0] - centre
        assert np.allclose(np.einsum("pi,ij,pj->p", d, np.linalg.inv(cov), d), k**2)


def test_many_ellipses_join_into_one_line_with_breaks():
    centres = np.array([[0.0, 0.0], [5.0, 5.0], [-3.0, 1.0]])
    covs = np.stack([np.eye(2) * s for s in (1.0, 0.5, 0.1)])
    outlines = ellipse_outlines(centres, covs, 1.0, points=16)
    line = joined(outlines)
    assert line.shape == (3 * 18, 2)
    assert np.isnan(line[17]).all() and np.isnan(line[-1]).all()
    for e, part in enumerate(np.split(line, 3)):
        assert np.allclose(part[:-2].mean(0), centres[e])  # 16 evenly spaced vertices


def test_samples_are_seeded():
    mu, logvar = np.zeros(4), np.zeros(4)
    a, b = posterior_samples(mu, logvar, 8, seed=7), posterior_samples(mu, logvar, 8, seed=7)
    assert np.array_equal(a, b) and a.shape == (8, 4)
    assert not np.array_equal(a, posterior_samples(mu, logvar, 8, seed=8))

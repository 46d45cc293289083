"""Per-point quantities to colour the plot by (core/per_point.py), against direct sums."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from explorer.core.config import ModelConfig
from explorer.core.kinds import build_model
from explorer.core.model import images_to_tensor
from explorer.core.per_point import (
    KL,
    RECON,
    SIGMA,
    available,
    point_kl,
    point_sigma,
    point_values,
    reconstruction_errors,
)


def test_kl_of_known_gaussians():
    # N(0, 1) is the prior: KL 0. N(1, 1) per dim: ½ μ² = 0.5 each. N(0, e²): ½ (e² - 1 - 2).
    mu = np.array([[0.0, 0.0], [1.0, 1.0], [0.0, 0.0]], np.float32)
    logvar = np.array([[0.0, 0.0], [0.0, 0.0], [2.0, 0.0]], np.float32)
    kl = point_kl(mu, logvar)
    np.testing.assert_allclose(kl, [0.0, 1.0, 0.5 * (np.e**2 - 3.0)], rtol=1e-6)


def test_sigma_is_the_mean_over_dimensions():
    logvar = np.log(np.array([[1.0, 4.0], [0.25, 0.25]], np.float32))  # σ² → σ = 1, 2 / ½, ½
    np.testing.assert_allclose(point_sigma(logvar), [1.5, 0.5], rtol=1e-6)


def test_reconstruction_error_of_a_known_reconstruction(monkeypatch):
    model = build_model(ModelConfig(image_shape=(1, 4, 4), latent_dim=2, hidden=(8,)))
    # a decoder that returns 0.5 everywhere: the error of an image is Σ (x - ½)²
    monkeypatch.setattr(model, "decode", lambda z, y=None: torch.full((len(z), 1, 4, 4), 0.5))
    images = np.zeros((5, 4, 4), np.uint8)
    images[1] = 255
    images[2, 0, 0] = 255
    err = reconstruction_errors(model, images_to_tensor(images), np.zeros((5, 2), np.float32))
    assert err.shape == (5,) and err.dtype == np.float32
    np.testing.assert_allclose(err[:3], [16 * 0.25, 16 * 0.25, 16 * 0.25], rtol=1e-6)


def test_reconstruction_error_in_passes_matches_one_pass(monkeypatch):
    """A pass of a few images at a time (a memory budget) gives the same values."""
    model = build_model(ModelConfig(image_shape=(1, 6, 6), latent_dim=2, hidden=(8,)))
    rng = np.random.default_rng(0)
    images = images_to_tensor(rng.integers(0, 256, (40, 6, 6), dtype=np.uint8))
    mu = rng.normal(size=(40, 2)).astype(np.float32)
    whole = reconstruction_errors(model, images, mu)
    monkeypatch.setattr("explorer.core.per_point.images_per_pass", lambda shape, most: 7)
    np.testing.assert_allclose(reconstruction_errors(model, images, mu), whole, rtol=1e-5)
    x = images.float() / 255
    direct = (x - model.decode(torch.from_numpy(mu))).square().flatten(1).sum(1)
    np.testing.assert_allclose(whole, direct.detach().numpy(), rtol=1e-5)


def test_a_deterministic_model_has_no_kl_or_sigma():
    ae = build_model(ModelConfig(kind="ae", image_shape=(1, 4, 4), latent_dim=2, hidden=(8,)))
    vae = build_model(ModelConfig(image_shape=(1, 4, 4), latent_dim=2, hidden=(8,)))
    assert available(ae) == (RECON,)
    assert available(vae) == (RECON, KL, SIGMA)
    images = images_to_tensor(np.zeros((3, 4, 4), np.uint8))
    codes = np.zeros((3, 2), np.float32)
    with pytest.raises(ValueError, match="KL"):
        point_values(KL, ae, images, codes, np.full((3, 2), -np.inf, np.float32))

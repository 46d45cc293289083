"""Metrics against cases whose answer is known."""

import numpy as np
import torch

from explorer.core.config import ModelConfig, TrainConfig
from explorer.core.kinds import build_model
from explorer.core.metrics import active_units, evaluate, iw_bound, kl_per_dim, report
from explorer.core.model import images_to_tensor
from explorer.core.training import train


def test_active_units_threshold():
    rng = np.random.default_rng(0)
    mu = np.stack([rng.normal(0, 1, 1000), rng.normal(0, 0.05, 1000), np.full(1000, 3.0)], 1)
    assert active_units(mu).tolist() == [True, False, False]  # var 1, 0.0025, 0


def test_kl_per_dim_is_zero_at_the_prior():
    mu, logvar = np.zeros((10, 3)), np.zeros((10, 3))
    mu[:, 2] = 2.0
    assert np.allclose(kl_per_dim(mu, logvar), [0, 0, 2.0])


def test_iw_bound_is_at_least_the_elbo(blobs):
    model = build_model(ModelConfig(image_shape=(1, 8, 8), latent_dim=2, hidden=(16,)))
    for _ in train(model, blobs, TrainConfig(epochs=30, batch_size=16, lr=3e-3)):
        pass  # a trained posterior is narrower than the prior, so k matters
    images = images_to_tensor(blobs.images)
    torch.manual_seed(0)
    elbo = np.mean([evaluate(model, images).elbo for _ in range(20)])
    torch.manual_seed(0)
    k1 = np.mean([iw_bound(model, images, k=1) for _ in range(20)])
    k50 = iw_bound(model, images, k=50)
    assert abs(k1 - elbo) < 0.1  # k = 1 is the ELBO, in expectation (noise ~0.02 here)
    assert k50 > elbo + 0.15  # more samples, tighter bound (measured gap ~0.3 nats)


def test_report_on_factor_data_includes_mig():
    from explorer.core.data import make_sprites

    data = make_sprites(300, seed=0)
    model = build_model(ModelConfig(image_shape=(1, 64, 64), latent_dim=4, hidden=(16,)))
    rep = report(model, data, iw_k=2, max_images=100)
    out = rep.to_dict()
    assert out["images"] == 100 and out["iw_k"] == 2
    factors = {"shape", "scale", "orientation", "x", "y"}
    assert set(out["mig_per_factor"]) == factors
    for metric in out["disentanglement"].values():  # each with the protocol it states
        assert set(metric["protocol"]["factors"]) == factors
        assert metric["protocol"]["points"] == 100
    assert 0 <= out["active_units"] <= 4

"""The VAE's pieces against their definitions."""

import math

import pytest
import torch

from explorer.core.config import ModelConfig
from explorer.core.kinds import build_model
from explorer.core.model import gaussian_kl, reconstruction_nll


def test_analytic_kl_matches_monte_carlo():
    torch.manual_seed(0)
    mu = torch.tensor([[0.5, -1.2, 0.0]])
    logvar = torch.tensor([[-0.7, 0.4, 0.0]])
    q = torch.distributions.Normal(mu, (0.5 * logvar).exp())
    p = torch.distributions.Normal(0.0, 1.0)
    z = q.sample((400_000,))
    mc = (q.log_prob(z) - p.log_prob(z)).mean(0)
    analytic = gaussian_kl(mu, logvar)
    assert torch.allclose(analytic, mc, atol=0.01)
    assert analytic[0, 2] == 0  # q = p on the last dimension


def test_gaussian_likelihood_is_the_normal_log_density():
    cfg = ModelConfig(image_shape=(1, 2, 2), likelihood="gaussian", gaussian_sigma=0.2)
    logits = torch.randn(3, 1, 2, 2)
    x = torch.rand(3, 1, 2, 2)
    expected = -torch.distributions.Normal(torch.sigmoid(logits), 0.2).log_prob(x).flatten(1).sum(1)
    assert torch.allclose(reconstruction_nll(logits, x, cfg), expected, atol=1e-5)


def test_bernoulli_likelihood_is_bce_of_the_sigmoid():
    cfg = ModelConfig(image_shape=(1, 2, 2))
    logits = torch.randn(3, 1, 2, 2)
    x = torch.rand(3, 1, 2, 2)
    p = torch.sigmoid(logits)
    expected = -(x * p.log() + (1 - x) * (1 - p).log()).flatten(1).sum(1)
    assert torch.allclose(reconstruction_nll(logits, x, cfg), expected, atol=1e-4)


@pytest.mark.parametrize(
    "cfg",
    [
        ModelConfig(latent_dim=1),
        ModelConfig(latent_dim=64, hidden=(64, 32)),
        ModelConfig(architecture="conv", hidden=(64,), latent_dim=3),
        ModelConfig(image_shape=(1, 64, 64), architecture="conv", hidden=(64,), latent_dim=10),
        ModelConfig(image_shape=(3, 30, 30), architecture="conv", hidden=(32,), latent_dim=4),
        ModelConfig(image_shape=(1, 64, 64), architecture="broadcast", hidden=(64,), latent_dim=10),
        ModelConfig(image_shape=(3, 30, 20), architecture="broadcast", hidden=(32,), latent_dim=4),
    ],
    ids=["mlp-z1", "mlp-z64", "conv28", "conv64", "conv-rgb30", "broadcast64", "broadcast-rgb"],
)
def test_shapes(cfg):
    model = build_model(cfg)
    x = torch.rand(4, *cfg.image_shape)
    mu, logvar = model.encode(x)
    assert mu.shape == logvar.shape == (4, cfg.latent_dim)
    img = model.decode(mu)
    assert img.shape == (4, *cfg.image_shape) and img.min() >= 0 and img.max() <= 1
    terms = model.loss(x, beta=1.0)
    assert terms.kl_per_dim.shape == (cfg.latent_dim,)
    assert torch.isclose(terms.kl, terms.kl_per_dim.sum())


def test_beta_weights_only_the_kl_term():
    model = build_model(ModelConfig(image_shape=(1, 8, 8), hidden=(16,)))
    x = torch.rand(5, 1, 8, 8)
    with torch.no_grad():
        torch.manual_seed(1)
        t0 = model.loss(x, beta=0.0)
        torch.manual_seed(1)
        t4 = model.loss(x, beta=4.0)
    assert torch.isclose(t0.total, t0.recon)  # β = 0: the autoencoder objective
    assert torch.isclose(t4.total, t4.recon + 4 * t4.kl)
    assert math.isclose(t0.recon.item(), t4.recon.item(), rel_tol=1e-6)


def test_same_seed_same_weights():
    cfg = ModelConfig(image_shape=(1, 8, 8), hidden=(16,))
    a, b, c = build_model(cfg, 5), build_model(cfg, 5), build_model(cfg, 6)
    for (_, pa), (_, pb) in zip(a.state_dict().items(), b.state_dict().items(), strict=True):
        assert torch.equal(pa, pb)
    assert not all(torch.equal(x, y) for x, y in zip(a.parameters(), c.parameters(), strict=True))

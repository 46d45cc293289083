"""The disentangling objectives against their definitions: β-TCVAE's split of the KL by
minibatch-weighted sampling, FactorVAE's shuffled codes and discriminator, AnnealedVAE's
capacity, and the KL schedules; then trained by the one loop."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from explorer.core.config import TrainConfig
from explorer.core.errors import ConfigError
from explorer.core.kinds import ModelSettings, build_model, model_config
from explorer.core.model import Weights, reconstruction_nll
from explorer.core.objectives import permute_dims, tc_decomposition
from explorer.core.schedules import Schedule
from explorer.core.training import train


def posterior_batch(m: int = 12, d: int = 3, seed: int = 0):
    """Codes z drawn from q(z|x) = N(mu, exp(logvar)) for a batch of m images, in float64."""
    g = torch.Generator().manual_seed(seed)
    mu = torch.randn(m, d, generator=g, dtype=torch.float64)
    logvar = torch.randn(m, d, generator=g, dtype=torch.float64) * 0.5 - 1.0
    z = mu + torch.exp(0.5 * logvar) * torch.randn(m, d, generator=g, dtype=torch.float64)
    return z, mu, logvar


def log_normal(x: float, mean: float, logvar: float) -> float:
    return -0.5 * (math.log(2 * math.pi) + logvar + (x - mean) ** 2 / math.exp(logvar))


def mws_by_loops(z, mu, logvar, n: int) -> tuple[float, float, float]:
    """MI, TC and dimension-wise KL by Chen et al.'s eq. 4, one code, posterior and
    dimension at a time."""
    z, mu, logvar = z.tolist(), mu.tolist(), logvar.tolist()
    m, d = len(z), len(z[0])
    mi = tc = dim_kl = 0.0
    for i in range(m):
        log_q_given_x = sum(log_normal(z[i][k], mu[i][k], logvar[i][k]) for k in range(d))
        log_prior = sum(log_normal(z[i][k], 0.0, 0.0) for k in range(d))
        joint = [
            sum(log_normal(z[i][k], mu[j][k], logvar[j][k]) for k in range(d)) for j in range(m)
        ]
        log_q = math.log(sum(math.exp(v) for v in joint)) - math.log(n * m)
        log_marginals = 0.0
        for k in range(d):
            per_j = [math.exp(log_normal(z[i][k], mu[j][k], logvar[j][k])) for j in range(m)]
            log_marginals += math.log(sum(per_j)) - math.log(n * m)
        mi += (log_q_given_x - log_q) / m
        tc += (log_q - log_marginals) / m
        dim_kl += (log_marginals - log_prior) / m
    return mi, tc, dim_kl


def test_the_kl_split_adds_up_to_the_batchs_kl_estimate():
    z, mu, logvar = posterior_batch()
    split = tc_decomposition(z, mu, logvar, dataset_size=1000)
    normal = torch.distributions.Normal
    log_q = normal(mu, torch.exp(0.5 * logvar)).log_prob(z).sum(1)
    log_p = normal(torch.zeros_like(z), torch.ones_like(z)).log_prob(z).sum(1)
    kl_estimate = (log_q - log_p).mean()  # the term the split decomposes
    assert float(split.mi + split.tc + split.dim_kl) == pytest.approx(float(kl_estimate), abs=1e-9)
    # and in float32, as training computes it
    split32 = tc_decomposition(z.float(), mu.float(), logvar.float(), dataset_size=1000)
    assert float(split32.kl) == pytest.approx(float(kl_estimate), abs=1e-4)


def test_minibatch_weighted_sampling_matches_a_direct_loop():
    z, mu, logvar = posterior_batch(m=9, d=4, seed=3)
    for n in (9, 60_000):  # the data's size enters the estimate of q(z)
        split = tc_decomposition(z, mu, logvar, dataset_size=n)
        mi, tc, dim_kl = mws_by_loops(z, mu, logvar, n)
        assert float(split.mi) == pytest.approx(mi, abs=1e-9)
        assert float(split.tc) == pytest.approx(tc, abs=1e-9)
        assert float(split.dim_kl) == pytest.approx(dim_kl, abs=1e-9)
    # N scales the aggregate posterior: log q(z) falls by log(N'/N), Π_j q(z_j) by d times
    # that, so MI rises by it and TC by (d − 1) times it
    small, large = (tc_decomposition(z, mu, logvar, n) for n in (10, 1000))
    assert float(large.mi - small.mi) == pytest.approx(math.log(100))
    assert float(large.tc - small.tc) == pytest.approx(3 * math.log(100))


def tiny_model(kind: str, dataset, latent_dim: int = 3):
    config = model_config(ModelSettings(kind, latent_dim=latent_dim, hidden=(16,)), dataset)
    return build_model(config, seed=0)


def the_same_draw(model, x, seed: int):
    """mu, logvar, z and the reconstruction term that `model.loss` draws under `seed`."""
    torch.manual_seed(seed)
    with torch.no_grad():
        mu, logvar = model.encode(x)
        z = mu + torch.randn_like(mu) * torch.exp(0.5 * logvar)
        recon = reconstruction_nll(model.decode_logits(z), x, model.config).mean()
    return mu, logvar, z, recon


def test_the_beta_tcvae_loss_weighs_each_part_of_the_kl(blobs):
    model = tiny_model("betatcvae", blobs)
    x = torch.from_numpy(blobs.images[:16]).float().div(255)[:, None]
    weights = Weights(alpha=0.5, gamma=2.0, dataset_size=54)
    torch.manual_seed(7)
    with torch.no_grad():
        terms = model.loss(x, 6.0, weights=weights)
    mu, logvar, z, recon = the_same_draw(model, x, 7)
    split = tc_decomposition(z, mu, logvar, 54)
    expected = recon + 0.5 * split.mi + 6.0 * split.tc + 2.0 * split.dim_kl
    assert float(terms.total) == pytest.approx(float(expected), rel=1e-5)
    assert float(terms.tc) == pytest.approx(float(split.tc), rel=1e-5)


def test_shuffling_keeps_each_dimension_and_breaks_their_dependence():
    g = torch.Generator().manual_seed(0)
    a = torch.randn(5000, generator=g)
    z = torch.stack([a, a + 0.1 * torch.randn(5000, generator=g), -a], 1)  # one factor, thrice
    shuffled = permute_dims(z, generator=g)
    for j in range(3):  # each column is a reordering of its own values: its marginal is kept
        assert torch.equal(shuffled[:, j].sort().values, z[:, j].sort().values)
    before = np.corrcoef(z.T.numpy())
    after = np.corrcoef(shuffled.T.numpy())
    assert before[0, 1] > 0.99 and before[0, 2] < -0.99
    off_diagonal = after[~np.eye(3, dtype=bool)]
    assert np.abs(off_diagonal).max() < 0.05  # the columns no longer move together


def test_the_factorvae_loss_adds_gamma_times_the_discriminators_logit_difference(blobs):
    model = tiny_model("factorvae", blobs)
    x = torch.from_numpy(blobs.images[:16]).float().div(255)[:, None]
    torch.manual_seed(3)
    with torch.no_grad():
        terms = model.loss(x, 1.0, weights=Weights(gamma=10.0))
    mu, logvar, z, recon = the_same_draw(model, x, 3)
    with torch.no_grad():
        logits = model.discriminator(z)
        kl = (0.5 * (mu.square() + logvar.exp() - 1 - logvar)).sum(1).mean()
    tc = (logits[:, 0] - logits[:, 1]).mean()  # log D(z) / (1 − D(z)) with two logits
    assert float(terms.tc) == pytest.approx(float(tc), rel=1e-5, abs=1e-6)
    assert float(terms.total) == pytest.approx(float(recon + kl + 10.0 * tc), rel=1e-5)


def test_the_discriminator_learns_the_total_correlation_of_correlated_codes():
    """For a 2-d Gaussian with correlation ρ, TC = −½ log(1 − ρ²): 0.83 nats at ρ = 0.9.
    D trained on such codes (its loss, its optimiser's settings) estimates it; on
    independent codes it finds about none. A narrower D than training's keeps it quick."""
    from explorer.core.objectives import DISCRIMINATOR_BETAS, Discriminator

    torch.manual_seed(0)
    rho = 0.9
    cov = torch.tensor([[1.0, rho], [rho, 1.0]])
    correlated = torch.distributions.MultivariateNormal(torch.zeros(2), cov)
    estimates = {}
    for name, draw in (
        ("correlated", lambda: correlated.sample((256,))),
        ("independent", lambda: torch.randn(256, 2)),
    ):
        d = Discriminator(2, hidden=(64, 64))
        opt = torch.optim.Adam(d.parameters(), lr=3e-3, betas=DISCRIMINATOR_BETAS)
        for _ in range(200):
            loss = d.loss(draw())
            opt.zero_grad()
            loss.backward()
            opt.step()
        with torch.no_grad():
            estimates[name] = float(d.tc(draw()))
    true_tc = -0.5 * math.log(1 - rho**2)
    assert 0.5 * true_tc < estimates["correlated"] < 1.5 * true_tc, estimates
    assert abs(estimates["independent"]) < 0.15, estimates


@pytest.mark.parametrize("capacity", [2.0, 50.0])  # below and above the batch's KL
def test_the_annealed_loss_holds_the_kl_at_the_capacity(blobs, capacity):
    model = tiny_model("annealedvae", blobs)
    x = torch.from_numpy(blobs.images[:16]).float().div(255)[:, None]
    torch.manual_seed(5)
    with torch.no_grad():
        terms = model.loss(x, 1.0, weights=Weights(gamma=1000.0, capacity=capacity))
    mu, logvar, _, recon = the_same_draw(model, x, 5)
    kl = float((0.5 * (mu.square() + logvar.exp() - 1 - logvar)).sum(1).mean())
    assert float(terms.total) == pytest.approx(float(recon) + 1000.0 * abs(kl - capacity), rel=1e-5)
    assert terms.capacity == capacity and float(terms.kl) == pytest.approx(kl, rel=1e-5)


def test_the_capacity_schedule_of_a_vae_weighs_the_held_kl_by_beta(blobs):
    model = tiny_model("vae", blobs)
    x = torch.from_numpy(blobs.images[:16]).float().div(255)[:, None]
    torch.manual_seed(5)
    with torch.no_grad():
        terms = model.loss(x, 4.0, weights=Weights(gamma=1000.0, capacity=3.0))
    mu, logvar, _, recon = the_same_draw(model, x, 5)
    kl = float((0.5 * (mu.square() + logvar.exp() - 1 - logvar)).sum(1).mean())
    assert float(terms.total) == pytest.approx(float(recon) + 4.0 * abs(kl - 3.0), rel=1e-5)


def schedule(kind: str, steps_per_epoch: int = 10, epochs: int = 8, **settings) -> Schedule:
    config = TrainConfig(epochs=epochs, kl_schedule=kind, **settings).validate()
    return Schedule(kind, steps_per_epoch, steps_per_epoch * epochs, config)


def test_the_schedules_at_known_steps():
    warm = schedule("warmup", warmup_epochs=2)  # 20 steps of ramp
    assert [warm.factor(s) for s in (0, 5, 10, 20, 79)] == [0.0, 0.25, 0.5, 1.0, 1.0]
    assert schedule("warmup").factor(0) == 1.0  # no warm-up: a constant β
    # Fu et al.: 80 steps in 4 cycles of 20, each ramping over its first half (10 steps)
    cyc = schedule("cyclical", cycles=4, cycle_ramp=0.5)
    steps = (0, 5, 10, 19, 20, 25, 45, 60, 75)
    assert [cyc.factor(s) for s in steps] == [0, 0.5, 1, 1, 0, 0.5, 0.5, 0, 1]
    quarter = schedule("cyclical", cycles=2, cycle_ramp=0.25)  # 40-step cycles, 10 to ramp
    assert [quarter.factor(s) for s in (0, 4, 10, 39, 40, 42)] == [0, 0.4, 1, 1, 0, 0.2]
    assert all(cyc.capacity(s) is None for s in steps)
    # capacity: C from 0 to C_max over the ramp's epochs, or over the whole run (80 steps)
    cap = schedule("capacity", c_max=20.0, capacity_epochs=2)
    assert [cap.capacity(s) for s in (0, 5, 10, 20, 70)] == [0, 5, 10, 20, 20]
    whole = schedule("capacity", c_max=20.0)
    assert [whole.capacity(s) for s in (0, 20, 40, 80)] == [0, 5, 10, 20]
    assert cap.factor(33) == 1.0  # the weight stays; the KL is held at C instead


def steps_of(kind: str, dataset, config: TrainConfig):
    model = tiny_model(kind, dataset)
    records = [r for r in train(model, dataset, config) if r.kind == "step"]
    return model, records


def test_each_objective_trains_in_the_one_loop_and_reports_its_terms(blobs):
    config = TrainConfig(epochs=2, batch_size=16, lr=3e-3, gamma=5.0, c_max=8.0)
    _, tcvae = steps_of("betatcvae", blobs, config)
    assert all(math.isfinite(r.tc) and math.isnan(r.capacity) for r in tcvae)
    _, annealed = steps_of("annealedvae", blobs, config)
    # 8 steps, C from 0 to 8 nats over them, reported as each step had it
    assert [r.capacity for r in annealed] == [0, 1, 2, 3, 4, 5, 6, 7]
    assert all(math.isnan(r.tc) for r in annealed)
    _, vae = steps_of("vae", blobs, config)
    assert all(math.isnan(r.tc) and math.isnan(r.capacity) for r in vae)


def test_the_discriminator_is_trained_by_its_own_optimiser_in_the_same_steps(blobs):
    model = tiny_model("factorvae", blobs)
    before = {k: v.clone() for k, v in model.state_dict().items()}
    config = TrainConfig(epochs=1, batch_size=16, gamma=10.0)
    records = [r for r in train(model, blobs, config) if r.kind == "step"]
    assert len(records) == 4 and all(math.isfinite(r.tc) for r in records)
    after = model.state_dict()
    changed = {k for k in before if not torch.equal(before[k], after[k])}
    assert any(k.startswith("discriminator.") for k in changed)  # D learned
    assert any(k.startswith("encoder.") for k in changed)  # and so did the VAE
    # the VAE's optimiser steps the encoder and decoder, D's optimiser D: each weight once
    objective = {id(p) for p in model.objective_parameters()}
    critic = {id(p) for p in model.discriminator.parameters()}
    assert not objective & critic and objective | critic == {id(p) for p in model.parameters()}


def test_the_capacity_schedule_is_refused_for_the_beta_tcvae(blobs):
    config = TrainConfig(epochs=1, kl_schedule="capacity")
    with pytest.raises(ConfigError, match="capacity schedule holds a single KL term"):
        list(train(tiny_model("betatcvae", blobs), blobs, config))

"""The sparse autoencoders and the planar-flow VAE against their definitions: the sparsity
penalties on a known code against a hand computation, and as the model's loss adds them;
the flow's log-determinant against autograd's Jacobian, its invertibility condition, its
log q(z|x) where the flow is the identity; each kind trained, saved and reopened; the
flow's importance-weighted bound at least its ELBO."""

import math

import numpy as np
import pytest
import torch
from torch.autograd.functional import jacobian

from explorer.cli import main
from explorer.core.checkpoint import Checkpoint, load_checkpoint, save_checkpoint
from explorer.core.config import ModelConfig, TrainConfig
from explorer.core.errors import ConfigError
from explorer.core.flows import flow, flow_jacobian, planar_parameters, planar_step
from explorer.core.kinds import build_model
from explorer.core.metrics import evaluate, iw_bound
from explorer.core.model import Weights, images_to_tensor, reconstruction_nll
from explorer.core.sparsity import firing, kl_penalty, l1_penalty
from explorer.core.training import train

SMALL = {"latent_dim": 3, "hidden": (32,)}


def fitted(kind: str, data, epochs: int = 1, **train_opts):
    steps = {"flow_steps": 3} if kind == "flowvae" else {}
    model = build_model(ModelConfig(kind=kind, **SMALL, **steps), seed=0)
    records = list(train(model, data, TrainConfig(epochs=epochs, batch_size=64, **train_opts)))
    assert records[-1].status == "completed", records[-1].message
    return model, records


# -- sparsity ---------------------------------------------------------------------------
def test_the_l1_penalty_is_the_mean_of_each_codes_absolute_sum():
    codes = torch.tensor([[1.0, -2.0, 0.0], [0.5, 0.0, 0.0]])
    assert float(l1_penalty(codes)) == pytest.approx((3.0 + 0.5) / 2)


def test_the_kl_penalty_matches_a_hand_computation():
    # unit means ρ̂ = (0.2, 0.5); with ρ = 0.05, by hand:
    # KL(0.05 ‖ 0.2) = 0.05 ln(0.05/0.2) + 0.95 ln(0.95/0.8) = 0.0939430
    # KL(0.05 ‖ 0.5) = 0.05 ln(0.05/0.5) + 0.95 ln(0.95/0.5) = 0.4946319
    codes = torch.tensor([[0.1, 0.5], [0.3, 0.5]])
    assert float(kl_penalty(codes, 0.05)) == pytest.approx(0.0939430 + 0.4946319, abs=1e-6)
    assert float(kl_penalty(torch.full((4, 3), 0.05), 0.05)) == pytest.approx(0.0, abs=1e-7)
    # a unit saturated on the whole batch costs a large but finite penalty
    assert math.isfinite(float(kl_penalty(torch.ones(4, 1), 0.05)))


@pytest.mark.parametrize(("kind", "rho"), [("sparseae", 0.05), ("sparseae-kl", 0.2)])
def test_the_sparse_loss_is_reconstruction_plus_lambda_times_the_penalty(tiny_digits, kind, rho):
    model = build_model(ModelConfig(kind=kind, **SMALL), seed=0)
    x = images_to_tensor(tiny_digits.images[:16]).float() / 255
    with torch.no_grad():
        code, _ = model.encode(x)
        recon = reconstruction_nll(model.decode_logits(code), x, model.config).mean()
        terms = model.loss(x, 0.0, weights=Weights(sparsity=2.5, rho=rho))
    if kind == "sparseae-kl":  # sigmoid units: activations in (0, 1)
        assert bool(((code > 0) & (code < 1)).all())
        expected = kl_penalty(code, rho)
    else:
        expected = code.abs().sum(1).mean()
    assert float(terms.recon) == pytest.approx(float(recon), rel=1e-6)
    assert float(terms.total) == pytest.approx(float(recon + 2.5 * expected), rel=1e-6)


def test_a_unit_fires_above_a_tenth_of_the_largest_activation():
    codes = np.array([[2.0, 0.1, -0.5], [0.0, 0.3, 0.19]])
    assert firing(codes).tolist() == [[True, False, True], [False, True, False]]
    assert not firing(np.zeros((3, 2))).any()


def test_lambda_pulls_the_units_mean_activation_to_rho(tiny_digits):
    plain, _ = fitted("sparseae-kl", tiny_digits, sparsity=0.0, lr=1e-2)
    sparse, _ = fitted("sparseae-kl", tiny_digits, sparsity=50.0, rho=0.05, lr=1e-2)
    x = images_to_tensor(tiny_digits.images).float() / 255
    with torch.no_grad():
        plain_mean = float(plain.encode(x)[0].mean())
        sparse_mean = float(sparse.encode(x)[0].mean())
    assert abs(sparse_mean - 0.05) < abs(plain_mean - 0.05) / 2


# -- the planar flow ----------------------------------------------------------------------
def random_planar(batch: int, steps: int, d: int, seed: int):
    g = torch.Generator().manual_seed(seed)
    raw = 2 * torch.randn(batch, steps * (2 * d + 1), generator=g, dtype=torch.float64)
    return planar_parameters(raw, d), torch.randn(batch, d, generator=g, dtype=torch.float64)


@pytest.mark.parametrize("seed", range(5))
def test_the_log_determinant_is_autograds_jacobians(seed):
    d, steps = 3, 4
    (u, w, b), z0 = random_planar(1, steps, d, seed)
    _, log_det = flow(z0, u, w, b)
    jac = jacobian(lambda z: flow(z[None], u, w, b)[0][0], z0[0])  # (d, d)
    assert float(log_det[0]) == pytest.approx(float(torch.linalg.slogdet(jac)[1]), abs=1e-9)
    assert torch.allclose(flow_jacobian(z0, u, w, b)[0], jac, atol=1e-10)


def test_every_planar_map_is_invertible():
    # raw u, w chosen with wᵀu far below −1: the map as given would fold space over
    d = 2
    raw = torch.tensor(
        [[3.0, 0.0, -2.0, 0.0, 0.3], [0.0, 5.0, 0.0, -4.0, -1.0]], dtype=torch.float64
    )
    u, w, b = planar_parameters(raw, d)
    assert bool(((w * u).sum(-1) >= -1).all())
    # so f is strictly increasing along w: a grid of points on the line keeps its order
    # (where wᵀu < −1 it would not), and det ∂f/∂z = 1 + tanh′·wᵀu stays positive
    t = torch.linspace(-6, 6, 2001, dtype=torch.float64)[:, None]
    for i in range(2):
        line = t * w[i, 0] / w[i, 0].square().sum()
        moved, log_det = planar_step(line, u[i, 0], w[i, 0], b[i, 0])
        along = moved @ w[i, 0]
        assert bool((along.diff() > 0).all()) and bool(torch.isfinite(log_det).all())
    # and the raw parameters broke it
    raw_u, raw_w = raw[:, :d], raw[:, d : 2 * d]
    assert bool(((raw_u * raw_w).sum(-1) < -1).all())


def test_with_the_identity_flow_log_q_is_the_gaussians():
    model = build_model(ModelConfig(kind="flowvae", flow_steps=2, **SMALL), seed=0)
    last = model.encoder[-1][-1]  # zero the flow's rows of the last layer: u = w = b = 0
    with torch.no_grad():
        last.weight[6:] = 0
        last.bias[6:] = 0
    x = torch.rand(5, 1, 28, 28)
    torch.manual_seed(0)
    drawn = model.draw(x, 7)
    z, log_q = drawn.z, drawn.log_q
    mu, logvar = model.encode(x)
    assert torch.equal(drawn.mu, mu) and torch.equal(drawn.logvar, logvar)
    gaussian = torch.distributions.Normal(mu, torch.exp(0.5 * logvar))
    assert z.shape == (7, 5, 3) and log_q.shape == (7, 5)
    assert torch.allclose(log_q, gaussian.log_prob(z).sum(-1), atol=1e-5)


@pytest.mark.parametrize("kind", ["sparseae", "sparseae-kl", "flowvae"])
def test_each_new_kind_trains_and_reopens_from_its_checkpoint(tiny_digits, tmp_path, kind):
    model, records = fitted(kind, tiny_digits)
    assert math.isfinite(records[-1].loss)
    path = save_checkpoint(tmp_path / f"{kind}.safetensors", Checkpoint(model=model))
    reopened = load_checkpoint(path).model
    assert reopened.config == model.config
    images = images_to_tensor(tiny_digits.images[:32])
    torch.manual_seed(0)
    before = evaluate(model.to("cpu").eval(), images)
    torch.manual_seed(0)
    assert evaluate(reopened, images) == before


def test_the_flows_importance_weighted_bound_is_at_least_its_elbo(tiny_digits):
    model, _ = fitted("flowvae", tiny_digits, epochs=2)
    images = images_to_tensor(tiny_digits.images[:64])
    torch.manual_seed(0)
    elbos = [iw_bound(model, images, k=1) for _ in range(10)]
    bounds = [iw_bound(model, images, k=20) for _ in range(3)]
    assert np.mean(bounds) > np.mean(elbos)
    # and evaluate's ELBO (its KL sampled through the flow) is the k = 1 bound's figure
    torch.manual_seed(0)
    elbo = np.mean([evaluate(model, images).elbo for _ in range(10)])
    assert elbo == pytest.approx(np.mean(elbos), abs=1.0)


def test_a_flow_needs_steps_and_other_kinds_have_none():
    with pytest.raises(ConfigError, match="flow steps"):
        ModelConfig(kind="flowvae", flow_steps=0).validate()
    with pytest.raises(ConfigError, match="flow steps"):
        ModelConfig(kind="vae", flow_steps=2).validate()
    with pytest.raises(ConfigError, match="flow steps"):  # a file's claim, before any weight
        ModelConfig.from_dict(
            ModelConfig(kind="flowvae", flow_steps=4).to_dict() | {"flow_steps": 10**9}
        )


def test_the_cli_trains_a_flow_and_a_sparse_model_and_refuses_a_bad_rho(tmp_path, capsys):
    out = tmp_path / "flow.safetensors"
    base = ["train", "--count", "200", "--epochs", "1", "--hidden", "16", "--threads", "1"]
    assert main([*base, "--kind", "flowvae", "--flow-steps", "2", "--out", str(out)]) == 0
    assert load_checkpoint(out).model.config.flow_steps == 2
    out = tmp_path / "sparse.safetensors"
    args = ["--kind", "sparseae-kl", "--sparsity", "3", "--rho", "0.1", "--out", str(out)]
    assert main([*base, *args]) == 0
    ckpt = load_checkpoint(out)
    assert (ckpt.train_config.sparsity, ckpt.train_config.rho) == (3.0, 0.1)
    capsys.readouterr()
    assert main([*base, "--kind", "sparseae-kl", "--rho", "1", "--out", str(out)]) == 2
    assert capsys.readouterr().err.strip().splitlines() == [
        "error: ρ (target activation) must be between 0 and 1, got 1.0"
    ]


def test_a_model_with_no_flow_is_written_as_versions_before_flows_read_it():
    plain = ModelConfig(kind="ae", **SMALL)
    assert "flow_steps" not in plain.to_dict()
    assert ModelConfig.from_dict(plain.to_dict()) == plain
    flowing = ModelConfig(kind="flowvae", flow_steps=5, **SMALL)
    assert ModelConfig.from_dict(flowing.to_dict()) == flowing


def test_log_q_of_the_flows_samples_is_their_density():
    # a flow made to bend (its parameters scaled up): the density exp(log q) the model
    # gives its samples matches their histogram, bin by bin (log q₀ alone, without the
    # log-determinant, misses by about 60%)
    model = build_model(ModelConfig(kind="flowvae", flow_steps=4, latent_dim=2, hidden=(16,)))
    last = model.encoder[-1][-1]
    with torch.no_grad():
        last.weight[4:] *= 3
    x = torch.rand(1, 1, 28, 28, generator=torch.Generator().manual_seed(0))
    torch.manual_seed(0)
    with torch.no_grad():
        drawn = model.draw(x, 1_000_000)
        z, log_q = drawn.z[:, 0].numpy(), drawn.log_q[:, 0].numpy()
    span = [np.percentile(z[:, i], [5, 95]) for i in range(2)]
    counts, ex, ey = np.histogram2d(*z.T, bins=30, range=span)
    summed, _, _ = np.histogram2d(*z.T, bins=30, range=span, weights=np.exp(log_q))
    full = counts > 1000
    seen = counts[full] / (len(z) * (ex[1] - ex[0]) * (ey[1] - ey[0]))
    told = summed[full] / counts[full]  # the mean of exp(log q) over each bin's samples
    assert full.sum() > 20 and np.median(np.abs(seen / told - 1)) < 0.25

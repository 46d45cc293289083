"""The training generator: learns, stops between steps, survives NaN, reproduces."""

import threading

import pytest
import torch

from explorer.core.config import ModelConfig, TrainConfig
from explorer.core.device import native_bf16, pick_precision
from explorer.core.errors import ConfigError
from explorer.core.kinds import build_model
from explorer.core.training import state_snapshot, train

SMALL = ModelConfig(image_shape=(1, 28, 28), latent_dim=2, hidden=(64,))


def run(model, data, cfg, cancel=None):
    return list(train(model, data, cfg, cancel=cancel))


def test_training_lowers_the_loss(tiny_digits):
    model = build_model(SMALL)
    records = run(model, tiny_digits, TrainConfig(epochs=6, batch_size=32, lr=3e-3))
    epochs = [r for r in records if r.kind == "epoch"]
    assert len(epochs) == 6
    assert epochs[-1].val.elbo > epochs[0].val.elbo + 20  # nats per image
    assert records[-1].kind == "done" and records[-1].status == "completed"
    assert records[-1].step == records[-1].steps_total == 6 * 8  # 231 train images / 32
    steps = [r for r in records if r.kind == "step"]
    assert all(r.samples_per_s > 0 for r in steps)
    assert [r.step for r in steps] == list(range(1, 49))


def test_stop_between_steps(tiny_digits):
    model = build_model(SMALL)
    cancel = threading.Event()
    seen = []
    for p in train(model, tiny_digits, TrainConfig(epochs=50, batch_size=16), cancel=cancel):
        seen.append(p)
        if p.kind == "step" and p.step == 3:
            cancel.set()
    assert seen[-1].kind == "done" and seen[-1].status == "stopped"
    assert seen[-1].step == 3 and "Stopped by the user" in seen[-1].message
    assert not model.training


def test_closing_the_generator_stops_it(tiny_digits):
    """A consumer that simply stops iterating ends training cleanly (no step after close)."""
    model = build_model(SMALL)
    gen = train(model, tiny_digits, TrainConfig(epochs=50, batch_size=16))
    for p in gen:
        if p.step == 2:
            break
    gen.close()
    with pytest.raises(StopIteration):
        next(gen)


def test_nan_guard_keeps_the_last_finite_weights(tiny_digits):
    model = build_model(SMALL)
    snapshots = {}
    records = []
    for p in train(model, tiny_digits, TrainConfig(epochs=20, batch_size=16)):
        records.append(p)
        if p.kind == "step" and p.step == 50:
            snapshots[50] = state_snapshot(model)
        if p.kind == "step" and p.step == 57:
            with torch.no_grad():  # simulate an update that blew up
                model.encoder[1][0].weight.fill_(float("nan"))
    done = records[-1]
    assert done.status == "diverged" and done.step == 57
    assert "loss became nan" in done.message and "weights from step 50" in done.message
    restored = state_snapshot(model)
    assert all(torch.equal(restored[k], v) for k, v in snapshots[50].items())
    assert all(torch.isfinite(v).all() for v in restored.values())


def test_same_seed_same_model(tiny_digits):
    cfg = TrainConfig(epochs=1, batch_size=32, seed=7)
    a, b, c = build_model(SMALL, 7), build_model(SMALL, 7), build_model(SMALL, 7)
    run(a, tiny_digits, cfg)
    run(b, tiny_digits, cfg)
    run(c, tiny_digits, TrainConfig(epochs=1, batch_size=32, seed=8))
    sa, sb, sc = state_snapshot(a), state_snapshot(b), state_snapshot(c)
    assert all(torch.equal(sa[k], sb[k]) for k in sa)
    assert not all(torch.equal(sa[k], sc[k]) for k in sa)


def test_warmup_ramps_beta(tiny_digits):
    records = run(
        build_model(SMALL),
        tiny_digits,
        TrainConfig(epochs=3, batch_size=32, beta=4.0, warmup_epochs=2),
    )
    betas = [r.beta for r in records if r.kind == "step"]
    assert betas[0] == 0.0 and betas == sorted(betas) and betas[-1] == 4.0
    assert 1.5 < betas[8] < 2.5  # half-way through warm-up (8 of 16 steps)


def test_beta_zero_trains_an_autoencoder(tiny_digits):
    records = run(build_model(SMALL), tiny_digits, TrainConfig(epochs=1, batch_size=32, beta=0.0))
    assert all(r.loss == pytest.approx(r.recon) for r in records if r.kind == "step")


def test_image_shape_mismatch_is_refused(tiny_digits):
    model = build_model(ModelConfig(image_shape=(1, 64, 64), hidden=(8,)))
    with pytest.raises(ConfigError, match=r"model expects images of shape \(1, 64, 64\)"):
        next(train(model, tiny_digits, TrainConfig()))


@pytest.mark.skipif(torch.cuda.is_available(), reason="CUDA present")
def test_asking_for_missing_cuda_is_a_clear_error(tiny_digits):
    with pytest.raises(ConfigError, match="CUDA is not available"):
        next(train(build_model(SMALL), tiny_digits, TrainConfig(device="cuda")))


def test_one_image_dataset_trains(tiny_digits):
    one = tiny_digits.subset([0])
    records = run(build_model(SMALL), one, TrainConfig(epochs=2))
    assert records[-1].status == "completed" and records[-1].val.count == 1


@pytest.mark.parametrize("precision", ["fp32", "bf16"])
def test_both_precisions_learn_the_same_thing(tiny_digits, precision):
    """bf16 mixed precision is a speed option: it must land where fp32 lands."""
    model = build_model(SMALL)
    cfg = TrainConfig(epochs=6, batch_size=32, lr=3e-3, precision=precision)
    records = run(model, tiny_digits, cfg)
    first, last = (r for r in records if r.kind == "epoch" and r.epoch in (1, 6))
    assert last.val.elbo > first.val.elbo + 20
    assert all(p.dtype == torch.float32 for p in model.parameters())  # weights stay fp32
    reference = run(
        build_model(SMALL), tiny_digits, TrainConfig(**{**cfg.to_dict(), "precision": "fp32"})
    )
    assert last.val.elbo == pytest.approx(reference[-1].val.elbo, abs=3.0)


def test_auto_precision_follows_the_hardware():
    cpu = torch.device("cpu")
    assert pick_precision("auto", cpu) == ("bf16" if native_bf16(cpu) else "fp32")
    assert pick_precision("fp32", cpu) == "fp32" and pick_precision("bf16", cpu) == "bf16"
    with pytest.raises(ConfigError, match="bf16 precision is not supported on mps"):
        pick_precision("bf16", torch.device("mps"))
    with pytest.raises(ConfigError, match="precision must be one of auto, bf16, fp32"):
        TrainConfig(precision="fp16").validate()

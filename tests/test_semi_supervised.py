"""The semi-supervised VAE (M2, Kingma et al. 2014) against its definition: its loss on a
batch with labels and one without, the labelled share it is told, its classifier's
accuracy in the figures, its checkpoint."""

import math

import numpy as np
import pytest
import torch

from explorer.cli import main
from explorer.core.checkpoint import load_checkpoint
from explorer.core.config import ModelConfig, TrainConfig
from explorer.core.data import make_digits
from explorer.core.errors import ConfigError
from explorer.core.kinds import build_model
from explorer.core.metrics import evaluate
from explorer.core.model import Weights, images_to_tensor
from explorer.core.semi_supervised import M2, UNKNOWN, labelled_mask
from explorer.core.train_split import labelled_images, split_indices
from explorer.core.training import train

K = 3  # classes of the hand-checked model


@pytest.fixture
def m2():
    torch.manual_seed(0)
    return build_model(
        ModelConfig(kind="m2", image_shape=(1, 6, 6), latent_dim=2, hidden=(16,), classes=K),
        seed=1,
    )


def bernoulli_nll(logits: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
    """−log p(x|logits) summed over pixels, written out: −Σ x log σ + (1 − x) log(1 − σ)."""
    p = torch.sigmoid(logits)
    return -(x * torch.log(p) + (1 - x) * torch.log(1 - p)).sum()


def negative_elbo(model, x: torch.Tensor, c: int) -> torch.Tensor:
    """L(x, y = c) with z at the posterior mean (the noise is zero in these tests):
    −log p(x|c, z) + KL(q(z|x, c) ‖ N(0, I)) − log p(c), p(c) = 1/K."""
    y = torch.tensor([c])
    mu, logvar = model.encode(x[None], y)
    kl = 0.5 * (mu.square() + logvar.exp() - 1 - logvar).sum()
    return bernoulli_nll(model.decode_logits(mu, y)[0], x) + kl + math.log(K)


def q_y(model, x: torch.Tensor) -> torch.Tensor:
    """q(y|x): (K,) probabilities."""
    return torch.softmax(model.classify(x[None])[0], 0)


def labelled_part(model, x: torch.Tensor, c: int, w: float) -> torch.Tensor:
    """L(x, c) + w·(−log q(c|x))."""
    return negative_elbo(model, x, c) - w * torch.log(q_y(model, x)[c])


def unlabelled_part(model, x: torch.Tensor) -> torch.Tensor:
    """U(x) = Σ_y q(y|x) L(x, y) − H(q(y|x))."""
    q = q_y(model, x)
    entropy = -(q * torch.log(q)).sum()
    return sum(q[c] * negative_elbo(model, x, c) for c in range(K)) - entropy


@pytest.fixture
def no_noise(monkeypatch):
    """z = μ: the sampled bound becomes a deterministic function to check by hand."""
    monkeypatch.setattr(torch, "randn_like", torch.zeros_like)


def test_the_loss_is_the_labelled_and_the_unlabelled_parts_of_its_definition(m2, no_noise):
    x = torch.rand(4, 1, 6, 6, generator=torch.Generator().manual_seed(2))
    told = torch.tensor([2, 0, 1, 2])
    w = 7.5
    with torch.no_grad():
        labelled = m2.loss(x, 1.0, y=told, weights=Weights(classify=w)).total
        by_hand = sum(labelled_part(m2, x[i], int(told[i]), w) for i in range(4)) / 4
        assert labelled.item() == pytest.approx(by_hand.item(), rel=1e-5)

        unlabelled = m2.loss(x, 1.0, y=torch.full((4,), UNKNOWN), weights=Weights(classify=w))
        by_hand = sum(unlabelled_part(m2, x[i]) for i in range(4)) / 4
        assert unlabelled.total.item() == pytest.approx(by_hand.item(), rel=1e-5)
        # y left out: none told
        assert m2.loss(x, 1.0, weights=Weights(classify=w)).total.item() == pytest.approx(
            unlabelled.total.item(), rel=1e-6
        )

        mixed = m2.loss(
            x, 1.0, y=torch.tensor([2, UNKNOWN, 1, UNKNOWN]), weights=Weights(classify=w)
        )
        by_hand = (
            labelled_part(m2, x[0], 2, w)
            + unlabelled_part(m2, x[1])
            + labelled_part(m2, x[2], 1, w)
            + unlabelled_part(m2, x[3])
        ) / 4
        assert mixed.total.item() == pytest.approx(by_hand.item(), rel=1e-5)
        # and the reported terms add up to the bound: recon + KL (of z and of y)
        assert (unlabelled.recon + unlabelled.kl).item() == pytest.approx(
            unlabelled.total.item(), rel=1e-5
        )


def test_the_labelled_share_is_that_share_of_every_class_and_follows_the_seed():
    labels = np.repeat([0, 1, 2, 3], [1000, 500, 200, 30])
    np.random.default_rng(0).shuffle(labels)
    told = labelled_mask(labels, 0.1, seed=5)
    assert [int(told[labels == c].sum()) for c in range(4)] == [100, 50, 20, 3]
    told_1 = labelled_mask(labels, 0.01, seed=5)
    assert [int(told_1[labels == c].sum()) for c in range(4)] == [10, 5, 2, 1]  # ≥ 1 each
    assert np.array_equal(labelled_mask(labels, 0.1, seed=5), told)
    assert not np.array_equal(labelled_mask(labels, 0.1, seed=6), told)

    # the images named are of the training split only: the validation labels are held out
    cfg = TrainConfig(labelled=0.1, seed=5)
    chosen = labelled_images(labels, cfg)
    _, val_idx = split_indices(len(labels), cfg.val_fraction, cfg.seed)
    assert len(chosen) == pytest.approx(0.1 * 0.9 * len(labels), abs=4)
    assert not set(chosen) & set(val_idx)


def test_training_is_told_the_chosen_labels_and_no_others(monkeypatch):
    """Every training image passes through the loss once an epoch: those `labelled_images`
    names with their label, every other one as UNKNOWN. The validation labels, never
    told, score the classifier."""
    data = make_digits(200, seed=0)
    cfg = TrainConfig(epochs=1, batch_size=32, labelled=0.2, seed=3, device="cpu", threads=1)
    index = {bytes(image): i for i, image in enumerate(data.images)}
    seen: dict[int, int] = {}
    real_loss = M2.loss

    def spy(self, x, beta, y=None, **kw):
        pixels = (x * 255).round().to(torch.uint8).numpy()
        for image, label in zip(pixels, y.tolist(), strict=True):
            seen[index[bytes(image[0])]] = label
        return real_loss(self, x, beta, y=y, **kw)

    monkeypatch.setattr(M2, "loss", spy)
    model = build_model(ModelConfig(kind="m2", latent_dim=2, hidden=(16,), classes=10))
    final = list(train(model, data, cfg))[-1]
    assert final.status == "completed" and 0 <= final.val.accuracy <= 1
    train_idx, _ = split_indices(len(data), cfg.val_fraction, cfg.seed)
    told = labelled_images(data.labels, cfg)
    assert sorted(seen) == sorted(train_idx)
    assert {i: y for i, y in seen.items() if y != UNKNOWN} == {
        int(i): int(data.labels[i]) for i in told
    }
    assert len(told) == pytest.approx(0.2 * len(train_idx), abs=5)


def test_evaluate_scores_the_classifier_on_the_labels(m2):
    images = images_to_tensor(make_digits(40, seed=1).images[:, ::5, ::5][:, :6, :6])
    labels = torch.arange(40) % K
    result = evaluate(m2, images, labels)
    with torch.inference_mode():
        guess = m2.classify(images.float() / 255).argmax(1)
    assert result.accuracy == pytest.approx(float((guess == labels).float().mean()))
    assert evaluate(m2, images).accuracy is None  # no labels, nothing to score
    cvae = build_model(ModelConfig(kind="cvae", image_shape=(1, 6, 6), hidden=(8,), classes=K))
    assert evaluate(cvae, images, labels).accuracy is None


def test_the_labelled_fraction_is_a_share():
    for bad in (0.0, 1.5, -0.1):
        with pytest.raises(ConfigError, match="labelled fraction must be above 0 and at most 1"):
            TrainConfig(labelled=bad).validate()


def test_the_cli_trains_saves_and_evaluates_an_m2(tmp_path, capsys):
    out = tmp_path / "m2.safetensors"
    args = ["--dataset", "digits", "--count", "200", "--hidden", "16", "--threads", "1"]
    code = main(
        ["train", "--kind", "m2", "--labelled", "0.05", "--epochs", "1", *args, "--out", str(out)]
    )
    assert code == 0
    trained = capsys.readouterr().out
    assert "classifier" in trained and "validation labels guessed right" in trained
    ckpt = load_checkpoint(out)
    assert ckpt.model.kind == "m2" and ckpt.train_config.labelled == 0.05
    assert 0 <= ckpt.metrics["held_out_accuracy"] <= 1
    assert any(k.startswith("classifier.") for k in ckpt.model.state_dict())  # q(y|x) kept
    assert main(["evaluate", str(out), "--count", "100", "--k", "2"]) == 0
    shown = capsys.readouterr().out
    line = next(s for s in shown.splitlines() if "classifier" in s)
    assert "of 100 labels guessed right" in line
    with pytest.raises(SystemExit) as refused:
        main(["train", "--kind", "m2", "--labelled", "0", *args])
    assert refused.value.code == 2 and "--labelled" in capsys.readouterr().err

"""Inference passes take large images a few at a time: the batches of encoding,
evaluating, decoding grids and the on-data check stay within the memory budget,
whatever the image size, and give the same figures as whole batches."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from explorer.core import pass_size
from explorer.core.config import ModelConfig
from explorer.core.figures import decode_images
from explorer.core.kinds import build_model
from explorer.core.metrics import encode, evaluate
from explorer.core.on_data import on_data

_SHAPE = (3, 32, 32)
_PER_PASS = 3  # images a pass may take under the small budget below


@pytest.fixture
def model():
    m = build_model(ModelConfig(image_shape=_SHAPE, latent_dim=2, architecture="conv"))
    return m.eval()


@pytest.fixture
def images():
    return torch.from_numpy(np.random.default_rng(0).integers(0, 256, (40, *_SHAPE), np.uint8))


def passes(model, monkeypatch, budget: int | None) -> list[int]:
    """Record the images each encode/decode call of `model` gets, under `budget` bytes
    (None: the machine's own)."""
    if budget is not None:
        monkeypatch.setattr(pass_size, "memory_budget", lambda: budget)
    seen: list[int] = []
    for name in ("encode", "decode"):
        real = getattr(model, name)

        def counted(z, *args, _real=real, **kwargs):
            seen.append(len(z))
            return _real(z, *args, **kwargs)

        monkeypatch.setattr(model, name, counted)
    return seen


def small_budget() -> int:
    per_image = pass_size._VALUES_PER_PIXEL * pass_size._BYTES_PER_VALUE * int(np.prod(_SHAPE))
    return _PER_PASS * per_image


def test_every_inference_pass_stays_within_the_budget(model, images, monkeypatch):
    whole = (
        encode(model, images),
        evaluate(model, images),
        on_data(model, images, samples=10, reference=20),
        decode_images(model, np.zeros((9, 2))),
    )
    seen = passes(model, monkeypatch, small_budget())
    bounded = (
        encode(model, images),
        evaluate(model, images),
        on_data(model, images, samples=10, reference=20),
        decode_images(model, np.zeros((9, 2))),
    )
    assert seen and max(seen) <= _PER_PASS, seen
    np.testing.assert_allclose(bounded[0][0], whole[0][0], atol=1e-5)
    assert bounded[1].elbo == pytest.approx(whole[1].elbo, rel=1e-5)
    assert bounded[2].threshold == pytest.approx(whole[2].threshold, rel=1e-5)
    assert bounded[2].fraction == whole[2].fraction
    np.testing.assert_allclose(bounded[3], whole[3], atol=1e-6)


def test_the_references_kept_whole_are_bounded_too(model, images, monkeypatch):
    per_float_image = pass_size._BYTES_PER_VALUE * int(np.prod(_SHAPE))
    monkeypatch.setattr(pass_size, "memory_budget", lambda: 7 * per_float_image)
    assert on_data(model, images, samples=10, reference=20).reference == 7

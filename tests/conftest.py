"""Shared fixtures. Qt runs offscreen: set before any test imports Qt."""

from __future__ import annotations

import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import numpy as np  # noqa: E402
import pytest  # noqa: E402
import torch  # noqa: E402

from explorer.core.data import Dataset  # noqa: E402

# Small thread counts keep the suite quick and stable on 2-core CI machines.
torch.set_num_threads(2)


@pytest.fixture
def tiny_digits() -> Dataset:
    """256 built-in digits: enough to see a loss fall, quick to train."""
    from explorer.core.data import make_digits

    return make_digits(256, seed=1)


@pytest.fixture
def blobs() -> Dataset:
    """A 64-image 8×8 dataset of two classes (bright left half / bright right half)."""
    rng = np.random.default_rng(0)
    images = np.zeros((64, 8, 8), dtype=np.uint8)
    labels = np.arange(64) % 2
    images[labels == 0, :, :4] = 220
    images[labels == 1, :, 4:] = 220
    images = np.clip(images + rng.integers(0, 30, images.shape), 0, 255).astype(np.uint8)
    return Dataset(images=images, name="blobs", labels=labels, class_names=["left", "right"])

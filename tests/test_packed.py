"""Bit-packed binary images: unpacked on indexing exactly as stored, trained on exactly
as the same images unpacked."""

import numpy as np
import pytest
import torch

from explorer.core.config import ModelConfig, TrainConfig
from explorer.core.data import Dataset, make_sprites
from explorer.core.data.packed import PackedImages, PackedTensor, rows_of
from explorer.core.kinds import build_model
from explorer.core.model import images_to_tensor
from explorer.core.training import train


@pytest.fixture
def binary():
    """40 random binary images of 5×3 pixels: 15 bits, not a whole number of bytes."""
    return np.random.default_rng(0).choice(np.array([0, 255], np.uint8), size=(40, 5, 3))


def test_indexing_unpacks_what_was_packed(binary):
    packed = PackedImages.pack(binary)
    assert packed.shape == (40, 5, 3) and len(packed) == 40 and packed.nbytes == 40 * 2
    assert np.array_equal(packed[7], binary[7])
    assert np.array_equal(packed[3:9], binary[3:9])
    pick = np.array([5, 0, 39, 5])
    assert np.array_equal(packed[pick], binary[pick])
    assert np.array_equal(np.asarray(packed), binary)
    assert np.array_equal(packed.take(pick)[:], binary[pick])  # a subset stays packed
    assert isinstance(packed.take(pick), PackedImages)


def test_only_binary_images_are_packed(binary):
    grey = binary.copy()
    grey[0, 0, 0] = 128
    with pytest.raises(ValueError, match="0 or 255"):
        PackedImages.pack(grey)
    with pytest.raises(ValueError, match="do not hold"):
        PackedImages(np.zeros((40, 1), np.uint8), (40, 5, 3))


def test_the_tensor_twin_gives_the_model_layout(binary):
    packed = images_to_tensor(PackedImages.pack(binary))
    plain = images_to_tensor(binary)
    assert isinstance(packed, PackedTensor) and packed.shape == (40, 1, 5, 3)
    assert torch.equal(packed[2:6], plain[2:6])
    index = torch.tensor([9, 1, 30])
    assert torch.equal(packed[index], plain[index])
    assert torch.equal(packed[4], plain[4])
    subset = rows_of(packed, index).to("cpu")
    assert isinstance(subset, PackedTensor) and torch.equal(subset[0:3], plain[index])
    assert torch.equal(rows_of(plain, index), plain[index])


def test_sprites_are_packed_and_train_exactly_as_unpacked():
    data = make_sprites(300, seed=3)
    assert isinstance(data.images, PackedImages)
    assert data.images.nbytes == 300 * 64 * 64 // 8  # an eighth of the uint8 size
    plain = Dataset(images=np.asarray(data.images), name="sprites", labels=data.labels)
    subset = data.subset(np.arange(10))
    assert isinstance(subset.images, PackedImages)
    assert np.array_equal(subset.images[:], plain.images[:10])
    weights = []
    for d in (data, plain):
        model = build_model(ModelConfig(image_shape=(1, 64, 64), latent_dim=3, hidden=(32,)))
        records = list(train(model, d, TrainConfig(epochs=2, batch_size=64, precision="fp32")))
        weights.append(model.state_dict())
        assert records[-1].status == "completed"
    for key in weights[0]:
        assert torch.equal(weights[0][key], weights[1][key]), key

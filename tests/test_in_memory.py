"""What `explorer.explore` is given, checked without a window (core/in_memory.py): images
as arrays, tensors or a torch Dataset, labels and factors, and the caller's module; each
mistake refused in one line that names the argument, before memory is spent on it."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from torch import nn
from torch.utils.data import Dataset as TorchDataset
from torch.utils.data import IterableDataset, TensorDataset

import explorer
from explorer.core.errors import CheckpointError, DataError
from explorer.core.external import ExternalModel


class FlatVAE(nn.Module):
    """8×8 images, flattened in; one (B, 2d) tensor out of encode, logits out of decode."""

    def __init__(self, latent_dim: int = 2):
        super().__init__()
        self.enc = nn.Linear(64, 2 * latent_dim)
        self.dec = nn.Linear(latent_dim, 64)

    def encode(self, x):
        return self.enc(x)

    def decode(self, z):
        return self.dec(z)


def _grey(n: int = 6, seed: int = 0) -> np.ndarray:
    return np.random.default_rng(seed).random((n, 8, 8)).astype(np.float32)


class Items(TorchDataset):
    """A map-style Dataset yielding whatever `make(i)` returns."""

    def __init__(self, n, make):
        self.n, self.make = n, make

    def __len__(self):
        return self.n

    def __getitem__(self, i):
        return self.make(i)


def test_arrays_tensors_and_datasets_give_the_same_images():
    x = _grey()
    want = np.rint(x * 255).astype(np.uint8)
    labels = np.array([0, 1, 2, 0, 1, 2])
    from_numpy = explorer.as_dataset(x, labels)
    from_nchw_tensor = explorer.as_dataset(torch.from_numpy(x)[:, None], torch.from_numpy(labels))
    pairs = TensorDataset(torch.from_numpy(x)[:, None], torch.from_numpy(labels))
    from_pairs = explorer.as_dataset(pairs)
    from_bytes = explorer.as_dataset(Items(6, lambda i: torch.from_numpy(want[i])))
    for d in (from_numpy, from_nchw_tensor, from_pairs, from_bytes):
        assert d.image_shape == (1, 8, 8)
        assert np.array_equal(d.images, want)
    for d in (from_numpy, from_nchw_tensor, from_pairs):
        assert d.labels.tolist() == labels.tolist()
    rgb = explorer.as_dataset(torch.rand(4, 3, 8, 8, dtype=torch.bfloat16))
    assert rgb.image_shape == (3, 8, 8) and rgb.images.shape == (4, 8, 8, 3)


def test_factors_as_columns_or_by_name():
    shape, size = np.array([0, 1, 2, 0, 1, 2]), np.array([3, 3, 0, 0, 1, 1])
    named = explorer.as_dataset(_grey(), factors={"shape": shape, "size": size.astype(float)})
    assert named.factor_names == ["shape", "size"] and named.factor_sizes == [3, 4]
    assert named.factors[:, 1].tolist() == size.tolist()
    columns = explorer.as_dataset(_grey(), factors=np.stack([shape, size], 1))
    assert columns.factor_names == ["factor 0", "factor 1"]
    assert np.array_equal(columns.factors, named.factors)


def _nan_images():
    x = _grey()
    x[2, 3, 4] = np.nan
    return x


class _NoLength(IterableDataset):
    def __iter__(self):
        yield torch.zeros(8, 8)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"images": [[0.0]]}, "images: expected a NumPy array, a torch tensor or a torch Dataset"),
        ({"images": np.zeros((6, 64))}, "images: an array of shape (6, 64); expected (N, H, W)"),
        ({"images": np.zeros((0, 8, 8))}, "images: no images"),
        ({"images": np.zeros((6, 8, 8, 3))}, "channels last? pass images.transpose(0, 3, 1, 2)"),
        ({"images": np.zeros((6, 8, 1))}, "images: 8×1 pixels; at least 2×2"),
        ({"images": _nan_images()}, "images: 1 pixel values are NaN or infinite"),
        ({"images": _grey() * 300}, "images: pixel values run from"),
        ({"images": _grey().astype(complex)}, "images: images must be integers or floats"),
        ({"images": torch.zeros(6, 8, 8, device="meta")}, "images: a tensor on the meta device"),
        ({"images": _NoLength()}, "images: a _NoLength has no length"),
        ({"images": Items(0, None)}, "images: the Dataset is empty"),
        ({"images": Items(-1, None)}, "images: the Items's length: __len__() should return >= 0"),
        (
            {"images": Items(3, lambda i: torch.zeros(8, 8 + (i == 2)))},
            "images: item 2 of the Dataset has shape (8, 9), item 0 (8, 8)",
        ),
        ({"images": Items(3, lambda i: {"x": i})}, "images: item 0 of the Dataset is a dict"),
        ({"images": Items(3, lambda i: 1 / 0)}, "images: reading item 0 of the Dataset failed"),
        (
            {"images": Items(3, lambda i: (torch.zeros(8, 8), "cat"))},
            "labels: item 0 of the Dataset has a label of type str",
        ),
        (
            {"images": Items(3, lambda i: (torch.zeros(8, 8), 1)), "labels": [0, 1, 2]},
            "labels: given twice",
        ),
        ({"labels": [0, 1, 2]}, "labels: shape (3,) for 6 images; expected (6,)"),
        ({"labels": [0, 1, 2, 0, 1, np.nan]}, "labels: labels must be whole numbers"),
        ({"labels": [0, 1, 2, 0, 1, -1]}, "labels: labels must be ≥ 0"),
        ({"labels": ["a"] * 6}, "labels: expected numbers"),
        ({"factors": np.zeros((5, 2))}, "factors: shape (5, 2) for 6 images; expected (6, K)"),
        ({"factors": np.full((6, 1), 0.5)}, "factors: values must be whole numbers"),
        ({"factors": {"x": np.arange(6), "y": np.arange(4)}}, "factors['y']: shape (4,)"),
        ({"factors": np.zeros((6, 0))}, "factors: 0 factors; 1 to 64 expected"),
    ],
)
def test_a_mistake_is_one_line_naming_the_argument(kwargs, message):
    kwargs = {"images": _grey(), **kwargs}
    with pytest.raises(DataError) as e:
        explorer.as_dataset(**kwargs)
    assert message in str(e.value)
    assert "\n" not in str(e.value)


def test_a_huge_array_is_refused_before_it_is_converted():
    # a view of one float: it claims 16 TiB of pixels and holds 4 bytes
    claim = np.broadcast_to(np.float32(0.5), (4_000_000, 1, 1024, 1024))
    with pytest.raises(DataError, match=r"images: 4,000,000 images of .* needs .* GiB"):
        explorer.as_dataset(claim)


def test_the_callers_module_is_copied_probed_and_left_as_it_was():
    data = explorer.as_dataset(_grey(16))
    module = FlatVAE().train()
    model = explorer.adapt_model(module, data)
    assert isinstance(model, ExternalModel) and model.config.latent_dim == 2
    a = model.config.adapters
    assert (a.input, a.encoder, a.decoder) == ("flat", "split", "logits")
    assert module.training  # the caller's module is still in training mode
    assert model.inner is not module
    with torch.no_grad():
        module.dec.bias += 1  # training it further does not change the window's copy
    z = torch.zeros(1, 2)
    assert not torch.allclose(model.decode(z), torch.sigmoid(module.decode(z)).view(1, 1, 8, 8))


def test_a_model_that_does_not_fit_is_named_model():
    data = explorer.as_dataset(_grey())
    with pytest.raises(CheckpointError, match=r"^model: expected a torch nn.Module"):
        explorer.adapt_model(object(), data)
    with pytest.raises(CheckpointError, match=r"^model: the model has no encode method"):
        explorer.adapt_model(nn.Linear(64, 4), data)
    with pytest.raises(CheckpointError, match=r"^model: encode failed on a probe batch"):
        explorer.adapt_model(FlatVAE(), explorer.as_dataset(np.zeros((4, 9, 9))))
    ours = explorer.build_model(explorer.ModelConfig(image_shape=(1, 28, 28), hidden=(16,)))
    with pytest.raises(CheckpointError, match=r"^model: takes images of shape \(1, 28, 28\)"):
        explorer.adapt_model(ours, data)

"""A `.npy` of images larger than the memory budget: left on disk, read batch by batch.

The budget is made small (as on a small machine) so a test-sized file is "too large";
then the dataset's images must be a DiskImages, reading what is asked and no more, and
training, encoding and the CLI must go through the file without reading it whole.
"""

from __future__ import annotations

import pickle
import tracemalloc

import numpy as np
import pytest
import torch

from explorer.cli import main
from explorer.core.checkpoint import load_checkpoint
from explorer.core.config import ModelConfig, TrainConfig
from explorer.core.data import open_dataset
from explorer.core.data.on_disk import DiskImages, RowFile
from explorer.core.errors import DataError
from explorer.core.kinds import build_model
from explorer.core.metrics import encode
from explorer.core.model import images_to_tensor
from explorer.core.per_point import reconstruction_errors
from explorer.core.training import train

BUDGET = 192 << 10  # bytes a dataset may take: a 2,000-image 16×16 file is 2.7× that


@pytest.fixture
def small_machine(monkeypatch):
    monkeypatch.setattr("explorer.core.files.memory_budget", lambda: BUDGET)


def _images(n=2000, side=16, seed=0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    images = rng.integers(0, 60, (n, side, side), dtype=np.uint8)
    images[np.arange(n) % 2 == 0, :, : side // 2] += 180  # two kinds of image to learn
    return images


LAYOUTS = {  # how the file stores (N, H, W[, C]) images -> the array saved
    "nhw": lambda a: a,
    "nhwc": lambda a: np.stack([a, 255 - a, a // 2], axis=3),
    "nchw": lambda a: np.stack([a, 255 - a, a // 2], axis=1),
    "n-h-w-1": lambda a: a[..., None],
    "flat": lambda a: a.reshape(len(a), -1),
}


@pytest.mark.parametrize("layout", LAYOUTS)
def test_a_large_file_stays_on_disk_and_reads_as_the_loaded_one(layout, tmp_path, monkeypatch):
    path = tmp_path / "big.npy"
    np.save(path, LAYOUTS[layout](_images()))
    loaded = open_dataset(path)  # the real budget: it fits, so it is loaded
    assert isinstance(loaded.images, np.ndarray)
    monkeypatch.setattr("explorer.core.files.memory_budget", lambda: 1 << 10)
    tracemalloc.start()
    try:
        on_disk = open_dataset(path)
        opened_peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert isinstance(on_disk.images, DiskImages)
    assert opened_peak < path.stat().st_size / 4  # opening read the header, not the data
    assert on_disk.images.shape == loaded.images.shape
    assert on_disk.image_shape == loaded.image_shape
    pick = np.array([1999, 0, 17, 17, -1])
    assert np.array_equal(on_disk.images[pick], loaded.images[pick])
    assert np.array_equal(on_disk.images[5:40:3], loaded.images[5:40:3])
    assert np.array_equal(on_disk.images[7], loaded.images[7])
    index = torch.tensor([3, 1250, 9])
    assert torch.equal(
        images_to_tensor(on_disk.images)[index], images_to_tensor(loaded.images)[index]
    )
    subset = on_disk.subset(np.array([10, 2, 33]))
    assert isinstance(subset.images, DiskImages)
    assert np.array_equal(subset.images[:], loaded.images[[10, 2, 33]])


def test_training_and_encoding_read_the_file_a_batch_at_a_time(tmp_path, small_machine):
    path = tmp_path / "big.npy"
    np.save(path, _images())
    data = open_dataset(path)
    assert isinstance(data.images, DiskImages)
    reads = []  # rows per read of the file: whatever takes the images whole shows here
    read = RowFile.read
    data.images.file.read = lambda rows: reads.append(len(rows)) or read(data.images.file, rows)
    model = build_model(ModelConfig(image_shape=(1, 16, 16), latent_dim=2, hidden=(16,)))
    config = TrainConfig(epochs=1, batch_size=64, lr=3e-3, val_fraction=0.05)
    records = list(train(model, data, config))
    images = images_to_tensor(data.images)
    mu, _ = encode(model, images, batch_size=128)
    errors = reconstruction_errors(model, images, mu, batch_size=128)
    assert records[-1].status == "completed" and np.isfinite(records[-1].val.elbo)
    assert mu.shape == (2000, 2) and np.isfinite(mu).all() and np.isfinite(errors).all()
    # a batch of 64, the 100 validation images, passes of 128: never the file
    assert max(reads) <= 128 and sum(reads) == 1900 + 100 + 2000 + 2000
    # the images read batch by batch are the file's: the same codes as from the array whole
    again, _ = encode(model, images_to_tensor(np.load(path)), batch_size=128)
    assert np.allclose(mu, again, atol=1e-5)


def test_the_cli_trains_on_a_file_larger_than_the_budget(tmp_path, small_machine, capsys):
    path, out = tmp_path / "big.npy", tmp_path / "m.safetensors"
    np.save(path, _images(600))
    args = ["train", "--dataset", str(path), "--epochs", "1", "--latent-dim", "2"]
    args += ["--hidden", "16", "--batch-size", "64", "--out", str(out)]
    assert main(args) == 0, capsys.readouterr().err
    assert load_checkpoint(out).dataset["num_images"] == 600


def test_a_header_that_lies_is_one_error_before_anything_is_read(tmp_path, small_machine):
    path = tmp_path / "liar.npy"
    np.save(path, _images())
    data = path.read_bytes()
    path.write_bytes(data.replace(b"(2000, 16, 16)", b"(9000, 16, 16)", 1))
    with pytest.raises(DataError) as err:
        open_dataset(path)
    message = str(err.value)
    assert str(path) in message and "(9000, 16, 16)" in message and "damaged" in message
    assert "\n" not in message


def test_other_types_too_large_to_convert_are_refused_naming_the_type(tmp_path, small_machine):
    path = tmp_path / "floats.npy"
    np.save(path, _images().astype(np.float32) / 255)
    with pytest.raises(DataError, match=r"floats\.npy: the array of shape .* of float32 values"):
        open_dataset(path)


def test_a_file_cut_short_while_open_is_an_error_naming_it(tmp_path, small_machine):
    path = tmp_path / "big.npy"
    np.save(path, _images())
    data = open_dataset(path)
    with open(path, "r+b") as f:
        f.truncate(path.stat().st_size // 2)
    assert data.images[3].shape == (16, 16)  # what is still there reads
    with pytest.raises(DataError, match=r"big\.npy: the file ended .* changed while open"):
        data.images[np.array([5, 1999])]


def test_a_copy_in_another_process_reads_the_same_file(tmp_path, small_machine):
    """A dataset sent to a worker process (pickled) opens its file again there."""
    path = tmp_path / "big.npy"
    np.save(path, _images())
    data = open_dataset(path)
    copy = pickle.loads(pickle.dumps(data.subset(np.array([4, 1999]))))
    assert np.array_equal(copy.images[:], np.load(path)[[4, 1999]])

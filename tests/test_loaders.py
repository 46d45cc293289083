"""File loaders: round trips on files the tests write, and every bad input named in the issue."""

import gzip
import pickle

import numpy as np
import pytest
from PIL import Image

from explorer.core.data import open_dataset
from explorer.core.errors import DataError
from tests.idx_writer import idx_bytes, write_idx

rng = np.random.default_rng(0)
IMAGES = rng.integers(0, 256, (12, 28, 28), dtype=np.uint8)
LABELS = (np.arange(12) % 10).astype(np.uint8)


@pytest.mark.parametrize("suffix", ["", ".gz"])
def test_idx_round_trip_with_labels_beside_it(tmp_path, suffix):
    images = write_idx(tmp_path / f"t10k-images-idx3-ubyte{suffix}", IMAGES)
    write_idx(tmp_path / f"t10k-labels-idx1-ubyte{suffix}", LABELS)
    d = open_dataset(images)
    assert np.array_equal(d.images, IMAGES)
    assert np.array_equal(d.labels, LABELS)
    assert d.name == "t10k" and d.source == str(images)
    assert d.class_names == [str(i) for i in range(10)]


def test_idx_without_labels_file(tmp_path):
    d = open_dataset(write_idx(tmp_path / "my-images-idx3-ubyte.gz", IMAGES))
    assert d.labels is None and len(d) == 12


def test_idx_float_images_in_unit_range_are_scaled(tmp_path):
    arr = (IMAGES / 255.0).astype(np.float32)
    d = open_dataset(write_idx(tmp_path / "f-images-idx3-ubyte", arr))
    assert np.abs(d.images.astype(int) - IMAGES).max() <= 1


def test_truncated_gz(tmp_path):
    data = gzip.compress(idx_bytes(IMAGES))
    path = tmp_path / "cut-images-idx3-ubyte.gz"
    path.write_bytes(data[: len(data) // 2])
    with pytest.raises(DataError, match=r"cut-images-idx3-ubyte\.gz: damaged or truncated gzip"):
        open_dataset(path)


@pytest.mark.parametrize("suffix", ["", ".gz"])
def test_idx_header_promises_more_than_it_has(tmp_path, suffix):
    path = write_idx(tmp_path / f"lie-images-idx3-ubyte{suffix}", IMAGES, dims=(20, 28, 28))
    with pytest.raises(DataError, match=r"lie-images-idx3-ubyte.*header promises \(20, 28, 28\)"):
        open_dataset(path)


def test_idx_header_claiming_gigabytes_in_a_tiny_file(tmp_path):
    path = write_idx(tmp_path / "huge-images-idx3-ubyte.gz", IMAGES[:1], dims=(2_000_000, 32, 32))
    with pytest.raises(DataError, match="header promises"):
        open_dataset(path)


def test_idx_labels_count_differs(tmp_path):
    images = write_idx(tmp_path / "a-images-idx3-ubyte", IMAGES)
    write_idx(tmp_path / "a-labels-idx1-ubyte", LABELS[:7])
    with pytest.raises(DataError, match=r"a-labels-idx1-ubyte: holds 7 labels but .* 12 images"):
        open_dataset(images)


def test_not_an_idx_file(tmp_path):
    path = tmp_path / "x-images-idx3-ubyte"
    path.write_bytes(b"hello world, not idx")
    with pytest.raises(DataError, match="not an IDX file"):
        open_dataset(path)


@pytest.mark.parametrize("key", ["x", "images", "x_train", "arr_0"])
def test_npz_image_keys_are_found(tmp_path, key):
    path = tmp_path / "d.npz"
    np.savez(path, **{key: IMAGES, "y": LABELS})
    d = open_dataset(path)
    assert np.array_equal(d.images, IMAGES) and np.array_equal(d.labels, LABELS)


def test_npz_keys_can_be_named(tmp_path):
    path = tmp_path / "d.npz"
    np.savez(path, pictures=IMAGES, classes=LABELS, y=np.zeros(3))
    d = open_dataset(path, image_key="pictures", label_key="classes")
    assert np.array_equal(d.labels, LABELS)
    with pytest.raises(DataError, match=r"no array named 'nope' \(it has: pictures, classes, y\)"):
        open_dataset(path, image_key="nope")


def test_npz_flat_and_channel_first_layouts(tmp_path):
    np.savez(tmp_path / "flat.npz", x=IMAGES.reshape(12, 784))
    assert open_dataset(tmp_path / "flat.npz").images.shape == (12, 28, 28)
    rgb = rng.integers(0, 256, (5, 3, 16, 16), dtype=np.uint8)
    np.savez(tmp_path / "chw.npz", x=rgb)
    d = open_dataset(tmp_path / "chw.npz")
    assert d.images.shape == (5, 16, 16, 3) and d.image_shape == (3, 16, 16)
    assert np.array_equal(d.images, np.moveaxis(rgb, 1, 3))


def test_npz_with_no_image_like_array(tmp_path):
    path = tmp_path / "none.npz"
    np.savez(path, a=np.arange(10), b=np.ones((3, 5)))
    with pytest.raises(
        DataError, match=r"none\.npz: no image-like array found \(it has: a \(10,\)"
    ):
        open_dataset(path)


def test_npy_float_unit_range_and_bad_values(tmp_path):
    np.save(tmp_path / "ok.npy", IMAGES / 255.0)
    assert np.abs(open_dataset(tmp_path / "ok.npy").images.astype(int) - IMAGES).max() <= 1
    bad = (IMAGES / 255.0).copy()
    bad[0, 0, 0] = np.nan
    np.save(tmp_path / "nan.npy", bad)
    with pytest.raises(DataError, match=r"nan\.npy: 1 pixel values are NaN"):
        open_dataset(tmp_path / "nan.npy")
    np.save(tmp_path / "big.npy", IMAGES.astype(float) * 4)
    with pytest.raises(DataError, match="pixel values run from 0 to 1020"):
        open_dataset(tmp_path / "big.npy")


def test_npy_object_array_is_never_unpickled(tmp_path):
    path = tmp_path / "obj.npy"
    np.save(path, np.array([{"a": 1}, None], dtype=object), allow_pickle=True)
    with pytest.raises(DataError, match="without pickle"):
        open_dataset(path)


def test_pickle_named_npz(tmp_path):
    path = tmp_path / "evil.npz"
    path.write_bytes(pickle.dumps({"x": IMAGES}))
    with pytest.raises(DataError, match=r"evil\.npz"):
        open_dataset(path)


def test_negative_labels(tmp_path):
    np.savez(tmp_path / "neg.npz", x=IMAGES, y=np.arange(12) - 1)
    with pytest.raises(DataError, match="labels must be ≥ 0"):
        open_dataset(tmp_path / "neg.npz")


def _save(path, array):
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(array).save(path)


def test_folder_with_class_subfolders(tmp_path):
    for i in range(6):
        _save(tmp_path / ("cat" if i % 2 else "dog") / f"{i}.png", IMAGES[i])
    (tmp_path / "dog" / "notes.txt").write_text("not an image")
    d = open_dataset(tmp_path)
    assert d.images.shape == (6, 28, 28) and d.class_names == ["cat", "dog"]
    assert sorted(d.labels.tolist()) == [0, 0, 0, 1, 1, 1]
    assert d.extra == {}


def test_folder_of_colour_images_without_classes(tmp_path):
    for i in range(3):
        _save(tmp_path / f"{i}.png", rng.integers(0, 256, (10, 12, 3), dtype=np.uint8))
    d = open_dataset(tmp_path)
    assert d.images.shape == (3, 10, 12, 3) and d.labels is None


def test_folder_with_mixed_sizes(tmp_path):
    _save(tmp_path / "a.png", IMAGES[0])
    _save(tmp_path / "b.png", IMAGES[1][:20, :20])
    with pytest.raises(DataError, match=r"images differ in size: a\.png is 28×28, b\.png is 20×20"):
        open_dataset(tmp_path)


def test_folder_with_no_images(tmp_path):
    (tmp_path / "readme.txt").write_text("hi")
    with pytest.raises(DataError, match="no readable images"):
        open_dataset(tmp_path)


def test_folder_skips_and_counts_undecodable_images(tmp_path):
    _save(tmp_path / "good.png", IMAGES[0])
    (tmp_path / "broken.png").write_bytes(b"\x89PNG not really")
    d = open_dataset(tmp_path)
    assert len(d) == 1 and d.extra["skipped"] == [str(tmp_path / "broken.png")]


def test_missing_path_and_unknown_format(tmp_path):
    with pytest.raises(DataError, match="no such file or folder"):
        open_dataset(tmp_path / "absent.npz")
    (tmp_path / "data.csv").write_text("1,2,3")
    with pytest.raises(DataError, match=r"data\.csv: unrecognised dataset format"):
        open_dataset(tmp_path / "data.csv")


def test_paths_with_spaces_and_unicode(tmp_path):
    folder = tmp_path / "mes données ✓"
    folder.mkdir()
    images = write_idx(folder / "train-images-idx3-ubyte.gz", IMAGES)
    assert len(open_dataset(images)) == 12

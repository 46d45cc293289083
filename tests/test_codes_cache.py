"""The codes of a checkpoint + dataset pair kept on disk (core/codes_cache.py)."""

from __future__ import annotations

import os
import threading

import numpy as np
import pytest

from explorer.core import codes_cache
from explorer.core.codes_cache import Cancelled, CodesCache, PairKey, encode_pair
from explorer.core.config import ModelConfig
from explorer.core.kinds import build_model
from explorer.core.model import images_to_tensor


@pytest.fixture
def pair(tmp_path):
    """A model file, a dataset file and a small model's images."""
    model = build_model(ModelConfig(image_shape=(1, 4, 4), latent_dim=3, hidden=(8,)))
    ckpt = tmp_path / "m.safetensors"
    ckpt.write_bytes(b"weights")
    data = tmp_path / "d.npy"
    images = np.random.default_rng(0).integers(0, 256, (50, 4, 4), dtype=np.uint8)
    np.save(data, images)
    return model, ckpt, data, images_to_tensor(images)


@pytest.fixture
def encodes(monkeypatch):
    """How many times the images were encoded."""
    calls = []
    real = codes_cache.encode

    def counting(*args, **kwargs):
        calls.append(1)
        return real(*args, **kwargs)

    monkeypatch.setattr(codes_cache, "encode", counting)
    return calls


def _open(pair, cache, **kw):
    model, ckpt, data, images = pair
    return encode_pair(model, images, None, ckpt, "how", str(data), cache, **kw)


def test_the_second_open_reads_the_codes(tmp_path, pair, encodes):
    cache = CodesCache(tmp_path / "cache")
    first = _open(pair, cache)
    second = _open(pair, cache)
    assert (first.cached, second.cached) == (False, True)
    assert len(encodes) == 1
    np.testing.assert_array_equal(first.mu, second.mu)
    np.testing.assert_array_equal(first.logvar, second.logvar)


def test_a_changed_model_or_dataset_file_is_another_pair(tmp_path, pair, encodes):
    cache = CodesCache(tmp_path / "cache")
    _open(pair, cache)
    pair[1].write_bytes(b"other weights")  # rewritten in place: another model
    assert not _open(pair, cache).cached
    os.utime(pair[2], ns=(1, 1))  # the dataset file touched
    assert not _open(pair, cache).cached
    assert len(encodes) == 3


@pytest.mark.parametrize(
    "damage",
    [
        lambda b: b[: len(b) // 2],  # cut short
        lambda b: b"garbage" + b[7:],  # not a codes file
        lambda b: b[:48] + (10**9).to_bytes(8, "little") + b[56:],  # lies about d
        lambda b: b + b"\0" * 12,  # longer than its header says
        lambda b: b"",
    ],
)
def test_a_corrupt_or_lying_file_is_rebuilt(tmp_path, pair, encodes, damage):
    cache = CodesCache(tmp_path / "cache")
    good = _open(pair, cache)
    (file,) = (tmp_path / "cache").iterdir()
    file.write_bytes(damage(file.read_bytes()))
    again = _open(pair, cache)  # no crash, no wrong codes
    assert not again.cached and len(encodes) == 2
    np.testing.assert_array_equal(again.mu, good.mu)
    assert _open(pair, cache).cached  # written anew


def test_the_folder_stays_under_its_limit_oldest_out(tmp_path):
    size = 24 + 32 + 2 * 100 * 2 * 4  # one file: header + 100 × 2 codes twice
    cache = CodesCache(tmp_path / "cache", limit=2 * size)
    codes = np.zeros((100, 2), np.float32)
    keys = [PairKey(str(i), "how", ("f", 1, 1)) for i in range(3)]
    for i, key in enumerate(keys):
        cache.put(key, codes + i, codes)
        for p in (tmp_path / "cache").iterdir():  # distinct times, oldest first
            os.utime(p, ns=(p.stat().st_mtime_ns - 10**9, p.stat().st_mtime_ns - 10**9))
    assert cache.get(keys[0], 100, 2) is None  # the oldest went
    assert cache.get(keys[2], 100, 2)[0][0, 0] == 2
    assert len(list((tmp_path / "cache").iterdir())) == 2


def test_a_generated_dataset_is_not_kept(tmp_path, pair, encodes):
    model, ckpt, _, images = pair
    cache = CodesCache(tmp_path / "cache")
    for _ in range(2):
        assert not encode_pair(model, images, None, ckpt, "how", None, cache).cached
    assert not (tmp_path / "cache").exists()


def test_a_stop_cancels_the_encode_and_writes_nothing(tmp_path, pair):
    stop = threading.Event()
    stop.set()
    cache = CodesCache(tmp_path / "cache")
    with pytest.raises(Cancelled):
        _open(pair, cache, stop=stop)
    assert not (tmp_path / "cache").exists() or not list((tmp_path / "cache").iterdir())


def test_progress_counts_the_images(tmp_path, pair):
    heard = []
    _open(pair, None, progress=lambda what, f: heard.append(what))
    assert heard[-1] == "Encoding 50 of 50 images"

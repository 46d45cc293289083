"""Fuzzing the readers: random and mutated bytes may only ever raise the project's error.

Each reader gets (a) arbitrary bytes under its file name and (b) a valid file of its
format with bytes flipped, cut off or inserted. FUZZ_EXAMPLES=5000 runs a longer
campaign than the suite's default of 100 per test. Anything but a return value or an
ExplorerError escaping is a crash a user would have met.
"""

from __future__ import annotations

import gzip
import io
import json
import math
import os
import tempfile
from dataclasses import fields
from pathlib import Path
from unittest import mock

import numpy as np
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from PIL import Image

from explorer.core import checkpoint as checkpoint_module
from explorer.core.checkpoint import Checkpoint, load_checkpoint, save_checkpoint
from explorer.core.config import ModelConfig, TrainConfig
from explorer.core.data import open_dataset
from explorer.core.errors import ExplorerError
from explorer.core.kinds import build_model, state_shapes
from tests.checkpoint_writer import SMALL, valid_metadata, write_checkpoint
from tests.idx_writer import idx_bytes

IMAGES = (np.arange(3 * 8 * 8) % 256).astype(np.uint8).reshape(3, 8, 8)
FUZZ = settings(
    max_examples=int(os.environ.get("FUZZ_EXAMPLES", 100)),
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)


def _bytes_of(write) -> bytes:
    with tempfile.TemporaryDirectory() as d:
        path = Path(d) / "f"
        write(path)
        return path.read_bytes()


def _npz(path: Path) -> None:
    with open(path, "wb") as f:
        np.savez(f, x=IMAGES, y=np.arange(3))


def _npy(path: Path) -> None:
    with open(path, "wb") as f:
        np.save(f, IMAGES)


def _checkpoint(path: Path) -> None:
    model = build_model(ModelConfig(image_shape=(1, 8, 8), latent_dim=2, hidden=(4,)))
    save_checkpoint(path.with_suffix(".safetensors"), Checkpoint(model=model))
    path.with_suffix(".safetensors").rename(path)


def _png(path: Path) -> None:
    buf = io.BytesIO()
    Image.fromarray(IMAGES[0]).save(buf, format="PNG")
    path.write_bytes(buf.getvalue())


# file name -> (a valid file of that format, as bytes)
FORMATS = {
    "data.npz": _bytes_of(_npz),
    "data.npy": _bytes_of(_npy),
    "t-images-idx3-ubyte": idx_bytes(IMAGES),
    "t-images-idx3-ubyte.gz": gzip.compress(idx_bytes(IMAGES)),
    "model.safetensors": _bytes_of(_checkpoint),
}


def _read(path: Path) -> None:
    """Open `path` as the app would; only ExplorerError may come out."""
    try:
        if path.suffix == ".safetensors":
            load_checkpoint(path)
        else:
            open_dataset(path)
    except ExplorerError as e:
        assert path.name in str(e)  # and the message names the file


@st.composite
def mutated(draw, original: bytes) -> bytes:
    data = bytearray(original)
    for _ in range(draw(st.integers(1, 4))):
        kind = draw(st.sampled_from(["flip", "cut", "insert", "overwrite"]))
        at = draw(st.integers(0, max(len(data) - 1, 0)))
        if kind == "flip" and data:
            data[at] ^= draw(st.integers(1, 255))
        elif kind == "cut":
            del data[at:]
        elif kind == "insert":
            data[at:at] = draw(st.binary(min_size=1, max_size=16))
        else:
            chunk = draw(st.binary(min_size=1, max_size=8))
            data[at : at + len(chunk)] = chunk
    return bytes(data)


@FUZZ
@given(name=st.sampled_from(sorted(FORMATS)), content=st.binary(max_size=512))
def test_random_bytes(tmp_path, name, content):
    path = tmp_path / name
    path.write_bytes(content)
    _read(path)


@FUZZ
@given(data=st.data(), name=st.sampled_from(sorted(FORMATS)))
def test_mutated_valid_files(tmp_path, data, name):
    path = tmp_path / name
    path.write_bytes(data.draw(mutated(FORMATS[name])))
    _read(path)


@FUZZ
@given(content=st.one_of(st.binary(max_size=256), mutated(_bytes_of(_png))))
def test_image_folder_with_a_damaged_image(tmp_path, content):
    folder = tmp_path / "images"
    folder.mkdir(exist_ok=True)
    _png(folder / "good.png")
    (folder / "bad.png").write_bytes(content)
    try:
        dataset = open_dataset(folder)
    except ExplorerError as e:
        assert "images" in str(e)
        return
    assert 1 <= len(dataset) <= 2
    assert len(dataset) + len(dataset.extra.get("skipped", [])) == 2


# Checkpoint metadata, structure-aware: valid JSON in a real safetensors file, with hostile
# values (wrong types, huge, negative or float sizes, deep nesting, missing keys) put
# where the loader reads. It must load or refuse naming the file, and must never build
# a model the file's own (small) tensors do not hold.
_META_PATHS = (
    [("format",), ("version",), ("model",), ("train",), ("dataset",), ("metrics",)]
    + [("kl_per_dim",), ("created",)]
    + [("model", f.name) for f in fields(ModelConfig)]
    + [("train", f.name) for f in fields(TrainConfig)]
    + [("dataset", k) for k in ("name", "source", "num_images", "image_shape", "class_names")]
    + [
        ("metrics", k)
        for k in ("elbo", "recon", "kl", "sq_error", "active_units", "mig_per_factor")
    ]
)
_LEAVES = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-(2**70), 2**70),
    st.sampled_from([0, -1, 1, 2, 3, 4, 8, 64, 65, 2**31 - 1, 2**32, 2**63, 10**6, 400_000]),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=12),
)
_HOSTILE = st.recursive(
    _LEAVES,
    lambda kids: (
        st.lists(kids, max_size=4) | st.dictionaries(st.text(max_size=6), kids, max_size=3)
    ),
    max_leaves=8,
)
_DEEP = "\u0000deep\u0000"  # replaced by a nesting too deep to build as a Python value
with tempfile.TemporaryDirectory() as _d:
    _META = valid_metadata(Path(_d) / "v.safetensors")
_SMALL_TENSORS = sum(math.prod(s) for s in state_shapes(SMALL).values())


@st.composite
def hostile_metadata(draw, base: dict | None = None) -> str:
    """The metadata `base` (default: a small model's) with one to three of its fields
    replaced by hostile values, deleted, or nested too deep to read: as JSON text."""
    meta = json.loads(json.dumps(_META if base is None else base))
    depth = 0
    for _ in range(draw(st.integers(1, 3))):
        path = draw(st.sampled_from(_META_PATHS))
        parent = meta
        for key in path[:-1]:
            parent = parent.get(key) if isinstance(parent, dict) else None
        if not isinstance(parent, dict):
            continue
        action = draw(st.sampled_from(["set", "set", "delete", "deep"]))
        if action == "delete":
            parent.pop(path[-1], None)
        elif action == "deep":
            parent[path[-1]], depth = _DEEP, draw(st.sampled_from([50, 1000, 100_000]))
        else:
            parent[path[-1]] = draw(_HOSTILE)
    text = json.dumps(meta)  # NaN and Infinity included: Python's JSON reads them back
    return text.replace(json.dumps(_DEEP), "[" * depth + "]" * depth)


@FUZZ
@given(text=hostile_metadata())
def test_hostile_checkpoint_metadata(tmp_path, text):
    path = write_checkpoint(tmp_path / "hostile.safetensors", text)
    built = []
    real_build = checkpoint_module.build_model

    def build(config, *args):
        built.append(sum(math.prod(s) for s in state_shapes(config).values()))
        return real_build(config, *args)

    with mock.patch.object(checkpoint_module, "build_model", build):
        try:
            ckpt = load_checkpoint(path)
        except ExplorerError as e:
            assert str(e).startswith(f"{path}: ") and "\n" not in str(e)
            assert built == []  # refused before any model was built
            return
    assert built == [_SMALL_TENSORS]  # only what the file's own tensors hold
    assert isinstance(ckpt.created, str) and isinstance(ckpt.metrics, dict)
    assert all(isinstance(k, float) for k in ckpt.kl_per_dim)

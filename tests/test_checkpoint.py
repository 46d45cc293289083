"""Checkpoints: bit-exact round trip, atomic writes, and files that must be refused."""

import json
import os
import pickle

import pytest
import torch
from safetensors import safe_open
from safetensors.torch import save_file

from explorer.core import checkpoint as ck
from explorer.core.checkpoint import Checkpoint, load_checkpoint, read_metadata, save_checkpoint
from explorer.core.config import ModelConfig, TrainConfig
from explorer.core.errors import CheckpointError
from explorer.core.kinds import build_model

CFG = ModelConfig(image_shape=(1, 8, 8), latent_dim=3, hidden=(16,))


def _ckpt(seed=0):
    return Checkpoint(
        model=build_model(CFG, seed),
        train_config=TrainConfig(beta=4.0, epochs=3),
        dataset={"name": "blobs", "image_shape": [1, 8, 8]},
        metrics={"elbo": -12.5, "active_units": 2},
        kl_per_dim=[1.0, 0.5, 0.0],
    )


def test_round_trip_is_bit_exact(tmp_path):
    original = _ckpt()
    path = save_checkpoint(tmp_path / "m.safetensors", original)
    loaded = load_checkpoint(path)
    a, b = original.model.state_dict(), loaded.model.state_dict()
    assert a.keys() == b.keys() and all(torch.equal(a[k], b[k]) for k in a)
    assert loaded.model.config == CFG
    assert loaded.train_config == original.train_config
    assert loaded.dataset == original.dataset and loaded.metrics == original.metrics
    assert loaded.kl_per_dim == [1.0, 0.5, 0.0] and loaded.path == path
    meta = read_metadata(path)
    assert meta["format"] == ck.FORMAT and meta["version"] == ck.VERSION
    x = torch.rand(2, 1, 8, 8)
    assert torch.equal(
        original.model.eval().decode(torch.ones(2, 3)), loaded.model.decode(torch.ones(2, 3))
    )
    assert x.shape == (2, 1, 8, 8)


def test_a_broadcast_decoder_reopens_decoding_identically(tmp_path):
    """Its pixel grid is rebuilt from the image shape, not stored: the file holds weights."""
    cfg = ModelConfig(image_shape=(1, 12, 10), latent_dim=3, architecture="broadcast")
    saved = Checkpoint(model=build_model(cfg, 2), train_config=TrainConfig(), dataset={})
    path = save_checkpoint(tmp_path / "b.safetensors", saved)
    loaded = load_checkpoint(path)
    assert loaded.model.config.architecture == "broadcast"
    with safe_open(path, "pt") as stored:
        assert not [k for k in stored.keys() if k.endswith("grid")]  # noqa: SIM118
    z = torch.randn(5, 3)
    assert torch.equal(saved.model.eval().decode(z), loaded.model.decode(z))


def test_weights_that_do_not_match_the_config(tmp_path):
    path = tmp_path / "m.safetensors"
    save_checkpoint(path, _ckpt())
    meta = read_metadata(path)
    meta["model"]["latent_dim"] = 5  # the file now claims a different model
    tensors = {k: v.contiguous() for k, v in build_model(CFG).state_dict().items()}
    save_file(tensors, str(path), metadata={"latent_explorer": json.dumps(meta)})
    with pytest.raises(
        CheckpointError, match=r"m\.safetensors: the weights do not match .*latent size 5"
    ):
        load_checkpoint(path)


def test_pickle_renamed_to_safetensors(tmp_path):
    path = tmp_path / "evil.safetensors"
    path.write_bytes(pickle.dumps({"weights": [1, 2, 3]}))
    with pytest.raises(CheckpointError, match=r"evil\.safetensors: not a safetensors .*pickle"):
        load_checkpoint(path)


def test_torch_save_file_renamed(tmp_path):
    path = tmp_path / "model.safetensors"
    torch.save(build_model(CFG).state_dict(), path)
    with pytest.raises(CheckpointError, match=r"PyTorch \.pt/\.pth \(zip\)"):
        load_checkpoint(path)


@pytest.mark.parametrize("content", [b"", os.urandom(64), b"\x08\x00\x00\x00\x00\x00\x00\x00{}"])
def test_random_or_empty_bytes(tmp_path, content):
    path = tmp_path / "junk.safetensors"
    path.write_bytes(content)
    with pytest.raises(CheckpointError, match=r"junk\.safetensors"):
        load_checkpoint(path)


def test_safetensors_from_elsewhere_without_our_metadata(tmp_path):
    path = tmp_path / "other.safetensors"
    save_file({"w": torch.zeros(2)}, str(path))
    with pytest.raises(CheckpointError, match="not a Latent Explorer checkpoint"):
        load_checkpoint(path)


def test_missing_file_and_folder(tmp_path):
    with pytest.raises(CheckpointError, match="no such file"):
        load_checkpoint(tmp_path / "absent.safetensors")
    with pytest.raises(CheckpointError, match="is a folder"):
        load_checkpoint(tmp_path)


def test_newer_format_is_refused_with_advice(tmp_path, monkeypatch):
    path = tmp_path / "m.safetensors"
    monkeypatch.setattr(ck, "VERSION", 99)
    save_checkpoint(path, _ckpt())
    monkeypatch.setattr(ck, "VERSION", 1)
    with pytest.raises(CheckpointError, match="newer Latent Explorer"):
        load_checkpoint(path)


def test_failed_write_leaves_the_old_file_intact(tmp_path, monkeypatch):
    path = tmp_path / "m.safetensors"
    save_checkpoint(path, _ckpt(seed=0))
    before = path.read_bytes()

    def full_disk(tensors, filename, metadata=None):
        with open(filename, "wb") as f:
            f.write(b"half a file")
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(ck, "save_file", full_disk)
    with pytest.raises(CheckpointError, match=r"m\.safetensors: could not save .*No space left"):
        save_checkpoint(path, _ckpt(seed=1))
    assert path.read_bytes() == before
    assert os.listdir(tmp_path) == ["m.safetensors"]  # no temporary file left behind


def test_save_into_missing_folder(tmp_path):
    with pytest.raises(CheckpointError, match="could not save"):
        save_checkpoint(tmp_path / "no" / "such" / "m.safetensors", _ckpt())


def test_new_checkpoints_get_ordinary_permissions(tmp_path):
    path = save_checkpoint(tmp_path / "m.safetensors", _ckpt())
    umask = os.umask(0)
    os.umask(umask)
    assert path.stat().st_mode & 0o777 == 0o666 & ~umask
    os.chmod(path, 0o640)
    save_checkpoint(path, _ckpt(seed=1))  # overwriting keeps the file's mode
    assert path.stat().st_mode & 0o777 == 0o640

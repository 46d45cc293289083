"""What a file claims is checked before it is believed (issue 22), beyond the bad-input table:
images scaled by their bit depth, labels and counts bounded, sizes bounded before a
model is built, and one message naming the file or setting for each."""

from __future__ import annotations

import os
import re

import numpy as np
import pytest
from PIL import Image

from explorer import cli
from explorer.core import checkpoint as ck
from explorer.core.checkpoint import load_checkpoint
from explorer.core.config import ModelConfig, TrainConfig
from explorer.core.data import Dataset, load_dataset, open_dataset
from explorer.core.errors import CheckpointError, ConfigError, DataError
from explorer.core.kinds import build_model
from explorer.core.training import train
from tests.checkpoint_writer import tampered, valid_metadata, write_checkpoint
from tests.idx_writer import write_idx

RAMP16 = (np.arange(16 * 16, dtype=np.uint32).reshape(16, 16) * 257).astype(np.uint16)


def _folder(tmp_path, images: dict[str, Image.Image]):
    folder = tmp_path / "pictures"
    folder.mkdir()
    for name, im in images.items():
        im.save(folder / name)
    return folder


def test_16_bit_png_is_scaled_not_saturated(tmp_path):
    """A 16-bit grey PNG (Pillow: mode I;16) read as 8-bit: 0..65535 becomes 0..255."""
    im = Image.fromarray(RAMP16)
    assert im.mode == "I;16"
    d = open_dataset(_folder(tmp_path, {"ramp.png": im}))
    assert np.array_equal(d.images[0], np.arange(256, dtype=np.uint8).reshape(16, 16))


@pytest.mark.parametrize(
    ("array", "mode"),
    [
        (RAMP16.astype(">u2"), "I;16B"),
        (RAMP16.astype(np.int32), "I"),
        ((RAMP16 / 65535.0).astype(np.float32), "F"),
    ],
)
def test_16_bit_and_float_tiffs_are_scaled(tmp_path, array, mode):
    im = Image.fromarray(array) if mode != "I;16B" else Image.frombytes(mode, (16, 16), array)
    folder = _folder(tmp_path, {"ramp.tif": im})
    with Image.open(folder / "ramp.tif") as back:
        assert back.mode.startswith(mode[:4])  # read back at its depth: I;16*, I or F
    d = open_dataset(folder)
    assert np.array_equal(d.images[0], np.arange(256, dtype=np.uint8).reshape(16, 16))


def test_float_image_outside_0_1_is_refused_naming_it(tmp_path):
    folder = _folder(tmp_path, {"hot.tif": Image.fromarray(np.full((8, 8), 7.5, np.float32))})
    with pytest.raises(
        DataError, match=r"hot\.tif: F pixels run from 7\.5 to 7\.5, expected 0\.\.1"
    ):
        open_dataset(folder)


def test_transparent_pixels_read_as_background(tmp_path):
    """RGBA, LA and a palette with a transparent entry: what a transparent pixel hides
    (here white) does not show; opaque pixels keep their colour."""
    rgba = np.zeros((8, 8, 4), np.uint8)
    rgba[..., :3] = 255  # white everywhere, but only the left half is opaque
    rgba[:, :4, 3] = 255
    la = rgba[..., [0, 3]]
    pal = Image.new("P", (8, 8), 1)  # palette entry 0 black, 1 white (and transparent)
    pal.putpalette([0, 0, 0, 255, 255, 255])
    pal.paste(0, (0, 0, 4, 8))  # left half black and opaque, right half white, hidden
    pal.info["transparency"] = 1
    folder = _folder(
        tmp_path,
        {
            "rgba.png": Image.fromarray(rgba, "RGBA"),
            "la.png": Image.fromarray(la, "LA"),
            "p.png": pal,
        },
    )
    d = open_dataset(folder)  # sorted: la, p, rgba
    left_white = np.zeros((8, 8), np.uint8)
    left_white[:, :4] = 255
    assert d.images.shape == (3, 8, 8)
    assert np.array_equal(d.images[0], left_white)  # la
    assert np.array_equal(d.images[1], np.zeros((8, 8), np.uint8))  # p: black, and hidden white
    assert np.array_equal(d.images[2], left_white)  # rgba


def test_palette_and_colour_images_keep_their_colours(tmp_path):
    pal = Image.new("P", (8, 8), 0)
    pal.putpalette([10, 200, 30])
    d = open_dataset(_folder(tmp_path, {"p.png": pal, "rgb.png": Image.new("RGB", (8, 8))}))
    assert d.images.shape == (2, 8, 8, 3)
    assert tuple(d.images[0, 0, 0]) == (10, 200, 30)


def test_idx_label_of_2_31_builds_no_class_names(tmp_path):
    """An 88-byte labels file claiming label 2³¹−1 is refused naming the labels file."""
    images = write_idx(tmp_path / "t-images-idx3-ubyte", np.zeros((2, 28, 28), np.uint8))
    labels = write_idx(tmp_path / "t-labels-idx1-ubyte", np.array([0, 2**31 - 1], np.int32))
    with pytest.raises(DataError) as err:
        open_dataset(images)
    assert str(err.value) == (
        f"{labels}: labels must be class numbers below 10,000, found 2,147,483,647"
    )


def test_unreadable_class_folder_is_skipped_and_counted(tmp_path, monkeypatch):
    """Permissions are not enforced for root (CI), so the OS's refusal is simulated."""
    root = tmp_path / "classes"
    for name in ("cats", "dogs", "secret"):
        (root / name).mkdir(parents=True)
        Image.new("L", (8, 8), 200).save(root / name / "a.png")
    real_iterdir = type(root).iterdir

    def iterdir(self):
        if self.name == "secret":
            raise PermissionError(13, "Permission denied", str(self))
        return real_iterdir(self)

    monkeypatch.setattr(type(root), "iterdir", iterdir)
    d = open_dataset(root)
    assert d.class_names == ["cats", "dogs"] and len(d) == 2
    assert d.extra["skipped"] == [str(root / "secret")]


def test_pca_with_more_dimensions_than_pixels_or_images():
    with pytest.raises(ConfigError, match="latent size 20 is more than the 16 pixel values"):
        ModelConfig(kind="pca", image_shape=(1, 4, 4), latent_dim=20).validate()
    model = build_model(ModelConfig(kind="pca", image_shape=(1, 8, 8), latent_dim=5))
    few = Dataset(images=np.zeros((3, 8, 8), np.uint8), name="three")
    with pytest.raises(ConfigError, match="latent size 5 is more than the 3 images PCA"):
        next(train(model, few, TrainConfig()))


def test_no_model_for_huge_images_or_too_many_weights():
    """One 8000×8000 image must not ask for a 102 GB network; the limits are named."""
    with pytest.raises(ConfigError, match="8,000×8,000 pixels are larger than the 1024×1024"):
        build_model(ModelConfig(image_shape=(3, 8000, 8000)))
    with pytest.raises(ConfigError, match="more than the limit of 100,000,000: use smaller"):
        build_model(ModelConfig(image_shape=(3, 1024, 1024), hidden=(400,)))


def test_cli_refuses_a_folder_of_huge_images_in_one_line(tmp_path, capsys):
    folder = _folder(tmp_path, {"big.png": Image.new("L", (2000, 2000))})
    argv = ["train", "--dataset", str(folder), "--epochs", "1", "--out", str(tmp_path / "m")]
    assert cli.main(argv) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "2,000×2,000 pixels are larger than the 1024×1024" in err[0]


def test_builtin_counts_are_bounded():
    with pytest.raises(DataError, match="digits: the number of images must be from 1 to 200,000"):
        load_dataset("digits", count=3_000_000)
    with pytest.raises(DataError, match=r"sprites: .* from 1 to 737,280, got 0"):
        load_dataset("sprites", count=0)


@pytest.fixture(scope="module")
def checkpoint_bytes(tmp_path_factory) -> bytes:
    folder = tmp_path_factory.mktemp("valid")
    meta = valid_metadata(folder / "v.safetensors")
    return write_checkpoint(folder / "m.safetensors", meta).read_bytes()


@pytest.mark.parametrize("first", range(256))
def test_a_damaged_checkpoint_is_never_called_a_pickle(tmp_path, checkpoint_bytes, first):
    """Every value of the header length's low byte: 0x80 (a pickle's first byte) is one
    of them, and the file is still a (damaged) safetensors file, not a pickle."""
    path = tmp_path / "m.safetensors"
    data = bytearray(checkpoint_bytes)
    data[0], changed = first, data[0] != first  # a header length that no longer fits
    path.write_bytes(bytes(data))
    if not changed:  # the file as written
        assert load_checkpoint(path).model.config.latent_dim == 2
        return
    with pytest.raises(CheckpointError) as err:
        load_checkpoint(path)
    assert "pickle" not in str(err.value) and "damaged or truncated safetensors" in str(err.value)


def test_weights_are_checked_from_the_header_before_a_model_is_built(tmp_path, monkeypatch):
    path = tmp_path / "liar.safetensors"
    tampered(lambda meta: meta["model"].update(hidden=[16_000]))(path)

    def no_building(*args, **kwargs):
        raise AssertionError("a model was built before the weights were checked")

    monkeypatch.setattr(ck, "build_model", no_building)
    with pytest.raises(CheckpointError, match="the weights do not match"):
        load_checkpoint(path)


@pytest.mark.parametrize(
    ("key", "value", "words"),
    [
        ("train", {"beta": "4"}, "β must be a number, got '4'"),
        ("train", {"threads": 100_000}, "threads must be between 0 and 1,024"),
        ("train", {"seed": 2**40}, "seed must be between 0 and 4,294,967,295"),
        ("metrics", {"recon": [1]}, "metric recon must be a number, got [1]"),
        ("metrics", [1], "metrics must be an object"),
        ("kl_per_dim", [0.1, "x"], "kl_per_dim must be a number, got 'x'"),
        ("kl_per_dim", [0.0] * 3, "kl_per_dim has 3 entries, more than 2"),
        ("dataset", {"source": 5}, "dataset source must be text, got 5"),
        ("dataset", {"source": "/" + "x" * 300}, "dataset source is not a usable path"),
        ("dataset", {"name": "digits", "num_images": 1.5}, "num_images must be a whole number"),
        # missing keys take their defaults (a 1×28×28 MLP), which these weights do not fit
        ("model", {"latent_dim": 2}, "the weights do not match"),
        ("model", None, "model must be an object"),
        ("created", 7, "created must be text"),
        ("history", {"epoch": 1}, "history must be a list"),
        ("history", [{"epoch": 1, "loss": "1"}], "history entry 0 loss must be a number"),
        ("history", [{"epoch": 1}] * 2001, "history has 2,001 entries, more than 2,000"),
    ],
)
def test_metadata_of_the_wrong_type_is_refused_naming_the_file(tmp_path, key, value, words):
    path = tmp_path / "bad.safetensors"
    tampered(lambda meta: meta.__setitem__(key, value))(path)
    with pytest.raises(CheckpointError) as err:
        load_checkpoint(path)
    message = str(err.value)
    assert message.startswith(f"{path}: ") and words in message and "\n" not in message


def test_factory_arguments_from_a_fifo_or_nested_too_deeply(tmp_path):
    from explorer.core.external_files import factory_kwargs

    fifo = tmp_path / "args.json"
    os.mkfifo(fifo)
    with pytest.raises(ConfigError, match=re.escape(f"{fifo}: not a regular file (a FIFO)")):
        factory_kwargs(str(fifo))
    deep = tmp_path / "deep.json"
    deep.write_text('{"a": ' + "[" * 100_000 + "]" * 100_000 + "}")
    with pytest.raises(ConfigError, match=re.escape(f"{deep}: nested too deeply")):
        factory_kwargs(str(deep))


def test_a_gzipped_idx_header_claiming_more_than_a_float_holds(tmp_path):
    # A gzip's size says nothing of the array inside, so the header's claim meets the
    # memory check first; 60 dimensions of 2**32 - 1 is a size no float can hold.
    import gzip
    import struct

    path = tmp_path / "huge-images-idx3-ubyte.gz"
    header = bytes([0, 0, 8, 60]) + struct.pack(">60I", *[2**32 - 1] * 60)
    path.write_bytes(gzip.compress(header + bytes(10)))
    with pytest.raises(DataError) as caught:
        open_dataset(path)
    message = str(caught.value)
    assert message.startswith(f"{path}: ") and "\n" not in message
    assert "more than a yobibyte" in message


def test_unknown_model_settings_are_quoted_on_one_line():
    names = {"\n": 1, "": 2, **{f"extra{i}": i for i in range(10)}}
    with pytest.raises(ConfigError) as caught:
        ModelConfig.from_dict({**ModelConfig().to_dict(), **names})
    message = str(caught.value)
    assert "\n" not in message and "'\\n'" in message and "''" in message
    assert message.endswith("and 7 more")

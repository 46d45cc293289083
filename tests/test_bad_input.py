"""The bad-input matrix: every file a user can point the app at by mistake.

Each case is a file (or folder) the test writes, the reader it goes to, and the words the
message must contain. One table drives three front ends: the core readers (the
project's own error naming the file), the CLI (one line, exit 2, no traceback) and the
window (a dialog; the model and data on screen stay).
"""

from __future__ import annotations

import gzip
import io
import math
import os
import struct
import tracemalloc
import zipfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

from explorer import cli
from explorer.core.checkpoint import load_checkpoint
from explorer.core.data import open_dataset
from explorer.core.errors import ExplorerError
from tests.checkpoint_writer import tampered, write_checkpoint

DIGIT = np.zeros((4, 28, 28), np.uint8)


def _npy_header(shape: tuple[int, ...]) -> bytes:
    buf = io.BytesIO()
    np.lib.format.write_array_header_1_0(
        buf, {"descr": "|u1", "fortran_order": False, "shape": shape}
    )
    return buf.getvalue()


def _idx_claiming_gigabytes(path: Path) -> None:
    """A 30-byte IDX file whose header claims 2,560,000,000 bytes of images."""
    data = b"\0\0\x08\x03" + struct.pack(">3I", 3_265_306, 28, 28) + b"\0" * 14
    path.write_bytes(gzip.compress(data) if path.suffix == ".gz" else data)


def _npz_bomb(path: Path) -> None:
    """A small .npz whose one member unpacks to 64 MB (tests shrink the memory budget)."""
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as z, z.open("x.npy", "w") as f:
        f.write(_npy_header((1024, 256, 256)))
        for _ in range(64):
            f.write(bytes(1 << 20))


def _npz_liar(path: Path) -> None:
    """An .npz member whose header claims a trillion bytes but holds 100."""
    with zipfile.ZipFile(path, "w") as z:
        z.writestr("x.npy", _npy_header((10**6, 1000, 1000)) + bytes(100))


def _save(name: str, array: np.ndarray, **more: np.ndarray) -> Callable[[Path], None]:
    def write(path: Path) -> None:
        if name.endswith(".npy"):
            np.save(path, array)
        else:
            np.savez(path, x=array, **more)

    return write


def _fifo(path: Path) -> None:
    os.mkfifo(path)  # opening it would wait for a writer that never comes


def _npy_of_durations(path: Path) -> None:
    np.save(path, DIGIT.astype("timedelta64[s]"))


def _idx_of_dims(*dims: int) -> Callable[[Path], None]:
    def write(path: Path) -> None:
        path.write_bytes(bytes([0, 0, 8, len(dims)]) + struct.pack(f">{len(dims)}I", *dims))

    return write


def _png_folder(size: tuple[int, int], count: int, mode: str = "L") -> Callable[[Path], None]:
    """`count` blank PNGs of `size` in a folder: a few KB on disk, any size decoded."""

    def write(path: Path) -> None:
        path.mkdir()
        blank = Image.new(mode, size)
        for i in range(count):
            blank.save(path / f"{i}.png")

    return write


def _set(key: str, value) -> Callable[[dict], None]:
    """An edit of checkpoint metadata: `key` is a dotted path ("model.hidden")."""

    def edit(meta: dict) -> None:
        *parents, last = key.split(".")
        for p in parents:
            meta = meta[p]
        meta[last] = value

    return edit


def _weight(name: str, value: torch.Tensor) -> Callable[[dict], None]:
    def edit(tensors: dict) -> None:
        tensors[name] = value

    return edit


def _folder_without_images(path: Path) -> None:
    path.mkdir()
    (path / "notes.txt").write_text("not an image")
    (path / "fake.png").write_text("not a png either")


@dataclass(frozen=True)
class Case:
    name: str  # the file or folder the test creates
    write: Callable[[Path], None]
    message: str  # what the error must say (besides the file's name)
    checkpoint: bool = False  # opened as a model rather than a dataset


CASES = [
    Case("empty.npy", lambda p: p.write_bytes(b""), "the file is empty"),
    Case("empty.npz", lambda p: p.write_bytes(b""), "the file is empty"),
    Case("empty-images-idx3-ubyte.gz", lambda p: p.write_bytes(b""), "the file is empty"),
    Case("empty.safetensors", lambda p: p.write_bytes(b""), "the file is empty", True),
    Case("folder.safetensors", lambda p: p.mkdir(), "is a folder, not a file", True),
    Case(
        "no images",
        _folder_without_images,
        "no readable images in it (looked for bmp, gif, jpeg, jpg, png, tif, tiff, webp; "
        "1 could not be decoded)",
    ),
    Case("huge-images-idx3-ubyte", _idx_claiming_gigabytes, "promises (3265306, 28, 28)"),
    Case(  # a .gz can only be measured by unpacking it: its claim meets the budget first
        "huge-images-idx3-ubyte.gz",
        _idx_claiming_gigabytes,
        "the IDX array (3265306, 28, 28) needs 2.4 GiB, more than",
    ),
    Case(
        "nan.npy",
        _save("nan.npy", np.where(DIGIT == 0, np.nan, 1.0)),
        "3136 pixel values are NaN or infinite",
    ),
    Case(
        "range.npy", _save("range.npy", DIGIT.astype(float) - 5), "pixel values run from -5 to -5"
    ),
    Case(
        "labels.npz",
        _save("labels.npz", DIGIT, y=np.array([0, 1, 2, 2**40])),
        "labels must be class numbers below 10,000, found 1,099,511,627,776",
    ),
    Case("bomb.npz", _npz_bomb, "needs 0.1 GiB, more than the 0.0 GiB this machine can spare"),
    Case("liar.npz", _npz_liar, "declares an array of shape (1000000, 1000, 1000)"),
    Case("liar.npy", lambda p: p.write_bytes(_npy_header((10**9, 9)) + bytes(9)), "damaged"),
    # What hostile testing found (issue 22): every size, type and count a file claims
    # is checked before it decides an allocation; a FIFO is never opened.
    Case("fifo.npz", _fifo, "not a regular file (a FIFO)"),
    Case("fifo.safetensors", _fifo, "not a regular file (a FIFO)", True),
    Case("durations.npy", _npy_of_durations, "images must be integers or floats, got timedelta64"),
    Case(  # 2**64 bytes: a product that wraps to 0 in 64 bits, for an empty file
        "wrap-images-idx3-ubyte",
        _idx_of_dims(2**16, 2**16, 2**16, 2**16),
        "promises (65536, 65536, 65536, 65536) (18,446,744,073,709,551,616 bytes",
    ),
    Case("zero-images-idx3-ubyte", _idx_of_dims(0, 28, 28), "declares an empty array (0, 28, 28)"),
    Case(
        "144 megapixels",
        _png_folder((12_000, 12_000), 1, mode="1"),
        "an image of 12,000×12,000 pixels, more than the 67 megapixels",
    ),
    Case(
        "big decoded",
        _png_folder((1700, 1700), 5),
        "5 images of 1700×1700 needs 0.0 GiB, more than the 0.0 GiB",
    ),
    Case(
        "wide.safetensors",
        tampered(_set("model.hidden", [400_000])),
        "a hidden layer's width must be between 1 and 16,384, got 400,000",
        True,
    ),
    Case(
        "liar.safetensors",
        tampered(_set("model.hidden", [16_000])),
        "decoder.0.0.weight is (4, 2), expected (16000, 2)",
        True,
    ),
    Case(
        "version.safetensors",
        tampered(_set("version", "1")),
        "the format version must be a whole number, got '1'",
        True,
    ),
    Case(
        "float latent.safetensors",
        tampered(_set("model.latent_dim", 2.5)),
        "latent size must be a whole number, got 2.5",
        True,
    ),
    Case(
        "number hidden.safetensors",
        tampered(_set("model.hidden", 4)),
        "hidden sizes must be a list, got 4",
        True,
    ),
    Case(
        "nested.safetensors",
        lambda p: write_checkpoint(p, '{"format": ' + "[" * 100_000 + "]" * 100_000 + "}"),
        "metadata is nested too deeply",
        True,
    ),
    Case(
        "three million.safetensors",
        tampered(_set("dataset.num_images", 3_000_000)),
        "digits: the number of images must be from 1 to 200,000, got 3,000,000",
        True,
    ),
    Case(
        "nan.safetensors",
        tampered(edit_weights=_weight("decoder.0.0.bias", torch.full((4,), math.nan))),
        "the weights hold NaN or infinite values (decoder.0.0.bias)",
        True,
    ),
    Case(
        "bool.safetensors",
        tampered(edit_weights=_weight("decoder.0.0.bias", torch.ones(4, dtype=torch.bool))),
        "decoder.0.0.bias holds BOOL values, not floating point",
        True,
    ),
]


@pytest.fixture
def small_memory(monkeypatch):
    """A machine that can spare 32 MB for a dataset array (so a bomb stays test-sized)."""
    monkeypatch.setattr("explorer.core.files.memory_budget", lambda: 32 << 20)


def make(case: Case, folder: Path) -> Path:
    path = folder / "données et espaces" / case.name  # unicode and spaces in every path
    path.parent.mkdir(exist_ok=True)
    case.write(path)
    return path


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_readers_refuse_with_the_file_and_the_problem(case, tmp_path, small_memory):
    path = make(case, tmp_path)
    tracemalloc.start()
    try:
        with pytest.raises(ExplorerError) as err:
            (load_checkpoint if case.checkpoint else open_dataset)(path)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert str(path) in str(err.value) and case.message in str(err.value)
    assert peak < 40 << 20  # no reader allocated what a lying header asked for


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_the_cli_says_it_in_one_line(case, tmp_path, small_memory, capsys):
    path = make(case, tmp_path)
    if case.checkpoint:
        argv = ["evaluate", str(path), "--dataset", "digits", "--count", "10"]
    else:
        argv = ["train", "--dataset", str(path), "--epochs", "1", "--out", str(tmp_path / "m")]
    assert cli.main(argv) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith(f"error: {path}") and case.message in err[0]


def test_the_window_shows_each_and_keeps_what_it_had(qtbot, window, tmp_path, small_memory):
    from PySide6.QtWidgets import QMessageBox

    model, dataset, codes = window.session.model, window.session.dataset, window.session.codes
    for case in CASES:
        path = make(case, tmp_path)
        with qtbot.waitSignal(window.errorShown, timeout=10_000) as shown:
            if case.checkpoint:
                window.open_checkpoint(path)
            else:
                window.open_dataset(path)
        assert str(path) in shown.args[0] and case.message in shown.args[0], case.name
        for box in window.findChildren(QMessageBox):
            box.close()
    s = window.session
    assert (s.model, s.dataset, s.codes) == (model, dataset, codes)


def test_no_permission_to_read(tmp_path, monkeypatch):
    """Permissions are not enforced for root (CI), so the OS's refusal is simulated."""
    path = tmp_path / "secret.npz"
    np.savez(path, x=DIGIT)
    real_open = open

    def guarded_open(file, *args, **kwargs):
        if Path(file) == path:
            raise PermissionError(13, "Permission denied", str(file))
        return real_open(file, *args, **kwargs)

    monkeypatch.setattr("builtins.open", guarded_open)
    with pytest.raises(ExplorerError, match=r"secret\.npz: no permission to read it"):
        open_dataset(path)


def test_a_one_image_dataset_opens_and_trains(qtbot, window, tmp_path):
    from PySide6.QtCore import Qt
    from PySide6.QtTest import QTest

    np.save(tmp_path / "one.npy", DIGIT[:1] + 200)
    window.open_dataset(tmp_path / "one.npy")
    qtbot.waitUntil(
        lambda: window.session.dataset.name == "one" and window.session.codes is not None
    )
    assert window.session.codes.shape == (1, 2)
    window.panel.epochs_spin.setValue(2)
    with qtbot.waitSignal(window.trainer.finished, timeout=30_000) as done:
        QTest.mouseClick(window.panel.train_button, Qt.MouseButton.LeftButton)
    assert done.args[0].status == "completed"


def test_a_checkpoints_dataset_that_is_a_fifo_is_refused_not_waited_on(qtbot, window, tmp_path):
    """The dataset path a checkpoint records may be a FIFO by now: opening it would wait
    for a writer forever; it is refused in one line instead."""
    from PySide6.QtWidgets import QMessageBox

    from explorer.core.checkpoint import Checkpoint, save_checkpoint
    from explorer.core.config import ModelConfig
    from explorer.core.kinds import build_model

    fifo = tmp_path / "images.npy"
    os.mkfifo(fifo)
    model = build_model(ModelConfig(image_shape=(1, 8, 8), hidden=(4,)))
    path = save_checkpoint(
        tmp_path / "m.safetensors",
        Checkpoint(model=model, dataset={"name": "images", "source": str(fifo)}),
    )
    with qtbot.waitSignal(window.errorShown, timeout=10_000) as shown:
        window.open_checkpoint(path)
    assert f"{fifo}: not a regular file (a FIFO)" in shown.args[0]
    for box in window.findChildren(QMessageBox):
        box.close()


def test_no_new_model_too_big_for_memory(qtbot, window, tmp_path):
    """Images a model of the panel's settings would need over 100 M weights for: choosing
    a new model for them says so and keeps what the window showed."""
    from PySide6.QtCore import Qt
    from PySide6.QtTest import QTest
    from PySide6.QtWidgets import QMessageBox, QPushButton

    folder = tmp_path / "photos"
    folder.mkdir()
    Image.new("RGB", (1000, 1000), (200, 30, 30)).save(folder / "a.png")
    model, dataset = window.session.model, window.session.dataset
    window.open_dataset(folder)
    qtbot.waitUntil(lambda: window.findChild(QPushButton, "newModelButton") is not None)
    with qtbot.waitSignal(window.errorShown, timeout=10_000) as shown:
        QTest.mouseClick(window.findChild(QPushButton, "newModelButton"), Qt.MouseButton.LeftButton)
    assert "3×1000×1000 images would have" in shown.args[0]
    assert "more than the limit of 100,000,000" in shown.args[0]
    assert (window.session.model, window.session.dataset) == (model, dataset)
    for box in window.findChildren(QMessageBox):
        box.close()
